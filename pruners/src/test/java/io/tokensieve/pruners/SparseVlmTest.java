package io.tokensieve.pruners;

import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.prune.SequenceLayout;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SparseVLM: DPC-kNN, raters, recycling counts, and merged tokens on the tiny model. */
class SparseVlmTest {
    @TempDir
    Path tmp;

    @Test
    void dpcKnnOnAHandMadeSet() {
        // 1-D points 0, 1, 10, 10.5, 11 with c = k = 2. rho = exp(-0.5) for 0 and 1, exp(-0.125) for the others;
        // 10 is densest (tie with 10.5 and 11 -> lower index), delta = max distance 11, gamma = 9.71; point 0's
        // nearest denser point is 10 (point 1 ties with it but has the higher index): gamma = 0.61 * 10 = 6.07;
        // 1: 0.61 * 1; 10.5 and 11: 0.88 * 0.5 -> centres {0, 2}
        float[][] x = {{0f}, {1f}, {10f}, {10.5f}, {11f}};
        DpcKnn.Result r = DpcKnn.cluster(x, 2);
        assertArrayEquals(new int[] {0, 2}, r.centres());
        assertArrayEquals(new int[] {0, 0, 1, 1, 1}, r.assignment());
        float[][] means = DpcKnn.means(x, r);
        assertEquals(0.5f, means[0][0], 1e-6f);
        assertEquals(10.5f, means[1][0], 1e-6f);
        // one cluster: every point joins the densest point
        DpcKnn.Result one = DpcKnn.cluster(x, 1);
        assertEquals(1, one.centres().length);
        assertArrayEquals(new int[] {0, 0, 0, 0, 0}, one.assignment());
        // distances are scaled by sqrt(D), which does not change the clustering of a 2-D copy
        float[][] x2 = {{0f, 0f}, {1f, 1f}, {10f, 10f}, {10.5f, 10.5f}, {11f, 11f}};
        assertArrayEquals(new int[] {0, 2}, DpcKnn.cluster(x2, 2).centres());
    }

    @Test
    void recyclingTakesTheTopDeletedTokensAndMergesThemIntoMeans() {
        int[] deleted = {3, 5, 8, 9, 12};
        float[][] hidden = {{0f}, {100f}, {1f}, {10f}, {11f}};
        float[] scores = new float[13];
        scores[3] = 0.9f;
        scores[5] = 0.1f; // lowest: not a candidate
        scores[8] = 0.8f;
        scores[9] = 0.7f;
        scores[12] = 0.6f;
        SparseVlmPruner.Merge m = SparseVlmPruner.recycle(deleted, hidden, scores, 4, 2);
        // candidates 3, 8, 9, 12 with rows 0, 1, 10, 11: two clusters {3, 8} and {9, 12}
        assertEquals(2, m.centres().length);
        assertTrue(m.centres()[0] == 3 || m.centres()[0] == 8);
        assertTrue(m.centres()[1] == 9 || m.centres()[1] == 12);
        assertEquals(0.5f, m.rows()[0][0], 1e-6f);
        assertEquals(10.5f, m.rows()[1][0], 1e-6f);
    }

    @Test
    void ratersAreTheTextTokensAboveTheMeanShare() {
        float[][] uniform = {{1f, 1f, 1f}, {2f, 2f, 2f}};
        assertArrayEquals(new boolean[] {true, true, true}, SparseVlmPruner.raters(uniform));
        float[][] logits = {{3f, 0f, 0f}, {2f, 0f, 1f}};
        assertArrayEquals(new boolean[] {true, false, false}, SparseVlmPruner.raters(logits));
    }

    @Test
    void stageCountsIncludeTheRecycledClusters() {
        SparseVlmPruner.Rule rule = new SparseVlmPruner.Rule(new double[] {300 / 576.0, 200 / 576.0, 110 / 576.0}, true,
                0.3, 0.1);
        // 576 -> keep 300, delete 276: 83 candidates, 9 clusters -> 309 live; 309 -> 200: 109 deleted, 33 -> 4;
        // 204 -> 110: 94 deleted, 29 -> 3
        assertEquals(83, rule.candidates(276));
        assertEquals(9, rule.clusters(276));
        assertArrayEquals(new int[] {300, 200, 110}, rule.select(1.0, 576, 3));
        assertArrayEquals(new int[] {309, 204, 113}, rule.live(new int[] {300, 200, 110}, 576));
        // never all of a stage's tokens: at most V - 1 by the ranking
        assertArrayEquals(new int[] {575, 575, 575}, rule.select(100, 576, 3));
        assertEquals(null, rule.live(new int[] {576, 0, 0}, 576));
        SparseVlmPruner.Rule plain = new SparseVlmPruner.Rule(new double[] {0.5}, false, 0.3, 0.1);
        assertArrayEquals(new int[] {288}, plain.live(new int[] {288}, 576));
        assertEquals(192, SparseVlmPruner.nearestPreset(192 / 576.0));
        assertEquals(128, SparseVlmPruner.nearestPreset(100 / 576.0));
        assertEquals(64, SparseVlmPruner.nearestPreset(0.05));
    }

    /** Wraps a configured pruner to see each step's context and decision. */
    private record Seen(int[] live, float[][] hidden, SequenceLayout seq, int[] kept, float[] scores, int[] replaced,
                        float[] rows) {}

