package io.tokensieve.datasets.formats;

import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.Fixtures;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.mask.GroundTruthMasks;
import io.tokensieve.datasets.mask.LabelMask;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SegmentationLoaderTest {
    @TempDir
    Path tmp;

    @Test
    void refcocoReadsThePickleOneSamplePerSentence() {
        Path root = Fixtures.path("refcoco");
        List<Sample> s = Fixtures.load("refcoco:" + root);
        assertEquals(List.of("0-0", "0-1", "1-2"), s.stream().map(Sample::id).toList());
        assertEquals("left box", s.get(0).question());
        assertEquals("<image>\n What is left box in this image? Please output segmentation mask.", s.get(0).prompt());
        assertEquals(root.resolve("images/train2014/COCO_train2014_000000581857.jpg"), s.get(0).images().get(0));
        assertEquals(List.of("2-3"), Fixtures.load("refcoco:" + root + "?split=train").stream().map(Sample::id).toList());
    }

    @Test
    void refcocoGroundTruthFromPolygonAndRle() {
        List<Sample> s = Fixtures.load("refcoco:" + Fixtures.path("refcoco"));
        // polygon (1,1)-(6,5) covers exactly the box x 1..5, y 1..4, as COCO's own box-to-mask does
        LabelMask box = GroundTruthMasks.render(s.get(0));
        assertEquals(10, box.width());
        assertEquals(8, box.height());
        assertEquals(20, box.count(1));
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 10; x++) {
                assertEquals(x >= 1 && x <= 5 && y >= 1 && y <= 4 ? 1 : 0, box.get(x, y), "pixel " + x + "," + y);
            }
        }
        LabelMask rle = GroundTruthMasks.render(s.get(2));
        assertEquals(4, rle.count(1));
        assertEquals(1, rle.get(7, 5));
        assertEquals(1, rle.get(8, 6));
        assertEquals(0, rle.get(6, 5));
    }

    @Test
    void refcocoAlsoReadsJsonRefs() throws Exception {
        Path root = Fixtures.copy("refcoco", tmp);
        Path dir = root.resolve("refcoco");
        Files.delete(dir.resolve("refs(unc).p"));
        Files.writeString(dir.resolve("refs(unc).json"), "[{\"ref_id\": 5, \"ann_id\": 99, \"image_id\": 581857, "
                + "\"split\": \"val\", \"sentences\": [{\"sent_id\": 9, \"sent\": \"corner\"}]}]");
        List<Sample> s = Fixtures.load("refcoco:" + root);
        assertEquals(List.of("5-9"), s.stream().map(Sample::id).toList());
        assertTrue(GroundTruthMasks.render(s.get(0)).count(1) > 0);
    }

    @Test
    void refcocoMissingAnnotationIsNamed() throws Exception {
        Path root = Fixtures.copy("refcoco", tmp);
        Path inst = root.resolve("refcoco/instances.json");
        Files.writeString(inst, Files.readString(inst).replace("\"id\": 1719311", "\"id\": 1"));
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("refcoco:" + root));
        assertTrue(e.getMessage().contains("ref 1 (ref_id 1): annotation 1719311 not found in " + inst), e.getMessage());
        List<DatasetException> skipped = new ArrayList<>();
        assertEquals(2, Fixtures.loadSkipping("refcoco:" + root, skipped).size());
    }

    @Test
    void reasonSegGroundTruthAsLisaDrawsIt() {
        Path root = Fixtures.path("reasonseg");
        List<Sample> s = Fixtures.load("reasonseg:" + root);
        assertEquals(List.of("img1", "img2"), s.stream().map(Sample::id).toList());
        assertEquals("<image>\n What is the thing that holds coffee in this image? Please output segmentation mask.",
                s.get(0).prompt());
        assertEquals("<image>\n Which part of the picture would you sit on after a long walk? Please output segmentation mask.",
                s.get(1).prompt());
        assertEquals(true, s.get(1).extra().get("is_sentence"));
        LabelMask gt = GroundTruthMasks.render(s.get(0));
        assertEquals(12, gt.width());
        assertEquals(10, gt.height());
        // target x 2..8, y 2..7 (42 px) with the smaller ignore square x 5..7, y 3..5 (9 px) drawn over it; flag skipped
        assertEquals(9, gt.count(255));
        assertEquals(33, gt.count(1));
        assertEquals(255, gt.get(6, 4));
        assertEquals(1, gt.get(2, 7));
        assertEquals(0, gt.get(0, 0));
        assertEquals(16, GroundTruthMasks.render(s.get(1)).count(1));
    }

    @Test
    void reasonSegBadPointsAreNamed() throws Exception {
        Path root = Fixtures.copy("reasonseg", tmp);
        Path f = root.resolve("val/img2.json");
        Files.writeString(f, Files.readString(f).replace("[[0, 0], [3, 0], [3, 3], [0, 3]]", "[[0, 0], [3, \"x\"], [3, 3]]"));
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("reasonseg:" + root));
        assertTrue(e.getMessage().contains(f + ": sample img2 .shapes[0]: 'points' must be [x, y] number pairs"), e.getMessage());
    }
}
