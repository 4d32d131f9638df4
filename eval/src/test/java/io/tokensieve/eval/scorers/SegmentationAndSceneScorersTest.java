package io.tokensieve.eval.scorers;

import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.mask.GroundTruthMasks;
import io.tokensieve.datasets.mask.LabelMask;
import io.tokensieve.eval.Metrics;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Scorers;
import io.tokensieve.eval.Tally;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SegmentationAndSceneScorersTest {
    /** A 4x2 mask from 8 label values, row-major. */
    private static LabelMask mask(int... labels) {
        byte[] b = new byte[labels.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) labels[i];
        }
        return new LabelMask(4, 2, b);
    }

    /** A sample whose ground truth is the given 4x2 label map (as uncompressed column-major COCO RLE). */
    private static Sample gt(String id, LabelMask m) {
        List<Long> counts = new ArrayList<>();
        int cur = 0;
        long run = 0;
        for (int x = 0; x < m.width(); x++) {
            for (int y = 0; y < m.height(); y++) {
                int v = m.get(x, y) == 1 ? 1 : 0;
                if (v != cur) {
                    counts.add(run);
                    run = 0;
                    cur = v;
                }
                run++;
            }
        }
        counts.add(run);
        Map<String, Object> rle = Map.of("counts", counts, "size", List.of(m.height(), m.width()));
        return Samples.of("refcoco", id, List.of(), Map.of(GroundTruthMasks.KEY, GroundTruthMasks.coco(rle, 2, 4)));
    }

    @Test
    void specVectorOneGiouAndCiou() {
        // s1: 4 target pixels, prediction 4 pixels with 2 on target -> I 2, U 6; s2: 2 target pixels, empty prediction
        Tally t = Scorers.create("refcoco", "official").newTally();
        double iou1 = t.add(gt("s1", mask(1, 1, 1, 1, 0, 0, 0, 0)), Prediction.mask(mask(0, 0, 1, 1, 1, 1, 0, 0)));
        double iou2 = t.add(gt("s2", mask(1, 1, 0, 0, 0, 0, 0, 0)), Prediction.mask(mask(0, 0, 0, 0, 0, 0, 0, 0)));
        assertEquals(2 / (6 + 1e-5), iou1, 1e-12);
        assertEquals(0.0, iou2);
        Metrics m = t.result();
        assertEquals(100 * (2 / (6 + 1e-5)) / 2, m.number("giou"), 1e-9);
        assertEquals(16.6667, m.number("giou"), 1e-3);
        assertEquals(25.0, m.number("ciou"), 1e-6);
        assertEquals("ciou", m.headline());
        assertEquals(0.0, m.number("prec_at_50"), "IoU 1/3 and 0: no hit");
        assertEquals(0.0, m.number("giou_of_hits"));
    }

    @Test
    void precisionAtHalfAndTheIouOfHitsSplitFindingFromTracing() {
        // IoU 1 (exact), 0.75 (3 of 4), 0.5 (2 of 4, the boundary counts), 1/3, 0 (wrong place)
        Tally t = Scorers.create("refcoco", "official").newTally();
        LabelMask g = mask(1, 1, 1, 1, 0, 0, 0, 0);
        t.add(gt("a", g), Prediction.mask(mask(1, 1, 1, 1, 0, 0, 0, 0)));
        t.add(gt("b", g), Prediction.mask(mask(1, 1, 1, 0, 0, 0, 0, 0)));
        t.add(gt("c", g), Prediction.mask(mask(1, 1, 0, 0, 0, 0, 0, 0)));
        t.add(gt("d", g), Prediction.mask(mask(0, 0, 1, 1, 1, 1, 0, 0)));
        t.add(gt("e", g), Prediction.mask(mask(0, 0, 0, 0, 0, 0, 1, 1)));
        Metrics m = t.result();
        assertEquals(100 * (1 + 0.75 + 0.5 + 1 / 3.0) / 5, m.number("giou"), 1e-3);
        // 2 of 4 is 2 / (4 + 1e-5), a hair under 0.5: only the exact and the 3-of-4 prediction are hits
        assertEquals(40.0, m.number("prec_at_50"), 1e-9);
        assertEquals(100 * (4 / (4 + 1e-5) + 3 / (4 + 1e-5)) / 2, m.number("giou_of_hits"), 1e-9);
    }

    @Test
    void specVectorTwoEmptyOnEmptyIsAPerfectHitAddingNothingToCiou() {
        long[] iu = SegmentationScorer.intersectionUnion(mask(0, 0, 0, 0, 0, 0, 0, 0), mask(0, 0, 0, 0, 0, 0, 0, 0));
        assertEquals(0, iu[0]);
        assertEquals(0, iu[1]);
        assertEquals(1.0, SegmentationScorer.iou(iu[0], iu[1]));
    }

    @Test
    void specVectorThreeIgnoredPixels() {
        LabelMask g = mask(1, 255, 0, 0, 0, 0, 0, 0);
        long[] iu = SegmentationScorer.intersectionUnion(mask(1, 1, 0, 0, 0, 0, 0, 0), g);
        assertEquals(1, iu[0]);
        assertEquals(1, iu[1]);
        assertEquals(1.0, SegmentationScorer.iou(iu[0], iu[1]), 1e-4);
    }

    @Test
    void specVectorFourFalsePositivesOnly() {
        long[] iu = SegmentationScorer.intersectionUnion(mask(1, 1, 1, 1, 1, 0, 0, 0), mask(0, 0, 0, 0, 0, 0, 0, 0));
        assertEquals(0, iu[0]);
        assertEquals(5, iu[1]);
        assertEquals(0.0, SegmentationScorer.iou(iu[0], iu[1]));
    }

    @Test
    void predictionIsResizedToTheGroundTruthWithNearestNeighbour() {
        LabelMask big = new LabelMask(8, 4, new byte[] {
            1, 1, 1, 1, 0, 0, 0, 0,
            1, 1, 1, 1, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0});
        long[] iu = SegmentationScorer.intersectionUnion(big, mask(1, 1, 0, 0, 0, 0, 0, 0));
        assertEquals(2, iu[0]);
        assertEquals(2, iu[1]);
    }

    @Test
    void reasonSegReportsShortAndLongQueries() {
        Tally t = Scorers.create("reasonseg", "official").newTally();
        Map<String, Object> square = GroundTruthMasks.polygons(List.of(Map.of("label", 1,
                "points", List.of(List.of(0, 0), List.of(1, 0), List.of(1, 1), List.of(0, 1)))), 4, 4);
        t.add(Samples.of("reasonseg", "a", List.of(), Map.of("is_sentence", false, GroundTruthMasks.KEY, square)),
                Prediction.mask(new LabelMask(4, 4, new byte[] {1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})));
        t.add(Samples.of("reasonseg", "b", List.of(), Map.of("is_sentence", true, GroundTruthMasks.KEY, square)),
                Prediction.MISSING);
        Metrics m = t.result();
        assertEquals("giou", m.headline());
        assertEquals(100 * (4 / (4 + 1e-5)), m.number("short_query.giou"), 1e-9);
        assertEquals(0.0, m.number("long_query.giou"));
        assertEquals(50.0, m.headlineValue(), 1e-3);
        assertEquals(1, m.values().get("n_missing"));
    }

    @Test
    void scanQaAndSqa3dExactAndRefined() {
        Tally t = Scorers.create("scanqa", "official").newTally();
        t.add(Samples.of("scanqa", "0", List.of("brown wooden table")), Prediction.text("table"));
        t.add(Samples.of("scanqa", "1", List.of("2")), Prediction.text("two"));
        t.add(Samples.of("scanqa", "2", List.of("TV stand")), Prediction.text("tv stand"));
        Metrics m = t.result();
        assertEquals(200.0 / 3, m.headlineValue(), 1e-9);
        assertEquals(100.0, m.number("em_refined"), 1e-9);

        Tally q = Scorers.create("sqa3d", "official").newTally();
        q.add(Samples.of("sqa3d", "0", List.of("chair"), Map.of("question_type", 0)), Prediction.text("The Chair2"));
        q.add(Samples.of("sqa3d", "1", List.of("yes"), Map.of("question_type", 1)), Prediction.text("no"));
        q.add(Samples.of("sqa3d", "2", List.of("three"), Map.of("question_type", 2)), Prediction.text("3 chairs"));
        q.add(Samples.of("sqa3d", "3", List.of("three"), Map.of("question_type", 2)), Prediction.MISSING);
        Metrics s = q.result();
        assertEquals(25.0, s.headlineValue(), 1e-9);
        assertEquals(50.0, s.number("em_refined"), 1e-9);
        assertEquals(100.0, s.number("per_question_type.0_what.em"), 1e-9);
        assertEquals(50.0, s.number("per_question_type.2_how.em_refined"), 1e-9);
    }
}
