package io.tokensieve.pruners;

import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.StepTrace;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PyramidDrop: lambda solved from the budget (the spec's presets) and nested geometric stages. */
class PyramidDropTest {
    @TempDir
    Path tmp;

    private static StagePlan plan576(int target) {
        List<StagePlan.Group> g = List.of(new StagePlan.Group(new int[] {0}, 576, target));
        return StagePlan.solve(32, new int[] {2, 8, 16, 24}, g, 0,
                new StageGate.PowerRule(new double[] {0.5, 0.25, 0.125, 0.0625}));
    }

    @Test
    void lambdaFromTheBudgetMatchesTheSpecPresets() {
        // spec section 4 [OURS]: 192 -> lambda 0.58, 128 -> 0.44, 64 -> 0.20 with boundaries 2/8/16/24
        double[][] presets = {{192, 0.58}, {128, 0.44}, {64, 0.20}};
        for (double[] p : presets) {
            StagePlan plan = plan576((int) p[0]);
            double lambda = PyramidDropPruner.lambda(plan, 0);
            assertEquals(p[1], lambda, 0.01, "budget " + p[0]);
            assertEquals(p[0], plan.average(), 1.0);
            // counts floor(576 * lambda^k), up to the single-token adjustments (under one token of average); lambda is
            // the supremum of a step function, where a count sits just below its next integer (hence the -1)
            double extra = 0;
            int[] b = {2, 8, 16, 24, 32};
            for (int k = 0; k < 4; k++) {
                int geometric = (int) Math.floor(576 * Math.pow(lambda, k + 1) + 1e-9);
                assertTrue(plan.select(0, k) >= geometric - 1, "stage " + k);
                extra += (plan.select(0, k) - geometric) * (b[k + 1] - b[k]) / 32.0;
            }
            assertTrue(extra <= 1.0 + 1e-9, "adjustments of " + extra + " tokens");
        }
        // the paper's setting: 8/16/24 with lambda 0.5 averages 576 * 15/32 = 270
        List<StagePlan.Group> g = List.of(new StagePlan.Group(new int[] {0}, 576, 270));
        StagePlan paper = StagePlan.solve(32, new int[] {8, 16, 24}, g, 0, new StageGate.PowerRule(new double[] {0.5, 0.25,
                0.125}));
        double half = PyramidDropPruner.lambda(paper, 0);
        assertTrue(half >= 0.5 && half < 0.51, "lambda " + half); // the largest lambda with the same counts
        assertEquals(288, paper.select(0, 0));
        assertEquals(144, paper.select(0, 1));
        assertEquals(72, paper.select(0, 2));
    }

    @Test
    void stagesAreNestedAndFollowThePlanOnTheTinyModel() {
        VlmModel m = TestModels.tiny();
        VisualInput img = LayerRuns.image(m, tmp, 21);
        GenerationResult r = LayerRuns.run(m, List.of(img), "pdrop:keep=0.5", 2);
        assertEquals(32, r.equivalentAverageTokens(), 1.0);
        int[] prev = null;
        int active = 0;
        for (StepTrace s : r.steps()) {
            int[] kept = s.kept();
            if (prev != null) {
                for (int v : kept) {
                    assertTrue(Arrays.binarySearch(prev, v) >= 0, s.hook() + " kept " + v + ", dropped earlier");
                }
            }
            if (kept.length < s.liveBefore()) {
                active++;
                // the gate keeps the top of the last prompt token's attention among the live tokens
                float[] sc = s.scores();
                float minKept = Float.MAX_VALUE;
                for (int v : kept) {
                    minKept = Math.min(minKept, sc[v]);
                }
                for (int v : prev == null ? java.util.stream.IntStream.range(0, 64).toArray() : prev) {
                    if (Arrays.binarySearch(kept, v) < 0) {
                        assertTrue(sc[v] <= minKept, s.hook() + ": dropped token " + v + " outranks a kept one");
                    }
                }
            }
            prev = kept;
        }
        assertEquals(3, active);
        int[] per = r.visualTokensPerLayer();
        for (int l = 1; l < per.length; l++) {
            assertTrue(per[l] < per[l - 1], Arrays.toString(per));
        }
        // positions: renumbered by default, original with position=keep (same decisions, other logits)
        GenerationResult keep = LayerRuns.run(m, List.of(img), "pdrop:keep=0.5,position=keep", 2);
        assertArrayEquals(r.steps().get(1).kept(), keep.steps().get(1).kept());
        assertTrue(!Arrays.equals(r.firstTokenLogits(), keep.firstTokenLogits()));
    }
}
