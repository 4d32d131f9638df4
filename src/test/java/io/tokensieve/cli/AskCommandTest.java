package io.tokensieve.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sieve ask}: the JSON contract, and one-line errors for bad input. */
class AskCommandTest {
    @TempDir
    Path tmp;

    private String model() {
        return TestModels.tinyCheckpoint().toString();
    }

    @Test
    void jsonHasTheContractFieldsAndFastvShrinksLaterLayers() throws Exception {
        Path img = TestModels.rgbPng(tmp, "any.png", 120, 90, 1);
        Cli.Result plain = Cli.run("ask", "--model", model(), "--image", img.toString(), "--question", "what is this?", "--json");
        assertEquals(0, plain.code(), plain.err());
        JsonNode a = Jsons.MAPPER.readTree(plain.out());
        for (String k : new String[] {"answer", "input_ids", "output_ids", "first_token_top5", "visual_tokens_per_layer",
            "steps", "timings_ms"}) {
            assertTrue(a.has(k), "missing " + k + " in " + plain.out());
        }
        for (String k : new String[] {"vision", "projector", "prune", "prefill", "decode"}) {
            assertTrue(a.get("timings_ms").has(k), k);
        }
        assertEquals(5, a.get("first_token_top5").size());
        assertTrue(a.get("first_token_top5").get(0).has("logprob"));
        long placeholders = 0;
        for (JsonNode id : a.get("input_ids")) {
            placeholders += id.asLong() == 4 ? 1 : 0;
        }
        assertEquals(1, placeholders, "one image placeholder id before expansion");
        assertEquals("[64,64,64,64]", a.get("visual_tokens_per_layer").toString());

        Cli.Result pruned = Cli.run("ask", "--model", model(), "--image", img.toString(), "--question", "what is this?",
                "--json", "--pruner", "fastv:layer=2,keep=0.25");
        assertEquals(0, pruned.code(), pruned.err());
        JsonNode b = Jsons.MAPPER.readTree(pruned.out());
        assertEquals("[64,64,16,16]", b.get("visual_tokens_per_layer").toString());
        assertEquals("BEFORE_LAYER(2)", b.get("steps").get(0).get("hook").asText());
        assertEquals(16, b.get("steps").get(0).get("kept").size());
    }

    @Test
    void grayRgbaAndSixteenBitImagesWork() {
        for (Path img : new Path[] {TestModels.grayPng(tmp, "g.png", 60, 40), TestModels.rgbaPng(tmp, "a.png", 50, 70),
            TestModels.gray16Png(tmp, "w.png", 90, 33)}) {
            Cli.Result r = Cli.run("ask", "--model", model(), "--image", img.toString(), "--question", "what is this?",
                    "--max-new-tokens", "2");
            assertEquals(0, r.code(), img + ": " + r.err());
        }
    }

