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
 * (mixed into every dimension, with noise) are read, tokens of noise alone are not, and the ridge solver recovers
 * a known linear map.
 */
class PositionProbeTest {
    private static final int GRID = 8;
    private static final int D = 16;

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
    }

    @Test
    void tokensThatCarryTheirPositionAreReadAndNoiseIsNot() {
        List<Scene2d> scenes = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            scenes.add(ShapesBench.vqa(TokenProbe.SEED, i * ShapesBench.VQA_QUESTIONS_PER_IMAGE).scene());
        }
        Random rng = new Random(9);
        float[][] mix = new float[2][D];
        for (int k = 0; k < D; k++) {
            mix[0][k] = (float) rng.nextGaussian();
            mix[1][k] = (float) rng.nextGaussian();
        }
        float[][] placed = new float[scenes.size()][];
        float[][] noise = new float[scenes.size()][];
        for (int i = 0; i < scenes.size(); i++) {
            placed[i] = new float[GRID * GRID * D];
            noise[i] = new float[GRID * GRID * D];
            for (int p = 0; p < GRID * GRID; p++) {
                for (int k = 0; k < D; k++) {
                    float n = (float) rng.nextGaussian() * 0.1f;
                    placed[i][p * D + k] = mix[0][k] * (p % GRID) + mix[1][k] * (p / GRID) + n;
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
        String table = PositionProbe.table(read, scenes.size());
        assertTrue(table.contains("fit on the 12 first held-out images, measured on the other 12"), table);
        assertTrue(table.contains("| left/right of two objects | " + read.get(4).count() + " | "), table);
    }
}
