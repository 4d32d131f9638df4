package io.tokensieve.datasets.formats;

import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.Fixtures;
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

class GqaTextVqaPopeLoaderTest {
    @TempDir
    Path tmp;

    @Test
    void gqaReadsTheQuestionMap() {
        Path root = Fixtures.path("gqa");
        List<Sample> s = Fixtures.load("gqa:" + root);
        assertEquals(List.of("201307251", "201640614", "20968379"), s.stream().map(Sample::id).toList());
        assertEquals(List.of("no"), s.get(0).references());
        assertEquals(root.resolve("images/n161313.jpg"), s.get(0).images().get(0));
        assertEquals("<image>\nIs it overcast?\nAnswer the question using a single word or phrase.", s.get(0).prompt());
        assertEquals(Map.of("detailed", "weatherVerify", "semantic", "global", "structural", "verify"),
                s.get(0).extra().get("types"));
    }

    @Test
    void gqaSplitPicksTheFile() {
        Path root = Fixtures.path("gqa");
        assertEquals(3, Fixtures.load("gqa:" + root + "?split=testdev_balanced").size());
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("gqa:" + root + "?split=val_balanced"));
        assertTrue(e.getMessage().contains(root + ": no GQA questions file (val_balanced_questions.json)"), e.getMessage());
    }

    @Test
    void gqaMissingAnswerIsNamed() throws Exception {
        Path root = Fixtures.copy("gqa", tmp);
        Path f = root.resolve("testdev_balanced_questions.json");
        Files.writeString(f, Files.readString(f).replaceAll("\"answer\": \"man\",\\s*", ""));
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("gqa:" + root));
        assertTrue(e.getMessage().contains(f + ": entry '201640614' (questionId 201640614): missing key 'answer'"),
                e.getMessage());
    }

    @Test
    void textVqaPromptsWithAndWithoutOcrTokens() {
        Path root = Fixtures.path("textvqa");
        Sample plain = Fixtures.load("textvqa:" + root).get(0);
        assertEquals("34602", plain.id());
        assertEquals("<image>\nWhat is the brand of this camera?\nAnswer the question using a single word or phrase.",
                plain.prompt());
        assertEquals(false, plain.extra().get("textvqa_ocr_tokens"));
        Sample ocr = Fixtures.load("textvqa:" + root + "?ocr=true").get(0);
        assertEquals("<image>\nWhat is the brand of this camera?\nReference OCR token: DAKOTA, DIGITAL\n"
                + "Answer the question using a single word or phrase.", ocr.prompt());
        assertEquals(true, ocr.extra().get("textvqa_ocr_tokens"));
        assertEquals(root.resolve("train_images/003a8ae2ef43b901.jpg"), ocr.images().get(0));
        assertEquals(10, ocr.references().size());
    }

    @Test
    void textVqaUsesTheRosettaFileWhenRecordsLackTokens() throws Exception {
        Path root = Fixtures.copy("textvqa", tmp);
        Path f = root.resolve("TextVQA_0.5.1_val.json");
        Files.writeString(f, Files.readString(f).replace(", \"ocr_tokens\": [\"DAKOTA\", \"DIGITAL\"]", ""));
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("textvqa:" + root + "?ocr=true"));
        assertTrue(e.getMessage().contains("(question_id 34602): ocr=true but the record has no 'ocr_tokens'"), e.getMessage());
        Files.writeString(root.resolve("TextVQA_Rosetta_OCR_v0.2_val.json"),
                "{\"data\": [{\"dataset_name\": \"textvqa\"}, {\"image_id\": \"003a8ae2ef43b901\", \"ocr_tokens\": [\"nikon\"]}]}");
        assertTrue(Fixtures.load("textvqa:" + root + "?ocr=true").get(0).prompt().contains("Reference OCR token: nikon\n"));
    }

    @Test
    void popeReadsSubsetsWithQualifiedIds() {
        Path root = Fixtures.path("pope");
        List<Sample> s = Fixtures.load("pope:" + root);
        assertEquals(List.of("random/1", "random/2", "random/3", "random/4", "adversarial/1", "adversarial/2",
                "adversarial/3", "adversarial/4"), s.stream().map(Sample::id).toList());
        assertEquals(List.of("yes"), s.get(0).references());
        assertEquals("random", s.get(0).extra().get("subset"));
        assertEquals(root.resolve("val2014/COCO_val2014_000000210789.jpg"), s.get(2).images().get(0));
        assertEquals("<image>\nIs there a snowboard in the image?\nAnswer the question using a single word or phrase.",
                s.get(0).prompt());
        List<Sample> adv = Fixtures.load("pope:" + root + "?subsets=adversarial");
        assertEquals(4, adv.size());
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("pope:" + root + "?subsets=popular"));
        assertTrue(e.getMessage().contains("coco_pope_popular.json not found"), e.getMessage());
    }

    @Test
    void popeSkipsABadLine() throws Exception {
        Path root = Fixtures.copy("pope", tmp);
        Path f = root.resolve("coco_pope_random.json");
        List<String> lines = new ArrayList<>(Files.readAllLines(f));
        lines.set(1, "{\"question_id\": 2, \"image\": \"COCO_val2014_000000310196.jpg\", \"text\": \"Is there");
        lines.set(2, lines.get(2).replace("\"label\": \"no\"", "\"label\": \"maybe\""));
        Files.write(f, lines);
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("pope:" + root));
        assertTrue(e.getMessage().startsWith(f + ": line 2: invalid JSON"), e.getMessage());
        List<DatasetException> skipped = new ArrayList<>();
        List<Sample> s = Fixtures.loadSkipping("pope:" + root, skipped);
        assertEquals(6, s.size());
        assertEquals(2, skipped.size());
        assertTrue(skipped.get(1).getMessage().contains(f + ": line 3 (question_id 3): 'label' must be yes or no"),
                skipped.get(1).getMessage());
    }
}