    @Test
    void badInputExitsNonZeroWithOneLineNamingTheProblem() throws Exception {
        Path good = TestModels.rgbPng(tmp, "good.png", 60, 60, 2);
        Path empty = Files.createFile(tmp.resolve("empty.png"));
        Path text = Files.writeString(tmp.resolve("text.png"), "hello");
        byte[] bytes = Files.readAllBytes(good);
        Path cut = Files.write(tmp.resolve("cut.png"), Arrays.copyOf(bytes, bytes.length - 20));
        String[][] cases = {
            {"--image", tmp.resolve("missing.png").toString(), "missing.png: file not found"},
            {"--image", empty.toString(), "empty file"},
            {"--image", text.toString(), "not a decodable image"},
            {"--image", cut.toString(), "truncated PNG"},
            {"--question", "   ", "--question is empty"},
            {"--pruner", "bogus:keep=0.5", "unknown pruner 'bogus'"},
            {"--pruner", "fastv:layer=x", "parameter layer must be an integer"},
            {"--pruner", "fastv:depth=3", "unknown parameter 'depth'"},
            {"--pruner", "fastv:keep=0", "budget must be positive"},
            {"--pruner", "fastv:keep=-5", "budget must be positive"},
            {"--pruner", "fastv:keep=500", "above the 64 visual tokens"},
            {"--pruner", "fastv:layer=0", "layer must be at least 1"},
            {"--max-new-tokens", "-1", "max new tokens must be >= 0"},
        };
        for (String[] c : cases) {
            java.util.Map<String, String> opts = new java.util.LinkedHashMap<>();
            opts.put("--model", model());
            opts.put("--image", good.toString());
            opts.put("--question", "what?");
            opts.put(c[0], c[1]);
            java.util.List<String> list = new java.util.ArrayList<>(java.util.List.of("ask"));
            opts.forEach((k, v) -> {
                list.add(k);
                list.add(v);
            });
            String[] all = list.toArray(new String[0]);
            Cli.Result r = Cli.run(all);
            String expect = c[c.length - 1];
            assertNotEquals(0, r.code(), String.join(" ", c));
            assertTrue(r.err().contains(expect), "expected '" + expect + "' in: " + r.err());
            assertEquals(1, r.err().strip().lines().filter(l -> l.startsWith("sieve")).count(), r.err());
            assertFalse(r.err().contains("\tat "), "stack trace in: " + r.err());
        }
    }

    @Test
    void maskOutNeedsAMaskHeadAndOneImage() {
        Path img = TestModels.rgbPng(tmp, "m.png", 60, 60, 4);
        Path out = tmp.resolve("mask.png");
        Cli.Result noHead = Cli.run("ask", "--model", model(), "--image", img.toString(), "--question", "the red circle",
                "--mask-out", out.toString());
        assertEquals(2, noHead.code(), noHead.err());
        assertTrue(noHead.err().contains("no [SEG] mask head"), noHead.err());
        String extras = TestModels.extrasCheckpoint().toString();
        Cli.Result two = Cli.run("ask", "--model", extras, "--image", img.toString(), "--image", img.toString(),
                "--question", "the red circle", "--mask-out", out.toString());
        assertEquals(2, two.code(), two.err());
        assertTrue(two.err().contains("--mask-out segments one image, got 2"), two.err());
        assertFalse(Files.exists(out), "nothing written on an error");
        Cli.Result ok = Cli.run("ask", "--model", extras, "--image", img.toString(), "--question", "Which shape is at the top?",
                "--mask-out", out.toString(), "--json");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.json().get("prompt").asText().endsWith("Which shape is at the top? Please output segmentation mask."));
        assertTrue(Files.isRegularFile(out));
    }

    @Test
    void prunersJsonListsParameters() throws Exception {
        Cli.Result r = Cli.run("pruners", "--json");
        assertEquals(0, r.code());
        JsonNode n = Jsons.MAPPER.readTree(r.out());
        boolean fastv = false;
        for (JsonNode p : n.get("pruners")) {
            if (p.get("id").asText().equals("fastv")) {
                fastv = true;
                assertEquals("layer", p.get("parameters").get(0).get("name").asText());
                assertEquals("2", p.get("parameters").get(0).get("default").asText());
            }
        }
        assertTrue(fastv);
    }

    @Test
    void infoAndInitRandom() throws Exception {
        Path out = tmp.resolve("m");
        assertEquals(0, Cli.run("init-random", "--out", out.toString(), "--seed", "3").code());
        Cli.Result r = Cli.run("info", "--model", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode n = Jsons.MAPPER.readTree(r.out());
        assertEquals(64, n.get("visual_tokens_per_image").asInt());
        assertEquals(4, n.get("text").get("layers").asInt());
        Cli.Result bad = Cli.run("info", "--model", tmp.resolve("nothing").toString());
        assertNotEquals(0, bad.code());
        assertTrue(bad.err().contains("config.json: file not found"), bad.err());
    }
}
