package io.tokensieve.pruners;

import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import io.tokensieve.core.testing.TestPruners;
import io.tokensieve.core.prune.ConfiguredPruner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Spatial pooling: the lattice, the cells, and pooling versus plain downsampling on a tiny model. */
class PoolTest {
    @TempDir
    Path tmp;

    private static int[] raster(int cols, int[][] cells) {
        return Arrays.stream(cells).mapToInt(c -> c[0] * cols + c[1]).toArray();
    }

    @Test
    void exactSubgridsAreStrideTwoSubsampling() {
        int[] expected = raster(8, new int[][] {{0, 0}, {0, 2}, {0, 4}, {0, 6}, {2, 0}, {2, 2}, {2, 4}, {2, 6},
                {4, 0}, {4, 2}, {4, 4}, {4, 6}, {6, 0}, {6, 2}, {6, 4}, {6, 6}});
        assertArrayEquals(expected, PoolPruner.lattice(8, 8, 16));
        // 4 x 6 grid, 6 anchors: two rows of three, stride 2 both ways
        assertArrayEquals(raster(6, new int[][] {{0, 0}, {0, 2}, {0, 4}, {2, 0}, {2, 2}, {2, 4}}), PoolPruner.lattice(4, 6, 6));
        assertArrayEquals(java.util.stream.IntStream.range(0, 64).toArray(), PoolPruner.lattice(8, 8, 64));
    }

    @Test
    void unevenBudgetsSpreadRowByRow() {
        // k = 7 on 8 x 8: r = round(sqrt 7) = 3 rows holding 2, 2, 3 anchors at rows 1, 3, 6
        int[] expected = raster(8, new int[][] {{1, 1}, {1, 5}, {3, 1}, {3, 5}, {6, 1}, {6, 3}, {6, 6}});
        assertArrayEquals(expected, PoolPruner.lattice(8, 8, 7));
        assertArrayEquals(new int[] {3 * 8 + 3}, PoolPruner.lattice(8, 8, 1)); // the centre, rounded down
        assertEquals(1, PoolPruner.centre(0, 8, 3));
        assertEquals(6, PoolPruner.centre(2, 8, 3));
        assertEquals(0, PoolPruner.centre(0, 8, 8));
        assertEquals(7, PoolPruner.centre(7, 8, 8));
    }

    @Test
    void everyBudgetGivesDistinctAnchorsAndAPartition() {
        for (int[] grid : new int[][] {{8, 8}, {4, 6}, {3, 7}, {1, 5}}) {
            int rows = grid[0];
            int cols = grid[1];
            for (int k = 1; k <= rows * cols; k++) {
                int[] a = PoolPruner.lattice(rows, cols, k);
                assertEquals(k, a.length);
                for (int i = 0; i < k; i++) {
                    assertTrue(a[i] >= 0 && a[i] < rows * cols);
                    assertTrue(i == 0 || a[i] > a[i - 1], rows + "x" + cols + " k=" + k + ": " + Arrays.toString(a));
                }
                int[] cell = PoolPruner.cells(rows, cols, a);
                for (int i = 0; i < k; i++) {
                    assertEquals(i, cell[a[i]], "an anchor belongs to its own cell");
                }
            }
        }
    }

    @Test
    void sixteenCellsAreTwoByTwoBlocks() {
        int[] a = PoolPruner.lattice(8, 8, 16);
        int[] cell = PoolPruner.cells(8, 8, a);
        for (int p = 0; p < 64; p++) {
            int anchor = (p / 8 / 2 * 2) * 8 + (p % 8 / 2 * 2);
            assertEquals(anchor, a[cell[p]], "cell of patch " + p);
        }
        assertArrayEquals(new float[] {2f, 4f}, PoolPruner.mean(List.of(new float[] {1, 5}, new float[] {3, 3})));
    }

    private static GenerationResult ask(VlmModel m, VisualInput img, ConfiguredPruner p) {
        return m.generate(List.of(VlmRequest.of(m.promptIds("what color is the circle ?", 1), List.of(img), p)),
                GenerationConfig.greedy(1)).get(0);
    }

    @Test
    void keptTokensCoverTheGridAndCarryTheirCellMeans() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 80, 80, 5));
        PrunerRegistry reg = PrunerRegistry.defaultRegistry();
        GenerationResult mean = ask(m, img, reg.create("pool:keep=16"));
        GenerationResult none = ask(m, img, reg.create("pool:keep=16,merge=none"));
        int[] kept = mean.steps().get(0).kept();
        assertArrayEquals(PoolPruner.lattice(8, 8, 16), kept);
        assertArrayEquals(kept, none.steps().get(0).kept());
        assertEquals("PROJECTED", mean.steps().get(0).hook());
        // every 4 x 4 quadrant holds a quarter of the kept tokens, each standing for 4 patches
        for (int q = 0; q < 4; q++) {
            int qr = q / 2;
            int qc = q % 2;
            assertEquals(4, Arrays.stream(kept).filter(v -> v / 8 / 4 == qr && v % 8 / 4 == qc).count());
        }
        for (int v : kept) {
            assertEquals(4f, mean.steps().get(0).scores()[v]);
        }
        // merge=none is plain downsampling: the same as keeping the lattice without replacements
        GenerationResult fixed = ask(m, img, TestPruners.fixed(HookPoint.PROJECTED, kept, PositionPolicy.RENUMBER));
        assertArrayEquals(fixed.firstTokenLogits(), none.firstTokenLogits());
        assertFalse(Arrays.equals(none.firstTokenLogits(), mean.firstTokenLogits()), "cell means changed nothing");
        // an odd budget is still exact
        assertEquals(7, ask(m, img, reg.create("pool:keep=7")).visualTokensEnteringLlm());
    }
}
