package io.tokensieve.pruners;

import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.Need;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import io.tokensieve.core.testing.TestPruners;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DivPrune: baselines.md section 3's invariants on hand-made sets, and diversity on a tiny model. */
class DivPruneTest {
    @TempDir
    Path tmp;

    private static int[] picks(float[][] e, int k) {
        return DivPrunePruner.maxMin(DivPrunePruner.cosineDistances(e), k).picks();
    }

    private static float[][] randomRows(long seed, int n, int d) {
        Random r = new Random(seed);
        float[][] e = new float[n][d];
        for (float[] row : e) {
            for (int i = 0; i < d; i++) {
                row[i] = (float) r.nextGaussian();
            }
        }
        return e;
    }

    @Test
    void threeDirectionsWithFiveNearCopiesGiveOnePerDirection() {
        Random r = new Random(1);
        float[][] e = new float[15][6];
        for (int i = 0; i < 15; i++) {
            int dir = i % 3; // interleaved so that index order does not help
            e[i][dir] = 1 + 0.1f * r.nextFloat();
            for (int c = 0; c < 6; c++) {
                e[i][c] += 0.02f * (float) r.nextGaussian();
            }
        }
        int[] p = picks(e, 3);
        assertEquals(3, Arrays.stream(p).map(i -> i % 3).distinct().count(), Arrays.toString(p));
    }

    @Test
    void firstPickMaximisesTheNearestNeighbourDistanceAndEveryPickIsTheFarthest() {
        float[][] e = randomRows(2, 20, 5);
        double[][] d = DivPrunePruner.cosineDistances(e);
        int k = 8;
        DivPrunePruner.MaxMin mm = DivPrunePruner.maxMin(d, k);
        int[] p = mm.picks();
        double bestNn = -1;
        int bestFirst = -1;
        for (int j = 0; j < 20; j++) {
            double nn = Double.POSITIVE_INFINITY;
            for (int i = 0; i < 20; i++) {
                if (i != j) {
                    nn = Math.min(nn, d[i][j]);
                }
            }
            if (nn > bestNn) {
                bestNn = nn;
                bestFirst = j;
            }
        }
        assertEquals(bestFirst, p[0]);
        for (int s = 1; s < k; s++) {
            List<Integer> sel = new ArrayList<>();
            for (int i = 0; i < s; i++) {
                sel.add(p[i]);
            }
            double chosen = distanceToSet(d, p[s], sel);
            for (int j = 0; j < 20; j++) {
                if (!sel.contains(j)) {
                    assertTrue(distanceToSet(d, j, sel) <= chosen + 1e-12, "pick " + s + " is not the farthest");
                }
            }
            assertEquals(chosen, mm.scores()[p[s]], 1e-6);
        }
        assertEquals(k, Arrays.stream(p).distinct().count());
    }

    private static double distanceToSet(double[][] d, int j, List<Integer> sel) {
        return sel.stream().mapToDouble(s -> d[s][j]).min().orElseThrow();
    }

    @Test
    void positiveRescalingChangesNothingAndDuplicatesAreNeverPickedTwice() {
        float[][] e = randomRows(3, 12, 4);
        float[][] scaled = new float[12][];
        for (int i = 0; i < 12; i++) {
            scaled[i] = e[i].clone();
            for (int c = 0; c < 4; c++) {
                scaled[i][c] *= 0.5f + i;
            }
        }
        assertArrayEquals(picks(e, 5), picks(scaled, 5));
        float[][] dup = {{1, 0}, {1, 0}, {1, 0}, {1, 0}, {0, 1}};
        int[] p = picks(dup, 4);
        assertEquals(4, Arrays.stream(p).distinct().count(), Arrays.toString(p));
        assertArrayEquals(new int[] {0}, picks(new float[][] {{1, 2}}, 1));
    }

    private static GenerationResult ask(VlmModel m, VisualInput img, ConfiguredPruner p) {
        return m.generate(List.of(VlmRequest.of(m.promptIds("what color is the circle ?", 1), List.of(img), p)),
                GenerationConfig.greedy(1)).get(0);
    }

    private static double minPairwise(double[][] d, int[] set) {
        double m = Double.POSITIVE_INFINITY;
        for (int i = 0; i < set.length; i++) {
            for (int j = i + 1; j < set.length; j++) {
                m = Math.min(m, d[set[i]][set[j]]);
            }
        }
        return m;
    }

    @Test
    void keptProjectedEmbeddingsAreMoreDiverseThanRandomSubsets() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 80, 80, 7));
        float[][][] seen = new float[1][][];
        ConfiguredPruner capture = TestPruners.of("capture", List.of(PruneStep.of("c", HookPoint.PROJECTED,
                Need.HIDDEN_STATES)), List.of(ctx -> {
                    seen[0] = BaselineMath.rows(ctx.hidden());
                    return PruneDecision.keepAll(ctx);
                }), PositionPolicy.KEEP);
        ask(m, img, capture);
        double[][] d = DivPrunePruner.cosineDistances(seen[0]);
        GenerationResult r = ask(m, img, PrunerRegistry.defaultRegistry().create("divprune:keep=16"));
        int[] kept = r.steps().get(0).kept();
        assertEquals(16, kept.length);
        assertEquals(16, r.visualTokensEnteringLlm());
        double ours = minPairwise(d, kept);
        Random rnd = new Random(11);
        for (int t = 0; t < 50; t++) {
            int[] sub = rnd.ints(0, 64).distinct().limit(16).sorted().toArray();
            assertTrue(minPairwise(d, sub) <= ours, "a random subset is more diverse than the kept set");
        }
    }
}
