package io.tokensieve.pruners;

import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AdaptInfer: the spec's hand-worked cases (section 6) and its behaviour on the tiny model. */
class AdaptInferTest {
    @TempDir
    Path tmp;

    /** Section 6 case 2: one head, v0 = 0, V = 3, two text tokens, L = 5; rows of the text queries 3 and 4. */
    private static final float[][][] CASE2 = {{
        {0.1f, 0.2f, 0.3f, 0.4f, 0f},
        {0.3f, 0.1f, 0.1f, 0.2f, 0.3f}}};
    private static final int[] TEXT = {3, 4};
    private static final int[] VIS = {0, 1, 2};

    private static float[] f(double[] d) {
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = (float) d[i];
        }
        return out;
    }

    @Test
    void case2PriorWeightedScores() {
        double[] s = AdaptInferPruner.score(CASE2, TEXT, VIS, 1, true);
        assertArrayEquals(new double[] {0.21, 0.17, 0.23}, s, 1e-6);
        assertArrayEquals(new int[] {2}, Select.topK(f(s), VIS, 1));
        assertArrayEquals(new int[] {0, 2}, Select.topK(f(s), VIS, 2));
    }

    @Test
    void case3SmoothingChangesTheDecision() {
        double[] uniform = AdaptInferPruner.score(CASE2, TEXT, VIS, 0, true);
        assertArrayEquals(new double[] {0.22, 0.165, 0.22}, uniform, 1e-6);
        assertArrayEquals(new int[] {0}, Select.topK(f(uniform), VIS, 1)); // tie 0 vs 2 -> lower index
        assertArrayEquals(new double[] {0.215, 0.1675, 0.225}, AdaptInferPruner.score(CASE2, TEXT, VIS, 0.5, true), 1e-6);
    }

    @Test
    void case4TextAttendingOnlyToItselfGivesPlainSummedAttention() {
        // two heads, visual slots 0..3, text slots 4..6 with C = I (each text row pays 1 to itself... scaled below)
        float[][][] rows = new float[2][3][7];
        float[][] g = {{0.1f, 0.05f, 0.3f, 0.2f}, {0.4f, 0.1f, 0.0f, 0.2f}, {0.0f, 0.3f, 0.1f, 0.05f}};
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < 3; i++) {
                for (int v = 0; v < 4; v++) {
                    rows[h][i][v] = g[i][v] * (h + 1);
                }
                rows[h][i][4 + i] = 1;
            }
        }
        double[] s = AdaptInferPruner.score(rows, new int[] {4, 5, 6}, new int[] {0, 1, 2, 3}, 1, true);
        double[] plain = AdaptInferPruner.score(rows, new int[] {4, 5, 6}, new int[] {0, 1, 2, 3}, 1, false);
        for (int v = 0; v < 4; v++) {
            double sum = 0;
            for (int h = 0; h < 2; h++) {
                for (int i = 0; i < 3; i++) {
                    sum += rows[h][i][v];
                }
            }
            assertEquals(sum, s[v], 1e-6);
            assertEquals(sum, plain[v], 1e-6);
        }
    }

    @Test
    void case7PresetAveragesAndCase8LayerIndexing() {
        // the code's accounting (a pruning layer counts its pruned size) reproduces the table of section 3.3
        int[] codeStages = {1, 10, 20};
        assertEquals(128.8, StagePlan.groupAverage(32, codeStages, 576, new int[] {290, 72, 18}), 0.05);
        assertEquals(64.97, StagePlan.groupAverage(32, codeStages, 576, new int[] {133, 27, 3}), 0.005);
        assertEquals(48.8, StagePlan.groupAverage(32, codeStages, 576, new int[] {80, 24, 2}), 0.05);
        assertEquals(33.0, StagePlan.groupAverage(32, codeStages, 576, new int[] {40, 12, 0}), 1e-9);
        // ours counts what each layer processes: stages before layers 2, 11, 21 (82.9 for the "64" preset)
        int[] ours = StageLayers.map(StageLayers.outputsToBoundaries(new int[] {1, 10, 20}), 32, StagePlanTest.shape(32), 1);
        assertArrayEquals(new int[] {2, 11, 21}, ours);
        assertEquals(82.875, StagePlan.groupAverage(32, ours, 576, new int[] {133, 27, 3}), 1e-9);
        // section 6 case 8: layers 0-1 see 576, 2-10 n1, 11-20 n2, 21-31 n3
        Pruner p = PrunerRegistry.defaultRegistry().create("adaptinfer:keep=64").pruner();
        List<ImageSpan> img = List.of(new ImageSpan(0, 0, 576, 24, 24, 35, false));
        int[] per = p.plannedCounts(StagePlanTest.shape(32), img, Budget.parse("64", Budget.Scope.IMAGE)
                .resolve(new int[] {576}));
        assertEquals(576, per[0]);
        assertEquals(576, per[1]);
        for (int l = 2; l < 32; l++) {
            boolean change = l == 2 || l == 11 || l == 21;
            assertEquals(change, per[l] != per[l - 1], "layer " + l + ": " + Arrays.toString(per));
        }
        assertEquals(64, Arrays.stream(per).average().orElse(0), 1.0);
        // the stage shape: each stage about a quarter of the previous one (ratios 0.5/0.25/0.25)
        assertEquals(0.25, per[11] / (double) per[2], 0.02);
        assertEquals(0.25, per[21] / (double) per[11], 0.08);
    }

    private GenerationResult ask(VlmModel m, VisualInput img, String spec) {
        return LayerRuns.run(m, List.of(img), spec, 3);
    }

    @Test
    void case9PerLayerCountsAndCachesOnTheTinyModel() {
        VlmModel m = TestModels.tiny(); // 4 layers: stages before layers 1, 2, 3
        VisualInput img = LayerRuns.image(m, tmp, 11);
        GenerationResult r = ask(m, img, "adaptinfer:keep=0.5");
        int[] planned = PrunerRegistry.defaultRegistry().create("adaptinfer:keep=0.5").pruner()
                .plannedCounts(m.shape(), List.of(new ImageSpan(0, 0, 64, 8, 8, 0, false)),
                        Budget.parse("0.5", Budget.Scope.IMAGE).resolve(new int[] {64}));
        assertArrayEquals(planned, r.visualTokensPerLayer());
        assertEquals(64, r.visualTokensPerLayer()[0]);
        assertEquals(32, r.equivalentAverageTokens(), 1.0);
        // the clamp: every stage drops at least one of its tokens
        for (int l = 1; l < 4; l++) {
            assertTrue(r.visualTokensPerLayer()[l] < r.visualTokensPerLayer()[l - 1], Arrays.toString(planned));
        }
        // one decision per scheduled step in prefill (the early step at layer 0 keeps everything), none in decode
        assertEquals(List.of("BEFORE_LAYER(0)", "BEFORE_LAYER(1)", "BEFORE_LAYER(2)", "BEFORE_LAYER(3)"),
                r.steps().stream().map(s -> s.hook()).toList());
        assertEquals(64, r.steps().get(0).kept().length);
        // each layer's cache holds what that layer processed
        long perToken = 2L * m.config().text().numKeyValueHeads() * m.config().text().headDim() * 4;
        assertEquals(Arrays.stream(r.tokensPerLayer()).sum() * perToken, r.kvCacheBytes());
        // clean mode: no clamp, original positions
        GenerationResult clean = ask(m, img, "adaptinfer:keep=0.5,clamp=false,position=keep");
        assertEquals(32, clean.equivalentAverageTokens(), 1.0);
        assertFalse(Arrays.equals(r.firstTokenLogits(), clean.firstTokenLogits()));
    }

    @Test
    void theTextPriorChangesTheRankingOnTheTinyModel() {
        VlmModel m = TestModels.tiny();
        VisualInput img = LayerRuns.image(m, tmp, 12);
        GenerationResult prior = ask(m, img, "adaptinfer:keep=0.5");
        GenerationResult plain = ask(m, img, "adaptinfer:keep=0.5,prior=false");
        assertArrayEquals(prior.visualTokensPerLayer(), plain.visualTokensPerLayer());
        int stage1 = 1; // BEFORE_LAYER(1), ranking with layer 0's attention
        int[] a = prior.steps().get(stage1).kept();
        int[] b = plain.steps().get(stage1).kept();
        assertEquals(a.length, b.length);
        assertFalse(Arrays.equals(a, b), "the text-to-text prior left the ranking unchanged");
        // each kept set is the top of its own scores
        for (GenerationResult r : List.of(prior, plain)) {
            float[] s = r.steps().get(stage1).scores();
            int[] kept = r.steps().get(stage1).kept();
            float minKept = Float.MAX_VALUE;
            for (int v : kept) {
                minKept = Math.min(minKept, s[v]);
            }
            for (int v = 0; v < 64; v++) {
                if (Arrays.binarySearch(kept, v) < 0) {
                    assertTrue(s[v] <= minKept, "dropped token " + v + " outranks a kept one");
                }
            }
        }
    }
}
