package io.tokensieve.train;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cross-validated ridge: a weak signal among loud directions needs a weak ridge once rows are many. */
class LinearReadoutTest {
    private static final int D = 32;

    /** Rows of loud noise in every direction but one, which holds the class (two classes) quietly. */
    private static float[] rows(int n, int[] cls, Random r) {
        float[] x = new float[n * D];
        for (int i = 0; i < n; i++) {
            cls[i] = r.nextInt(2);
            for (int k = 1; k < D; k++) {
                x[i * D + k] = (float) (10 * r.nextGaussian());
            }
            x[i * D] = (float) (0.2 * (2 * cls[i] - 1) + 0.05 * r.nextGaussian());
        }
        return x;
    }

    private static double accuracy(LinearReadout[] c, float[] x, int[] cls) {
        int right = 0;
        for (int i = 0; i < cls.length; i++) {
            right += LinearReadout.classify(c, x, i) == cls[i] ? 1 : 0;
        }
        return (double) right / cls.length;
    }

    @Test
    void crossValidationFindsTheWeakRidgeAQuietSignalNeedsAndItReadsHeldOutRows() {
        Random r = new Random(3);
        int n = 2000;
        int[] cls = new int[n];
        float[] x = rows(n, cls, r);
        double[][] oneHot = new double[2][n];
        for (int i = 0; i < n; i++) {
            oneHot[cls[i]][i] = 1;
        }
        int[] heldCls = new int[1000];
        float[] held = rows(1000, heldCls, r);
        double chosen = LinearReadout.chooseRidge(x, oneHot, D, true);
        assertTrue(chosen < LinearReadout.RIDGES[0], "chose " + chosen);
        double strong = accuracy(LinearReadout.fit(x, oneHot, D, LinearReadout.RIDGES[0]), held, heldCls);
        double cv = accuracy(LinearReadout.fitChosen(x, oneHot, D, true), held, heldCls);
        assertTrue(cv > 0.95, "cross-validated ridge reads " + cv);
        assertTrue(strong < cv - 0.1, "the strongest ridge hides it: " + strong + " against " + cv);
        // a sign read-out chooses the same way
        double[][] sign = new double[1][n];
        for (int i = 0; i < n; i++) {
            sign[0][i] = 2 * cls[i] - 1;
        }
        assertTrue(LinearReadout.chooseRidge(x, sign, D, false) < LinearReadout.RIDGES[0]);
    }

    @Test
    void underFourRowsTheStrongestRidgeIsKept() {
        float[] x = new float[3 * D];
        double[][] y = {{1, 0, 1}, {0, 1, 0}};
        assertEquals(LinearReadout.RIDGES[0], LinearReadout.chooseRidge(x, y, D, true));
    }
}
