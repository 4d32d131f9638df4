package io.tokensieve.datasets.formats;

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
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VqaV2LoaderTest {
    @TempDir
    Path tmp;

    @Test
    void readsQuestionsJoinedWithAnnotations() {
        Path root = Fixtures.path("vqav2");
        List<Sample> s = Fixtures.load("vqav2:" + root);
        assertEquals(List.of("421", "730", "731"), s.stream().map(Sample::id).toList());
        Sample cat = s.get(0);
        assertEquals("vqav2", cat.format());
        assertEquals("What color is the cat?", cat.question());
        assertEquals("<image>\nWhat color is the cat?\nAnswer the question using a single word or phrase.", cat.prompt());
        assertEquals(List.of(root.resolve("val2014/COCO_val2014_000000000042.jpg")), cat.images());
        assertEquals(10, cat.references().size());
        assertEquals("dark gray", cat.references().get(7));
        assertEquals("other", cat.extra().get("answer_type"));
        assertEquals("what color is the", cat.extra().get("question_type"));
        assertEquals(root.resolve("val2014/COCO_val2014_000000000073.png"), s.get(1).images().get(0));
        assertEquals(List.of("2", "2", "2", "2", "2", "2", "2", "2", "2", "2"), s.get(1).references());
    }

    @Test
    void iteratesAgainWithoutReopening() {
        Iterable<Sample> d = Datasets.defaultRegistry().open("vqav2:" + Fixtures.path("vqav2"), LoadOptions.strict());
        int n = 0;
        for (Sample ignored : d) {
            n++;
        }
        for (Sample ignored : d) {
            n++;
        }
        assertEquals(6, n);
    }

    @Test
    void acceptsImagesInAnImagesFolder() throws Exception {
        Path root = Fixtures.copy("vqav2", tmp);
        Files.move(root.resolve("val2014"), root.resolve("images"));
        List<Sample> s = Fixtures.load("vqav2:" + root);
        assertEquals(root.resolve("images/COCO_val2014_000000000042.jpg"), s.get(0).images().get(0));
    }

    @Test
    void missingKeyNamesFileAndRecordAndCanBeSkipped() throws Exception {
        Path root = Fixtures.copy("vqav2", tmp);
        Path q = root.resolve("v2_OpenEnded_mscoco_val2014_questions.json");
        Files.writeString(q, Files.readString(q).replace("\"question\": \"How many dogs are there?\", ", ""));
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("vqav2:" + root));
        assertTrue(e.getMessage().contains(q + ": record 1 (question_id 730): missing key 'question'"), e.getMessage());

        List<DatasetException> skipped = new ArrayList<>();
        List<Sample> s = Fixtures.loadSkipping("vqav2:" + root, skipped);
        assertEquals(List.of("421", "731"), s.stream().map(Sample::id).toList());
        assertEquals(1, skipped.size());
    }

    @Test
    void wrongTypeIsNamed() throws Exception {
        Path root = Fixtures.copy("vqav2", tmp);
        Path q = root.resolve("v2_OpenEnded_mscoco_val2014_questions.json");
        Files.writeString(q, Files.readString(q).replace("\"image_id\": 73, \"question\": \"Is it sunny?\"",
                "\"image_id\": \"73\", \"question\": \"Is it sunny?\""));
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("vqav2:" + root));
        assertTrue(e.getMessage().contains("(question_id 731): 'image_id' must be an integer, got a string"), e.getMessage());
    }

    @Test
    void badAnnotationCountIsNamed() throws Exception {
        Path root = Fixtures.copy("vqav2", tmp);
        Path a = root.resolve("v2_mscoco_val2014_annotations.json");
        String text = Files.readString(a);
        int i = text.indexOf("{\"answer\": \"no\"");
        Files.writeString(a, text.substring(0, i - 2) + text.substring(text.indexOf("}", i) + 1));
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("vqav2:" + root));
        assertTrue(e.getMessage().contains("(question_id 731): 'answers' must hold 10 answers, got 9"), e.getMessage());
    }

    @Test
    void missingImageIsNamedAndCanBeSkipped() throws Exception {
        Path root = Fixtures.copy("vqav2", tmp);
        Files.delete(root.resolve("val2014/COCO_val2014_000000000042.jpg"));
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("vqav2:" + root));
        assertTrue(e.getMessage().contains("(question_id 421): image not found (tried " + root.resolve("val2014")), e.getMessage());
        List<DatasetException> skipped = new ArrayList<>();
        assertEquals(2, Fixtures.loadSkipping("vqav2:" + root, skipped).size());
        assertEquals(1, skipped.size());
        // scoring only needs the answers
        List<Sample> all = new ArrayList<>();
        Datasets.defaultRegistry().open("vqav2:" + root, LoadOptions.strict().withCheckImages(false)).forEach(all::add);
        assertEquals(3, all.size());
    }

    @Test
    void badJsonNamesFileLineAndColumn() throws Exception {
        Path root = Fixtures.copy("vqav2", tmp);
        Path q = root.resolve("v2_OpenEnded_mscoco_val2014_questions.json");
        Files.writeString(q, Files.readString(q).replace("\"question_id\": 730}", "\"question_id\": 730,,}"));
        Iterator<Sample> it = Datasets.defaultRegistry().open("vqav2:" + root, LoadOptions.skipping(e -> { })).iterator();
        DatasetException e = assertThrows(DatasetException.class, () -> {
            while (it.hasNext()) {
                it.next();
            }
        });
        assertTrue(e.getMessage().startsWith(q + ": invalid JSON at line 1, column"), e.getMessage());
    }

    @Test
    void missingFilesAreNamed() throws Exception {
        Path root = Fixtures.copy("vqav2", tmp);
        Files.delete(root.resolve("v2_mscoco_val2014_annotations.json"));
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("vqav2:" + root));
        assertTrue(e.getMessage().contains(root + ": no VQAv2 annotations file"), e.getMessage());
        assertFalse(e.getMessage().contains("Exception"));
    }
}
