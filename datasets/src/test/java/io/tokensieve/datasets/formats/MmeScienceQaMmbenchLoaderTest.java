package io.tokensieve.datasets.formats;

import io.tokensieve.core.image.ImageDecoder;
import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.Datasets;
import io.tokensieve.datasets.Fixtures;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.datasets.Sample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MmeScienceQaMmbenchLoaderTest {
    @TempDir
    Path tmp;

    @Test
    void mmeReadsBothLayouts() {
        Path root = Fixtures.path("mme");
        List<Sample> s = Fixtures.load("mme:" + root);
        assertEquals(List.of("existence/000000006040.jpg/0", "existence/000000006040.jpg/1", "existence/000000018150.jpg/0",
                "existence/000000018150.jpg/1", "code_reasoning/0020.png/0", "code_reasoning/0020.png/1"),
                s.stream().map(Sample::id).toList());
        Sample first = s.get(0);
        assertEquals("Is there a train in this image? Please answer yes or no.", first.question());
        assertEquals("<image>\nIs there a train in this image?\nAnswer the question using a single word or phrase.",
                first.prompt());
        assertEquals(List.of("Yes"), first.references());
        assertEquals("perception", first.extra().get("category"));
        assertEquals(root.resolve("existence/000000006040.jpg"), first.images().get(0));
        assertEquals(root.resolve("code_reasoning/images/0020.png"), s.get(4).images().get(0));
        assertEquals("cognition", s.get(4).extra().get("category"));
        Sample original = Fixtures.load("mme:" + root + "?prompt=original").get(0);
        assertEquals("<image>\nIs there a train in this image? Please answer yes or no.", original.prompt());
    }

    @Test
    void mmeBadLineIsNamed() throws Exception {
        Path root = Fixtures.copy("mme", tmp);
        Path f = root.resolve("existence/000000018150.txt");
        Files.writeString(f, "Is there a bus in this image?\tPerhaps\n");
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("mme:" + root));
        assertTrue(e.getMessage().contains(f + ": line 1: answer must be Yes or No, got 'Perhaps'"), e.getMessage());
        List<DatasetException> skipped = new ArrayList<>();
        assertEquals(4, Fixtures.loadSkipping("mme:" + root, skipped).size());
        assertEquals(1, skipped.size());
    }

    @Test
    void scienceQaImageSubsetOfTheTestSplit() {
        Path root = Fixtures.path("scienceqa");
        List<Sample> img = Fixtures.load("scienceqa:" + root);
        assertEquals(List.of("1", "4"), img.stream().map(Sample::id).toList());
        Sample four = img.get(1);
        assertEquals("<image>\nContext: A hockey player hits a puck.\nWhat is the direction of this push?\n"
                + "A. away from the hockey stick\nB. toward the hockey stick\nC. sideways\n"
                + "Answer with the option's letter from the given choices directly.", four.prompt());
        assertEquals(List.of("A"), four.references());
        assertEquals(3, ((List<?>) four.extra().get("choices")).size());
        assertEquals(root.resolve("images/test/4/image.png"), four.images().get(0));

        List<Sample> all = Fixtures.load("scienceqa:" + root + "?subset=all");
        assertEquals(List.of("1", "2", "4"), all.stream().map(Sample::id).toList());
        Sample text = all.get(1);
        assertEquals(List.of(), text.images());
        assertEquals("Context: Read the text.\nIs this a run-on sentence?\nA. yes\nB. no\n"
                + "Answer with the option's letter from the given choices directly.", text.prompt());
        assertEquals(List.of("3"), Fixtures.load("scienceqa:" + root + "?split=val").stream().map(Sample::id).toList());
    }

    @Test
    void scienceQaBadAnswerIndexIsNamed() throws Exception {
        Path root = Fixtures.copy("scienceqa", tmp);
        Path f = root.resolve("problems.json");
        String text = Files.readString(f);
        int at = text.indexOf("\"answer\": 0", text.indexOf("\"4\": {"));
        Files.writeString(f, text.substring(0, at) + "\"answer\": 3" + text.substring(at + "\"answer\": 0".length()));
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("scienceqa:" + root));
        assertTrue(e.getMessage().contains("entry '4' (pid 4): 'answer' 3 is not an index into 3 choices"), e.getMessage());
    }

    @Test
    void mmbenchExpandsCircularPassesAndDecodesImages() {
        Path root = Fixtures.path("mmbench");
        List<Sample> s = new ArrayList<>();
        Datasets.defaultRegistry().open("mmbench:" + root, LoadOptions.strict().withCacheDir(tmp)).forEach(s::add);
        assertEquals(List.of("0", "1000000", "2000000", "3000000", "1", "1000001", "2", "1000002", "2000002"),
                s.stream().map(Sample::id).toList());
        // pass k shows original option (i + k) mod N at letter i; the answer letter moves with its text
        assertEquals(List.of("B", "A", "D", "C"), s.subList(0, 4).stream().map(x -> x.references().get(0)).toList());
        assertEquals(Map.of("A", "green", "B", "blue", "C", "yellow", "D", "red"), s.get(1).extra().get("options"));
        assertEquals(List.of("C", "B", "A"), s.subList(6, 9).stream().map(x -> x.references().get(0)).toList());
        assertEquals("<image>\nWhat is the weather like?\nA. rainy\nB. sunny\n"
                + "Answer with the option's letter from the given choices directly.", s.get(5).prompt());
        assertEquals("<image>\nThe picture was taken\tin a park.\nWhich animal is shown?\nA. cat\nB. bird\nC. dog\n"
                + "Answer with the option's letter from the given choices directly.", s.get(6).prompt());
        assertEquals(0L, s.get(3).extra().get("base_index"));
        // row 2 refers to row 0's image
        assertEquals(s.get(0).images(), s.get(6).images());
        Path img = s.get(0).images().get(0);
        assertTrue(img.startsWith(tmp) && img.toString().endsWith("0.jpg"), img.toString());
        assertEquals(12, ImageDecoder.decode(img).width());
        assertEquals(10, ImageDecoder.decode(s.get(4).images().get(0)).width());

        List<Sample> once = new ArrayList<>();
        Datasets.defaultRegistry().open("mmbench:" + root + "/MMBench_DEV_EN.tsv?circular=off",
                LoadOptions.strict().withCacheDir(tmp)).forEach(once::add);
        assertEquals(List.of("0", "1", "2"), once.stream().map(Sample::id).toList());
    }

    @Test
    void mmbenchBadAnswerIsNamed() throws Exception {
        Path root = Fixtures.copy("mmbench", tmp);
        Path f = root.resolve("MMBench_DEV_EN.tsv");
        Files.writeString(f, Files.readString(f).replace("\tsunny\trainy\t\t\tA\t", "\tsunny\trainy\t\t\tC\t"));
        List<DatasetException> skipped = new ArrayList<>();
        List<Sample> s = new ArrayList<>();
        Datasets.defaultRegistry().open("mmbench:" + root, LoadOptions.skipping(skipped::add).withCacheDir(tmp))
                .forEach(s::add);
        assertEquals(7, s.size());
        assertEquals(1, skipped.size());
        assertTrue(skipped.get(0).getMessage().contains(f + ": row 1 (line 3): 'answer' must be a letter among the 2 options"),
                skipped.get(0).getMessage());
    }
}
