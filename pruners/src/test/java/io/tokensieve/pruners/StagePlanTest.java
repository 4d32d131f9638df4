package io.tokensieve.pruners;

import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.PruneException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Depth mapping of stage boundaries and the layer-average solve shared by the layer-wise pruners. */
class StagePlanTest {
    static ModelShape shape(int layers) {
        return new ModelShape(layers, 4, 2, 16, 64, 128, 2, 32, 2, -2, 64);
    }

    @Test
    void boundariesMapByRelativeDepthDistinctAndValid() {
        int[] adaptinfer = StageLayers.outputsToBoundaries(new int[] {1, 10, 20});
        assertArrayEquals(new int[] {2, 11, 21}, StageLayers.map(adaptinfer, 32, shape(32), 1));
        assertArrayEquals(new int[] {1, 3, 5}, StageLayers.map(adaptinfer, 32, shape(8), 1));
        assertArrayEquals(new int[] {1, 2, 3}, StageLayers.map(adaptinfer, 32, shape(4), 1));
        int[] pdrop = {2, 8, 16, 24};
        assertArrayEquals(pdrop, StageLayers.map(pdrop, 32, shape(32), 1));
        assertArrayEquals(new int[] {1, 2, 4, 6}, StageLayers.map(pdrop, 32, shape(8), 1));
        assertArrayEquals(new int[] {1, 2, 3}, StageLayers.map(pdrop, 32, shape(4), 1)); // the fourth stage merges
        assertArrayEquals(new int[] {2, 4, 6}, StageLayers.map(new int[] {8, 16, 24}, 32, shape(8), 1));
        int[] sparse = StageLayers.outputsToBoundaries(new int[] {2, 6, 15});
        assertArrayEquals(new int[] {1, 2, 4}, StageLayers.map(sparse, 32, shape(8), 1));
        assertArrayEquals(new int[] {1, 2, 3}, StageLayers.map(sparse, 32, shape(4), 1));
        assertArrayEquals(new int[] {3, 6}, StageLayers.map(new int[] {3, 6}, 8, shape(8), 1));
        assertArrayEquals(new int[] {6, 12}, StageLayers.map(new int[] {3, 6}, 8, shape(16), 1));
        assertArrayEquals(new int[] {0, 1, 2, 3}, StagePlan.hooks(new int[] {1, 2, 3}));
    }

    private static List<StagePlan.Group> one(int n, int target) {
        return List.of(new StagePlan.Group(new int[] {0}, n, target));
    }

    private static void everyTargetWithinOneToken(StagePlan.Rule rule, int[] b32, int layers, int n, int from, int step) {
        int[] b = StageLayers.map(b32, 32, shape(layers), 1);
        for (int target = from; target < n; target += step) {
            StagePlan p = StagePlan.solve(layers, b, one(n, target), 0, rule);
            assertEquals(target, p.average(), 1.0 + 1e-9, "target " + target + " on " + layers + " layers");
            int[] per = p.perLayer();
            double sum = 0;
            for (int c : per) {
                sum += c;
            }
            assertEquals(p.average(), sum / layers, 1e-9);
            for (int l = 1; l < layers; l++) {
                assertTrue(per[l] <= per[l - 1] || rule instanceof SparseVlmPruner.Rule, "counts grow at layer " + l);
            }
        }
    }

    @Test
    void everyBudgetIsReachedWithinOneTokenOnEveryDepth() {
        StagePlan.Rule share = new AdaptInferPruner.ShareRule(new double[] {0.5, 0.25, 0.25}, true);
        StagePlan.Rule power = new StageGate.PowerRule(new double[] {0.5, 0.25, 0.125, 0.0625});
        StagePlan.Rule sparse = new SparseVlmPruner.Rule(new double[] {303 / 576.0, 110 / 576.0, 36 / 576.0}, true, 0.3, 0.1);
        for (int layers : new int[] {4, 8, 32}) {
            everyTargetWithinOneToken(share, new int[] {2, 11, 21}, layers, 64, 1, 1);
            everyTargetWithinOneToken(power, new int[] {2, 8, 16, 24}, layers, 64, 1, 1);
            everyTargetWithinOneToken(sparse, new int[] {3, 7, 16}, layers, 64, 1, 1);
        }
        everyTargetWithinOneToken(power, new int[] {2, 8, 16, 24}, 32, 576, 1, 7);
        // a profiled schedule close to 1 (as sieve analyze writes on a flat curve) still reaches every budget
        StagePlan.Rule flat = new StageGate.PowerRule(new double[] {1.0, 0.99996, 0.994});
        everyTargetWithinOneToken(flat, new int[] {8, 16, 24}, 8, 64, 1, 1);
        // recycling keeps at least 18 merged tokens of 576 at the first stage: budgets from about 5 are reachable
        everyTargetWithinOneToken(sparse, new int[] {3, 7, 16}, 32, 576, 5, 7);
    }

    @Test
    void firstStageMovesToLayerZeroOnlyWhenTheBoundariesCannotReachTheBudget() {
        StagePlan.Rule power = new StageGate.PowerRule(new double[] {0.5, 0.25, 0.125});
        // 4 layers, first boundary 1: layer 0 alone averages 16 of 64 tokens
        StagePlan low = StagePlan.solve(4, new int[] {1, 2, 3}, one(64, 16), 0, power);
        assertArrayEquals(new int[] {0, 2, 3}, low.boundaries());
        assertEquals(0, low.stageAt(0));
        assertEquals(-1, low.stageAt(1));
        assertEquals(1, low.stageAt(2));
        StagePlan high = StagePlan.solve(4, new int[] {1, 2, 3}, one(64, 40), 0, power);
        assertArrayEquals(new int[] {1, 2, 3}, high.boundaries());
        assertEquals(-1, high.stageAt(0));
        assertEquals(40, high.average(), 1.0);
    }

    @Test
    void groupsSplitTheBudgetAndProtectUngatedImages() {
        List<ImageSpan> imgs = List.of(new ImageSpan(0, 0, 64, 8, 8, 5, false), new ImageSpan(1, 64, 64, 8, 8, 70, true),
                new ImageSpan(2, 128, 64, 8, 8, 135, true));
        boolean[] views = AdaToken3dPruner.gated(imgs, false);
        assertArrayEquals(new boolean[] {false, true, true}, views);
        assertArrayEquals(new boolean[] {true, true, true}, AdaToken3dPruner.gated(imgs, true));
        assertArrayEquals(new boolean[] {true}, AdaToken3dPruner.gated(List.of(imgs.get(0)), false));
        // 48 per image = 144; the plain image keeps 64, 16 more than its share: the views get 40 each
        List<StagePlan.Group> g = StagePlan.groups("t", imgs, views, Budget.parse("48", Budget.Scope.IMAGE)
                .resolve(new int[] {64, 64, 64}));
        assertEquals(2, g.size());
        assertEquals(40, g.get(0).target());
        assertEquals(40, g.get(1).target());
        List<StagePlan.Group> r = StagePlan.groups("t", imgs, views, Budget.parse("0.75", Budget.Scope.REQUEST)
                .resolve(new int[] {64, 64, 64}));
        assertEquals(1, r.size());
        assertEquals(128, r.get(0).size());
        assertEquals(144 - 64, r.get(0).target());
        PruneException e = assertThrows(PruneException.class, () -> StagePlan.groups("adatoken3d", imgs, views,
                Budget.parse("0.25", Budget.Scope.REQUEST).resolve(new int[] {64, 64, 64})));
        assertTrue(e.getMessage().contains("does not prune"), e.getMessage());
    }
}
