package io.tokensieve.train;

import io.tokensieve.datasets.shapes.PatchLabels;
import io.tokensieve.datasets.shapes.Scene2d;
import io.tokensieve.datasets.shapes.ShapesBench;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The position read-out against tokens whose content is known: tokens that carry their patch's column and row
 * (a random direction per column and per row, with noise) are read, tokens of noise alone are not, and the ridge
 * solver recovers a known linear map, one target or several at once.
 */
class PositionProbeTest {
    private static final int GRID = 8;
    private static final int D = 32;

    @Test
    void theReadOutRecoversAKnownLinearMap() {
        Random rng = new Random(5);
        int n = 400;
        int d = 3;
        float[] x = new float[n * d];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < d; k++) {
                x[i * d + k] = (float) rng.nextGaussian();
            }
            y[i] = 2 * x[i * d] - 3 * x[i * d + 1] + 0.5;
        }
        LinearReadout r = LinearReadout.fit(x, y, d, 1e-9);
        float[] probe = {1, 1, 7, 0, 0, 0};
        assertEquals(2 - 3 + 0.5, r.apply(probe, 0), 1e-4);
        assertEquals(0.5, r.apply(probe, 1), 1e-4);
        // ridge shrinks the slope towards zero (the bias follows the mean)
        LinearReadout shrunk = LinearReadout.fit(x, y, d, 10);
        assertTrue(Math.abs(shrunk.apply(probe, 0) - shrunk.apply(probe, 1)) < 1.0, "ridge did not shrink");
        assertThrows(IllegalArgumentException.class, () -> LinearReadout.fit(new float[5], new double[2], 3, 1e-3));
        double[] z = new double[n];
        for (int i = 0; i < n; i++) {
            z[i] = x[i * d + 2] - 1;
        }
        LinearReadout[] both = LinearReadout.fit(x, new double[][] {y, z}, d, 1e-9);
        assertEquals(r.apply(probe, 0), both[0].apply(probe, 0), 1e-9, "one factorisation, the same solution");
        assertEquals(7 - 1, both[1].apply(probe, 0), 1e-4);
    }

    @Test
    void tokensThatCarryTheirPositionAreReadAndNoiseIsNot() {
        List<Scene2d> scenes = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            scenes.add(ShapesBench.vqa(TokenProbe.SEED, i * ShapesBench.VQA_QUESTIONS_PER_IMAGE).scene());
        }
        Random rng = new Random(9);
        float[][][] code = new float[2][GRID][D]; // a random direction per column and per row
        for (float[][] axis : code) {
            for (float[] c : axis) {
                for (int k = 0; k < D; k++) {
                    c[k] = (float) rng.nextGaussian();
                }
            }
        }
        float[][] placed = new float[scenes.size()][];
        float[][] noise = new float[scenes.size()][];
        for (int i = 0; i < scenes.size(); i++) {
            placed[i] = new float[GRID * GRID * D];
            noise[i] = new float[GRID * GRID * D];
            for (int p = 0; p < GRID * GRID; p++) {
                for (int k = 0; k < D; k++) {
                    float n = (float) rng.nextGaussian() * 0.1f;
                    placed[i][p * D + k] = code[0][p % GRID][k] + code[1][p / GRID][k] + n;
                    noise[i][p * D + k] = (float) rng.nextGaussian();
                }
            }
        }
        List<PositionProbe.Row> read = PositionProbe.measure(placed, scenes, GRID, D);
        List<PositionProbe.Row> blind = PositionProbe.measure(noise, scenes, GRID, D);
        assertEquals(6, read.size());
        int objectPatches = 0;
        for (int i = scenes.size() / 2; i < scenes.size(); i++) {
            for (int o : PatchLabels.objects(scenes.get(i), GRID)) {
                objectPatches += o >= 0 ? 1 : 0;
            }
        }
        assertEquals(objectPatches, read.get(0).count(), "every object patch of the measured half");
        assertEquals(scenes.size() / 2 * GRID * GRID - objectPatches, read.get(2).count(), "and every background patch");
        for (int axis = 0; axis < 2; axis++) {
            for (int where = 0; where < 2; where++) {
                PositionProbe.Row r = read.get(2 * where + axis);
                assertTrue(r.exact() > 95 && r.withinOne() >= r.exact(), r.toString());
                assertTrue(blind.get(2 * where + axis).exact() < 40, blind.get(2 * where + axis).toString());
            }
            PositionProbe.Row pairs = read.get(4 + axis);
            assertTrue(pairs.count() > 20, pairs.toString());
            assertTrue(pairs.exact() > 95, pairs.toString());
            assertTrue(blind.get(4 + axis).exact() < 75, blind.get(4 + axis).toString());
            assertTrue(Double.isNaN(pairs.withinOne()));
        }
        String table = PositionProbe.table(new PositionProbe.Report(read, blind), scenes.size());
        assertTrue(table.contains("fit on the 12 first held-out images, measured on the other 12"), table);
        assertTrue(table.contains(String.format("| left/right of two objects | %d | %.1f%% | - | %.1f%% | - |",
                read.get(4).count(), read.get(4).exact(), blind.get(4).exact())), table);
    }
}
