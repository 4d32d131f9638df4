package io.tokensieve.datasets.formats;

import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.Fixtures;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.scene.SceneViews;
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

class SceneAndIclLoaderTest {
    @TempDir
    Path tmp;

    @Test
    void scanQaSamplesViewsUniformly() {
        Path root = Fixtures.path("scan3d");
        List<Sample> s = Fixtures.load("scanqa:" + root + "?views=2");
        assertEquals(List.of("val-scene0011-0", "val-scene0011-1", "val-scene0011-2"), s.stream().map(Sample::id).toList());
        Sample q = s.get(0);
        Path scene = root.resolve("posed_images/scene0011_00");
        // 4 frames, 2 views: stride 2 -> frames 0 and 40
        assertEquals(List.of(scene.resolve("0.jpg"), scene.resolve("40.jpg")), q.images());
        assertEquals("<image>\n<image>\nWhat is in the right corner of room by curtains?\n"
                + "Answer the question using a single word or phrase.", q.prompt());
        assertEquals(List.of("brown wooden table"), q.references());
        List<?> views = (List<?>) q.extra().get(SceneViews.VIEWS);
        assertEquals(scene.resolve("40.png").toString(), ((Map<?, ?>) views.get(1)).get("depth"));
        assertEquals(scene.resolve("40.txt").toString(), ((Map<?, ?>) views.get(1)).get("pose"));
        assertEquals(scene.resolve("intrinsic.txt").toString(), q.extra().get(SceneViews.INTRINSIC));
        assertEquals(scene.resolve("axis_align.txt").toString(), q.extra().get(SceneViews.AXIS_ALIGN));
        // default 3 views; a 6-view request on 4 frames repeats them cyclically
        assertEquals(3, Fixtures.load("scanqa:" + root).get(0).images().size());
        List<Path> six = Fixtures.load("scanqa:" + root + "?views=6").get(0).images();
        assertEquals(List.of("0.jpg", "20.jpg", "40.jpg", "60.jpg", "0.jpg", "20.jpg"),
                six.stream().map(p -> p.getFileName().toString()).toList());
    }

    @Test
    void scanQaMissingSceneIsNamed() throws Exception {
        Path root = Fixtures.copy("scan3d", tmp);
        Path f = root.resolve("ScanQA_v1.0_val.json");
        Files.writeString(f, Files.readString(f).replaceFirst("\"scene_id\": \"scene0011_00\"", "\"scene_id\": \"scene0099_00\""));
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("scanqa:" + root));
        assertTrue(e.getMessage().contains("record 0 (question_id val-scene0011-0): ")
                && e.getMessage().contains("scene0099_00: scene folder not found"), e.getMessage());
        List<DatasetException> skipped = new ArrayList<>();
        assertEquals(2, Fixtures.loadSkipping("scanqa:" + root, skipped).size());
        assertEquals(1, skipped.size());
    }

    @Test
    void sqa3dJoinsAnswersAndTypesQuestions() {
        List<Sample> s = Fixtures.load("sqa3d:" + Fixtures.path("scan3d"));
        assertEquals(List.of("220602000000", "220602000001", "220602000002"), s.stream().map(Sample::id).toList());
        assertEquals(List.of("chair"), s.get(0).references());
        assertEquals("<image>\n<image>\n<image>\nI am facing a table. What is on my left?\n"
                + "Answer the question using a single word or phrase.", s.get(0).prompt());
        assertEquals(List.of(0, 1, 2), s.stream().map(x -> x.extra().get("question_type")).toList());
        assertEquals(5, Sqa3dLoader.questionType("Where is the door?"));
        assertEquals(4, Sqa3dLoader.questionType("  Which chair is closer?"));
    }

    @Test
    void iclBuildsTheInterleavedPrompt() {
        Path root = Fixtures.path("icl");
        List<Sample> s = Fixtures.load("icl:" + root);
        Sample ep1 = s.get(0);
        assertEquals("ep1", ep1.id());
        assertEquals("Answer with a single word or phrase.\n"
                + "<image>\nQuestion: What color is the shape?\nShort answer: red\n\n"
                + "<image>\nQuestion: What color is the shape?\nShort answer: blue\n\n"
                + "<image>\nQuestion: What color is the shape?\nShort answer:", ep1.prompt());
        assertEquals(List.of(root.resolve("images/red.png"), root.resolve("images/blue.png"),
                root.resolve("images/green.png")), ep1.images());
        assertEquals(List.of("green"), ep1.references());
        assertEquals(List.of("2", "two"), s.get(1).references());
        assertEquals(2, Fixtures.load("icl:" + root.resolve("episodes.jsonl")).size());
    }

    @Test
    void iclMissingQueryIsNamedAndSkippable() throws Exception {
        Path root = Fixtures.copy("icl", tmp);
        Path f = root.resolve("episodes.jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(f));
        lines.set(0, lines.get(0).replaceFirst(", \"query\": \\{[^}]*}", ""));
        Files.write(f, lines);
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("icl:" + root));
        assertTrue(e.getMessage().contains(f + ": line 1 (id ep1): missing key 'query'"), e.getMessage());
        List<DatasetException> skipped = new ArrayList<>();
        assertEquals(List.of("ep2"), Fixtures.loadSkipping("icl:" + root, skipped).stream().map(Sample::id).toList());
    }
}