    private static ConfiguredPruner watched(ConfiguredPruner cp, List<Seen> seen) {
        Pruner inner = cp.pruner();
        Pruner p = new Pruner() {
            @Override
            public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
                return inner.schedule(model, images);
            }

            @Override
            public PruneDecision decide(PruneContext ctx) {
                PruneDecision d = inner.decide(ctx);
                float[] flat = ctx.hidden().toFloatArray();
                int t = ctx.sequence().size();
                int dim = flat.length / t;
                float[][] h = new float[t][];
                for (int i = 0; i < t; i++) {
                    h[i] = Arrays.copyOfRange(flat, i * dim, (i + 1) * dim);
                }
                float[] rows = d.replacements() == null ? new float[0] : d.replacements().toFloatArray();
                seen.add(new Seen(ctx.live(), h, ctx.sequence(), d.kept(), d.scores(), d.replaced(), rows));
                return d;
            }

            @Override
            public BudgetConvention budgetConvention() {
                return inner.budgetConvention();
            }

            @Override
            public PositionPolicy defaultPositionPolicy() {
                return inner.defaultPositionPolicy();
            }
        };
        return new ConfiguredPruner(cp.spec(), cp.id(), p, cp.budget(), cp.positions(), cp.seed(), cp.params());
    }

    @Test
    void mergedTokensAreMeansOfDeletedTokensOnTheTinyModel() {
        VlmModel m = TestModels.tiny();
        VisualInput img = LayerRuns.image(m, tmp, 41);
        List<Seen> seen = new ArrayList<>();
        ConfiguredPruner cp = watched(PrunerRegistry.defaultRegistry().create("sparsevlm:keep=0.5"), seen);
        GenerationResult r = m.generate(List.of(VlmRequest.of(m.promptIds("what is left of the red circle ?", 1),
                List.of(img), cp)), GenerationConfig.greedy(1)).get(0);
        assertEquals(32, r.equivalentAverageTokens(), 1.0);
        int merged = 0;
        for (Seen s : seen) {
            int[] centres = s.replaced();
            if (centres.length == 0) {
                continue;
            }
            float[] sc = s.scores();
            int[] kept = s.kept();
            int[] top = Arrays.stream(kept).filter(v -> Arrays.binarySearch(centres, v) < 0).toArray();
            int[] deleted = Arrays.stream(s.live()).filter(v -> Arrays.binarySearch(top, v) < 0).toArray();
            float minTop = Float.MAX_VALUE;
            for (int v : top) {
                minTop = Math.min(minTop, sc[v]);
            }
            int cand = (int) Math.floor(0.3 * deleted.length + 1e-9) + 1;
            int[] candidates = Select.topK(sc, deleted, cand);
            assertEquals((int) Math.floor(0.1 * cand + 1e-9) + 1, centres.length);
            float[] rows = s.rows();
            int dim = rows.length / centres.length;
            for (int c = 0; c < centres.length; c++) {
                assertTrue(Arrays.binarySearch(candidates, centres[c]) >= 0, "centre " + centres[c] + " is not a candidate");
                assertTrue(sc[centres[c]] <= minTop, "centre " + centres[c] + " was not deleted by the ranking");
            }
            // every candidate joins its nearest centre; each merged row is the mean of its members' hidden states
            double[][] sum = new double[centres.length][dim];
            int[] count = new int[centres.length];
            for (int v : candidates) {
                float[] hv = s.hidden()[s.seq().slotOfVisual(v)];
                int best = 0;
                double bestD = Double.POSITIVE_INFINITY;
                for (int c = 0; c < centres.length; c++) {
                    float[] hc = s.hidden()[s.seq().slotOfVisual(centres[c])];
                    double dd = 0;
                    for (int i = 0; i < dim; i++) {
                        dd += (hv[i] - hc[i]) * (hv[i] - hc[i]);
                    }
                    if (v == centres[c]) {
                        dd = -1;
                    }
                    if (dd < bestD) {
                        bestD = dd;
                        best = c;
                    }
                }
                count[best]++;
                for (int i = 0; i < dim; i++) {
                    sum[best][i] += hv[i];
                }
            }
            for (int c = 0; c < centres.length; c++) {
                assertTrue(count[c] >= 1);
                for (int i = 0; i < dim; i++) {
                    assertEquals(sum[c][i] / count[c], rows[c * dim + i], 1e-4, "merged token " + centres[c]);
                }
            }
            merged += centres.length;
        }
        assertTrue(merged > 0, "no token was merged");
        // merged tokens change the output compared with plain pruning of the same counts' ranking
        GenerationResult plain = LayerRuns.run(m, List.of(img), "sparsevlm:keep=0.5,recycle=false", 1);
        assertEquals(32, plain.equivalentAverageTokens(), 1.0);
        assertFalse(Arrays.equals(r.firstTokenLogits(), plain.firstTokenLogits()));
        int[] planned = PrunerRegistry.defaultRegistry().create("sparsevlm:keep=0.5").pruner().plannedCounts(m.shape(),
                List.of(new ImageSpan(0, 0, 64, 8, 8, 0, false)), io.tokensieve.core.prune.Budget.parse("0.5",
                        io.tokensieve.core.prune.Budget.Scope.IMAGE).resolve(new int[] {64}));
        assertArrayEquals(planned, r.visualTokensPerLayer());
    }
}
