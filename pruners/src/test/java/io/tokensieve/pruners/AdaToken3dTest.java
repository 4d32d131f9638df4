package io.tokensieve.pruners;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.StepTrace;
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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AdaToken-3D: spatial-only gating by its layer-wise schedule, and the gate checked against the layer's attention. */
class AdaToken3dTest {
    @TempDir
    Path tmp;

    @Test
    void prunesOnlySpatialTokensByTheLayerWiseSchedule() {
        VlmModel m = TestModels.extras(); // 4 layers: boundaries 8/16/24 map to 1/2/3
        List<VisualInput> images = new ArrayList<>();
        images.add(LayerRuns.image(m, tmp, 31));
        images.addAll(LayerRuns.views(m, tmp, 2));
        GenerationResult r = LayerRuns.run(m, images, "adatoken3d:keep=0.75", 2);
        // 48 per image = 144 as a layer average; the plain image keeps its 64, the two views average 80
        assertEquals(144, r.equivalentAverageTokens(), 1.0);
        int[] planned = PrunerRegistry.defaultRegistry().create("adatoken3d:keep=0.75").pruner().plannedCounts(m.shape(),
                List.of(new ImageSpan(0, 0, 64, 8, 8, 0, false), new ImageSpan(1, 64, 64, 8, 8, 0, true),
                        new ImageSpan(2, 128, 64, 8, 8, 0, true)),
                Budget.parse("0.75", Budget.Scope.IMAGE).resolve(new int[] {64, 64, 64}));
        assertArrayEquals(planned, r.visualTokensPerLayer());
        int active = 0;
        int[] prevViews = null;
        for (StepTrace s : r.steps()) {
            int[] kept = s.kept();
            for (int v = 0; v < 64; v++) {
                assertTrue(Arrays.binarySearch(kept, v) >= 0, s.hook() + " dropped plain-image token " + v);
            }
            int[] views = Arrays.stream(kept).filter(v -> v >= 64).toArray();
            if (prevViews != null) {
                assertTrue(views.length <= prevViews.length);
                for (int v : views) {
                    assertTrue(Arrays.binarySearch(prevViews, v) >= 0, "not nested");
                }
            }
            if (kept.length < s.liveBefore()) {
                active++;
                // per view, the counts of the plan (scope image: each view ranked on its own)
                long first = Arrays.stream(views).filter(v -> v < 128).count();
                long second = views.length - first;
                assertTrue(Math.abs(first - second) <= 1, s.hook() + ": " + first + " vs " + second);
            }
            prevViews = views;
        }
        assertTrue(active >= 2, "the schedule pruned at " + active + " boundaries");
        // with spatial=all the plain image is gated too
        GenerationResult all = LayerRuns.run(m, images, "adatoken3d:keep=0.75,spatial=all", 1);
        int last = all.steps().size() - 1;
        assertTrue(Arrays.stream(all.steps().get(last).kept()).filter(v -> v < 64).count() < 64);
    }

    @Test
    void theReferenceScheduleAtItsOwnAverage() {
        // section 10.2: ratios 0.5/0.25/0.125 of 64 tokens from boundaries 1/2/3 average (64+32+16+8)/4 = 30, so
        // keep=30 gives exactly floor(N0 * rho_k) after each boundary; a plain image counts as one view
        VlmModel m = TestModels.tiny();
        GenerationResult r = LayerRuns.run(m, List.of(LayerRuns.image(m, tmp, 33)), "adatoken3d:keep=30", 1);
        assertArrayEquals(new int[] {64, 32, 16, 8}, r.visualTokensPerLayer());
        GenerationResult p = LayerRuns.run(m, List.of(LayerRuns.image(m, tmp, 33)), "pdrop:keep=30", 1);
        assertArrayEquals(new int[] {64, 32, 16, 8}, p.visualTokensPerLayer());
        assertArrayEquals(r.steps().get(3).kept(), p.steps().get(3).kept()); // the same gate
    }

    @Test
    void gateScoresAreTheLastPromptTokensAttentionInTheUpcomingLayer() {
        // spec section 10.4: the gate's ranking at boundary b equals the last prompt token's head-mean attention
        // in layer b, here read from an unpruned run (the span starts after the prompt's prefix tokens)
        VlmModel m = TestModels.tiny();
        List<VisualInput> img = List.of(LayerRuns.image(m, tmp, 32));
        long[] ids = m.promptIds("what is left of the red circle ?", 1);
        GenerationResult gated = m.generate(List.of(VlmRequest.of(ids, img,
                PrunerRegistry.defaultRegistry().create("adatoken3d:keep=0.5"))), GenerationConfig.greedy(0)).get(0);
        StepTrace stage1 = gated.steps().get(1);
        assertEquals("BEFORE_LAYER(1)", stage1.hook());
        float[][] row = new float[1][];
        int[] visSlots = new int[64];
        ConfiguredPruner probe = TestPruners.of("probe",
                List.of(PruneStep.of("read", HookPoint.beforeLayer(2)).withAttentionLayers(1)),
                List.of(ctx -> {
                    NDArray a = ctx.attention(1); // [H, T, T]
                    int last = ctx.sequenceAt(1).lastSlot();
                    row[0] = a.get(new NDIndex(":, {}, :", last)).mean(new int[] {0}).toFloatArray();
                    int[] vs = ctx.sequenceAt(1).visualSlots();
                    System.arraycopy(vs, 0, visSlots, 0, 64);
                    return PruneDecision.keepAll(ctx);
                }), PositionPolicy.KEEP, BudgetConvention.FINAL, Budget.ALL);
        m.generate(List.of(VlmRequest.of(ids, img, probe)), GenerationConfig.greedy(0));
        assertTrue(visSlots[0] > 0, "the visual span should not start at position 0");
        for (int v = 0; v < 64; v++) {
            assertEquals(row[0][visSlots[v]], stage1.scores()[v], 1e-5, "token " + v);
        }
        int n = stage1.kept().length;
        assertArrayEquals(Select.topK(stage1.scores(), java.util.stream.IntStream.range(0, 64).toArray(), n), stage1.kept());
    }
}
