package io.tokensieve.datasets.shapes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tokensieve.core.image.ImageDecoder;
import io.tokensieve.core.image.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Written files: byte-identical reruns, the real formats' keys and types, and the same data as in memory. */
class ShapesFilesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SEED = 12;

    @TempDir
    Path tmp;

    @Test
    void rerunsAreByteIdenticalForEveryTrack() throws IOException {
        for (Track t : Track.values()) {
            Path a = tmp.resolve(t.id() + "-a");
            Path b = tmp.resolve(t.id() + "-b");
            write(t, 8, a);
            write(t, 8, b);
            List<Path> fa = files(a);
            List<Path> fb = files(b);
            assertEquals(fa.stream().map(a::relativize).toList(), fb.stream().map(b::relativize).toList(), t.id());
            assertTrue(fa.size() >= 3, t.id() + " wrote " + fa.size() + " files");
            for (int i = 0; i < fa.size(); i++) {
                assertArrayEquals(Files.readAllBytes(fa.get(i)), Files.readAllBytes(fb.get(i)), fa.get(i).toString());
            }
        }
    }

    @Test
    void vqaFilesAreVqav2AndMatchMemory() throws IOException {
        write(Track.VQA, 7, tmp);
        JsonNode q = JSON.readTree(tmp.resolve("v2_OpenEnded_mscoco_val2014_questions.json").toFile());
        JsonNode a = JSON.readTree(tmp.resolve("v2_mscoco_val2014_annotations.json").toFile());
        assertEquals(List.of("info", "task_type", "data_type", "license", "data_subtype", "questions"), keys(q));
        assertEquals(List.of("info", "license", "data_subtype", "annotations"), keys(a));
        assertEquals("Open-Ended", q.get("task_type").asText());
        assertEquals("val2014", a.get("data_subtype").asText());
        assertEquals(7, q.get("questions").size());
        for (int i = 0; i < 7; i++) {
            VqaExample ex = ShapesBench.vqa(SEED, i);
            JsonNode qi = q.get("questions").get(i);
            assertEquals(List.of("image_id", "question", "question_id"), keys(qi));
            assertTrue(qi.get("image_id").isInt() && qi.get("question_id").isInt());
            assertEquals(ex.question(), qi.get("question").asText());
            JsonNode ai = a.get("annotations").get(i);
            assertEquals(List.of("question_id", "image_id", "question_type", "answer_type", "multiple_choice_answer",
                    "answers"), keys(ai));
            assertEquals(ex.questionId(), ai.get("question_id").asInt());
            assertEquals(ex.family(), ai.get("question_type").asText());
            assertEquals(ex.answer(), ai.get("multiple_choice_answer").asText());
            assertEquals(10, ai.get("answers").size());
            for (int k = 0; k < 10; k++) {
                JsonNode ans = ai.get("answers").get(k);
                assertEquals(List.of("answer", "answer_confidence", "answer_id"), keys(ans));
                assertEquals(k + 1, ans.get("answer_id").asInt());
                assertEquals("yes", ans.get("answer_confidence").asText());
            }
            Path img = tmp.resolve("val2014").resolve(String.format("COCO_val2014_%012d.png", ex.imageId()));
            assertSameImage(ex.image(), img);
            assertArrayEquals(ex.image().data(), ImageDecoder.decode(img).data(), "the project's decoder reads it back");
        }
    }

    @Test
    void popeFilesAreJsonLinesAndMatchMemory() throws IOException {
        write(Track.POPE, 12, tmp);
        for (PopeVariant v : PopeVariant.values()) {
            List<String> lines = Files.readAllLines(tmp.resolve(v.fileName()));
            assertEquals(12, lines.size());
            for (int i = 0; i < lines.size(); i++) {
                JsonNode line = JSON.readTree(lines.get(i));
                PopeExample ex = ShapesBench.pope(SEED, i, v);
                assertEquals(List.of("question_id", "image", "text", "label"), keys(line));
                assertEquals(i + 1, line.get("question_id").asInt());
                assertEquals(ex.question(), line.get("text").asText());
                assertEquals(ex.label(), line.get("label").asText());
                assertSameImage(ex.image(), tmp.resolve("images").resolve(line.get("image").asText()));
            }
        }
    }

    @Test
    void segFilesAreReasonSegAndTheirPolygonsGiveTheMask() throws IOException {
        write(Track.SEG, 6, tmp);
        for (int i = 0; i < 6; i++) {
            SegExample ex = ShapesBench.seg(SEED, i);
            JsonNode j = JSON.readTree(tmp.resolve("val").resolve(ex.id() + ".json").toFile());
            assertEquals(List.of("text", "is_sentence", "shapes"), keys(j));
            assertEquals(ex.expression(), j.get("text").get(0).asText());
            assertEquals(ex.isSentence(), j.get("is_sentence").asBoolean());
            JsonNode shape = j.get("shapes").get(0);
            assertEquals("target", shape.get("label").asText());
            assertEquals("polygon", shape.get("shape_type").asText());
            JsonNode pts = shape.get("points");
            int[] xs = new int[pts.size()];
            int[] ys = new int[pts.size()];
            for (int k = 0; k < pts.size(); k++) {
                assertTrue(pts.get(k).get(0).isNumber());
                xs[k] = (int) pts.get(k).get(0).asDouble();
                ys[k] = (int) pts.get(k).get(1).asDouble();
            }
            assertArrayEquals(ex.mask(), new Polygon(xs, ys).rasterise(224, 224));
            assertSameImage(ex.image(), tmp.resolve("val").resolve(ex.id() + ".png"));
        }
    }

    @Test
    void iclFileIsTheProjectJsonlAndMatchesMemory() throws IOException {
        write(Track.ICL, 4, tmp);
        List<String> lines = Files.readAllLines(tmp.resolve("icl.jsonl"));
        assertEquals(4, lines.size());
        for (int i = 0; i < 4; i++) {
            JsonNode line = JSON.readTree(lines.get(i));
            IclExample ex = ShapesBench.icl(SEED, i, 2);
            assertEquals(List.of("id", "instruction", "demos", "query", "answers"), keys(line));
            assertEquals(2, line.get("demos").size());
            for (int k = 0; k < 2; k++) {
                JsonNode d = line.get("demos").get(k);
                assertEquals(List.of("image", "question", "answer"), keys(d));
                assertEquals(ex.demos().get(k).answer(), d.get("answer").asText());
                assertSameImage(ex.demos().get(k).image(), tmp.resolve(d.get("image").asText()));
            }
            assertEquals(List.of("image", "question"), keys(line.get("query")));
            assertSameImage(ex.queryImage(), tmp.resolve(line.get("query").get("image").asText()));
            assertEquals(ex.answers().get(0), line.get("answers").get(0).asText());
        }
    }

    @Test
    void scanQaFilesAndPosedImagesMatchMemory() throws IOException {
        write(Track.THREE_D, 6, tmp);
        JsonNode list = JSON.readTree(tmp.resolve("ScanQA_v1.0_val.json").toFile());
        assertEquals(6, list.size());
        for (int i = 0; i < 6; i++) {
            JsonNode q = list.get(i);
            Scene3dExample ex = ShapesBench.scene3d(SEED, i, 3);
            assertEquals(List.of("question_id", "scene_id", "question", "answers", "object_ids", "object_names"), keys(q));
            assertEquals(ex.questionId(), q.get("question_id").asText());
            assertTrue(q.get("question_id").asText().matches("val-scene\\d{4}_00-\\d"));
            assertEquals(ex.question(), q.get("question").asText());
            assertEquals(ex.answers().size(), q.get("answers").size());
            assertEquals(q.get("object_ids").size(), q.get("object_names").size());
            assertTrue(q.get("object_ids").get(0).isInt());
            Path dir = tmp.resolve("posed_images").resolve(ex.sceneId());
            double[] intrinsic = Camera.parse(Files.readString(dir.resolve("intrinsic.txt")));
            for (PosedView v : ex.views()) {
                String frame = String.format("%05d", v.frame());
                assertSameImage(v.colour(), dir.resolve(frame + ".png"));
                BufferedImage depth = ImageIO.read(dir.resolve(frame + "_depth.png").toFile());
                assertEquals(BufferedImage.TYPE_USHORT_GRAY, depth.getType());
                int[] mm = new int[224 * 224];
                for (int p = 0; p < mm.length; p++) {
                    mm[p] = depth.getRaster().getSample(p % 224, p / 224, 0);
                }
                assertArrayEquals(v.depthMm(), mm);
                double[] pose = Camera.parse(Files.readString(dir.resolve(frame + ".txt")));
                assertArrayEquals(v.camera().pose(), pose);
                assertArrayEquals(v.camera().intrinsic(), intrinsic);
                float[][] fromFiles = PatchXyz.compute(mm, 224, 14, intrinsic, pose);
                for (int t = 0; t < 256; t++) {
                    assertArrayEquals(v.patchXyz()[t], fromFiles[t], "patch " + t);
                }
            }
        }
    }

    @Test
    void badOptionsAreOneLineErrors() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> write(Track.VQA, 0, tmp));
        Path file = Files.writeString(tmp.resolve("plain-file"), "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> write(Track.VQA, 1, file));
        assertTrue(e.getMessage().contains("not a folder"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> write(Track.VQA, 1, file.resolve("below-a-file")));
        assertThrows(IllegalArgumentException.class,
                () -> new ShapesWriter.Options(Track.ICL, 1, 1, tmp, "../x", 3, 2));
    }

    private static void write(Track t, int n, Path out) {
        ShapesWriter.write(new ShapesWriter.Options(t, n, SEED, out, null, 3, 2));
    }

    private static void assertSameImage(RgbImage expected, Path png) throws IOException {
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(224, img.getWidth());
        for (int y = 0; y < 224; y++) {
            for (int x = 0; x < 224; x++) {
                for (int c = 0; c < 3; c++) {
                    if (expected.get(x, y, c) != img.getRaster().getSample(x, y, c)) {
                        throw new AssertionError(png + " differs from memory at " + x + "," + y);
                    }
                }
            }
        }
    }

    private static List<String> keys(JsonNode node) {
        List<String> out = new ArrayList<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static List<Path> files(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
