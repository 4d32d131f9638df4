package io.tokensieve.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sieve shapes}: reruns give identical bytes; bad input is one line on stderr and exit code 2. */
class ShapesCommandTest {
    @TempDir
    Path tmp;

    @Test
    void sameArgumentsGiveIdenticalFiles() throws IOException {
        String[][] runs = {
            {"--track", "vqa", "--n", "9", "--seed", "11"},
            {"--track", "pope", "--n", "12", "--seed", "11"},
            {"--track", "seg", "--n", "4", "--seed", "11", "--split", "test"},
            {"--track", "icl", "--n", "3", "--seed", "11", "--shots", "3"},
            {"--track", "3d", "--n", "5", "--seed", "11", "--views", "2"},
        };
        for (String[] args : runs) {
            Path a = tmp.resolve(args[1] + "-a");
            Path b = tmp.resolve(args[1] + "-b");
            assertEquals(0, Main.run(concat("shapes", args, "--out", a.toString())));
            assertEquals(0, Main.run(concat("shapes", args, "--out", b.toString())));
            List<Path> fa = files(a);
            List<Path> fb = files(b);
            assertEquals(fa.stream().map(a::relativize).toList(), fb.stream().map(b::relativize).toList());
            assertTrue(fa.size() >= 3, args[1]);
            for (int i = 0; i < fa.size(); i++) {
                assertArrayEquals(Files.readAllBytes(fa.get(i)), Files.readAllBytes(fb.get(i)), fa.get(i).toString());
            }
        }
        assertTrue(Files.exists(tmp.resolve("seg-a/test/shapes_000000.json")), "--split names the folder");
        assertTrue(Files.exists(tmp.resolve("3d-a/posed_images/scene0001_00/00020_depth.png")), "two views per scene");
        assertTrue(Files.readString(tmp.resolve("icl-a/icl.jsonl")).contains("_demo2.png"), "three shots");
    }

    @Test
    void badInputIsAOneLineError() throws IOException {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        String[][] bad = {
            {"shapes", "--track", "video", "--n", "3", "--seed", "1", "--out", tmp.toString()},
            {"shapes", "--track", "vqa", "--n", "0", "--seed", "1", "--out", tmp.toString()},
            {"shapes", "--track", "vqa", "--n", "-4", "--seed", "1", "--out", tmp.toString()},
            {"shapes", "--track", "vqa", "--n", "3", "--seed", "1", "--out", file.toString()},
            {"shapes", "--track", "vqa", "--n", "3", "--seed", "1", "--out", file.resolve("sub").toString()},
            {"shapes", "--track", "3d", "--n", "3", "--seed", "1", "--views", "0", "--out", tmp.toString()},
        };
        for (String[] args : bad) {
            PrintStream old = System.err;
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code;
            try {
                System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
                code = Main.run(args);
            } finally {
                System.setErr(old);
            }
            String text = err.toString(StandardCharsets.UTF_8).trim();
            assertEquals(2, code, String.join(" ", args));
            assertEquals(1, text.lines().count(), text);
            assertTrue(text.startsWith("sieve shapes: error: "), text);
        }
    }

    private static String[] concat(String first, String[] middle, String... last) {
        return Stream.of(new String[] {first}, middle, last).flatMap(Stream::of).toArray(String[]::new);
    }

    private static List<Path> files(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
