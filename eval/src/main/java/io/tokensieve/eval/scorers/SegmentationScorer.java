package io.tokensieve.eval.scorers;

import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.mask.GroundTruthMasks;
import io.tokensieve.datasets.mask.LabelMask;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Scorer;
import io.tokensieve.eval.Tally;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Referring / reasoning segmentation, LISA's metrics (benchmarks-segmentation-icl.md A.3): the prediction
 * is resized to the ground truth with nearest neighbour, pixels labelled 255 are ignored, and per sample
 * {@code IoU = I / (U + 1e-5)}, or 1 when {@code U = 0}. gIoU is the mean IoU, cIoU the summed intersection
 * over the summed union (+1e-10), both x100. ReasonSeg also reports the short-query and long-query subsets.
 * The headline is cIoU for the RefCOCO family (as LISA's tables) and gIoU for ReasonSeg.
 *
 * <p>Two diagnostics beside them, which split "found the right object" from "traced it well":
 * {@code prec_at_50}, the share (x100) of samples with IoU at least 0.5 (Prec@0.5 of the referring-segmentation
 * literature), and {@code giou_of_hits}, the mean IoU (x100) of those samples alone (0 when there are none).
 */
public final class SegmentationScorer implements Scorer {
    private final String benchmark;

    public SegmentationScorer(String benchmark) {
        this.benchmark = benchmark;
    }

    @Override
    public String benchmark() {
        return benchmark;
    }

    @Override
    public String variant() {
        return "official";
    }

    /** {intersection, union} of a binary prediction against a ground truth, ignore pixels excluded. */
    public static long[] intersectionUnion(LabelMask pred, LabelMask gt) {
        LabelMask p = pred == null ? LabelMask.empty(gt.width(), gt.height()) : pred.resizedNearest(gt.width(), gt.height());
        long inter = 0;
        long union = 0;
        byte[] pl = p.labels();
        byte[] gl = gt.labels();
        for (int i = 0; i < gl.length; i++) {
            int g = gl[i] & 0xff;
            if (g == LabelMask.IGNORE) {
                continue;
            }
            boolean pi = pl[i] != 0;
            boolean gi = g == 1;
            inter += pi && gi ? 1 : 0;
            union += pi || gi ? 1 : 0;
        }
        return new long[] {inter, union};
    }

    public static double iou(long inter, long union) {
        return union == 0 ? 1.0 : inter / (union + 1e-5);
    }

    /** IoU from which a sample counts as a hit in {@code prec_at_50} and {@code giou_of_hits}. */
    public static final double HIT_IOU = 0.5;

    /** Running sums of one subset. */
    private static final class Sums {
        double iouSum;
        long inter;
        long union;
        int n;
        int hits;
        double hitIouSum;

        void add(long i, long u) {
            double iou = iou(i, u);
            iouSum += iou;
            inter += i;
            union += u;
            n++;
            if (iou >= HIT_IOU) {
                hits++;
                hitIouSum += iou;
            }
        }

        Map<String, Object> metrics() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("giou", n == 0 ? 0 : 100 * iouSum / n);
            m.put("ciou", 100 * inter / (union + 1e-10));
            m.put("prec_at_50", n == 0 ? 0 : 100.0 * hits / n);
            m.put("giou_of_hits", hits == 0 ? 0 : 100 * hitIouSum / hits);
            m.put("n", n);
            return m;
        }
    }

    @Override
    public Tally newTally() {
        boolean reasonSeg = benchmark.equals("reasonseg");
        return new BaseTally(benchmark, variant()) {
            private final Sums all = new Sums();
            private final Sums shortQ = new Sums();
            private final Sums longQ = new Sums();

            @Override
            protected double score(Sample s, Prediction p) {
                long[] iu = intersectionUnion(p.mask(), GroundTruthMasks.render(s));
                all.add(iu[0], iu[1]);
                (Boolean.TRUE.equals(s.extra().get("is_sentence")) ? longQ : shortQ).add(iu[0], iu[1]);
                return iou(iu[0], iu[1]);
            }

            @Override
            protected String fill(Map<String, Object> v) {
                Map<String, Object> m = all.metrics();
                v.put("giou", m.get("giou"));
                v.put("ciou", m.get("ciou"));
                v.put("prec_at_50", m.get("prec_at_50"));
                v.put("giou_of_hits", m.get("giou_of_hits"));
                if (reasonSeg) {
                    v.put("short_query", shortQ.metrics());
                    v.put("long_query", longQ.metrics());
                }
                return reasonSeg ? "giou" : "ciou";
            }
        };
    }
}
