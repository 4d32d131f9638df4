package io.tokensieve.train;

import java.util.SplittableRandom;

/**
 * A fixed linear coordinate for the 2D position table (rows = patch cells in raster order, columns = the decoder's
 * width): cell (row r, column c) of a side x side grid gets {@code scale * (x(c) * u + y(r) * v)}, with
 * {@code x(c) = (2c - (side - 1)) / (side - 1)} in [-1, 1] (likewise y) and u, v two orthonormal directions drawn from a
 * fixed seed. Two cells' difference along u is then proportional to their column difference, which a head's value and
 * output projections can carry and subtract linearly, where a learned table's rows need not order the cells at all.
 */
public final class Position2dLinear {
    /** Seed of the two directions: fixed, so that every run adds the same coordinate. */
    static final long SEED = 2024L;

    private Position2dLinear() {
    }

    /**
     * The component to add, {@code [patches * width]} row-major.
     *
     * @param patches the table's rows, a square number of cells
     * @throws IllegalArgumentException when {@code patches} is not a square of at least 4 or {@code width} is below 2
     */
    public static float[] component(int patches, int width, float scale) {
        int side = (int) Math.round(Math.sqrt(patches));
        if (side * side != patches || side < 2) {
            throw new IllegalArgumentException("a 2D position table needs a square grid of at least 2 x 2 cells, got "
                    + patches + " rows");
        }
        if (width < 2) {
            throw new IllegalArgumentException("two directions need a width of at least 2, got " + width);
        }
        double[][] dirs = directions(width);
        float[] out = new float[patches * width];
        for (int cell = 0; cell < patches; cell++) {
            double x = (2.0 * (cell % side) - (side - 1)) / (side - 1);
            double y = (2.0 * (cell / side) - (side - 1)) / (side - 1);
            for (int d = 0; d < width; d++) {
                out[cell * width + d] = (float) (scale * (x * dirs[0][d] + y * dirs[1][d]));
            }
        }
        return out;
    }

    /** Two orthonormal Gaussian directions of {@code width} (Gram-Schmidt), from {@link #SEED}. */
    static double[][] directions(int width) {
        SplittableRandom rng = new SplittableRandom(SEED);
        double[] u = new double[width];
        double[] v = new double[width];
        for (int d = 0; d < width; d++) {
            u[d] = gaussian(rng);
            v[d] = gaussian(rng);
        }
        normalise(u);
        double dot = 0;
        for (int d = 0; d < width; d++) {
            dot += u[d] * v[d];
        }
        for (int d = 0; d < width; d++) {
            v[d] -= dot * u[d];
        }
        normalise(v);
        return new double[][] {u, v};
    }

    private static double gaussian(SplittableRandom rng) { // Box-Muller
        double a = 1.0 - rng.nextDouble();
        return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * rng.nextDouble());
    }

    private static void normalise(double[] a) {
        double n = 0;
        for (double x : a) {
            n += x * x;
        }
        n = Math.sqrt(n);
        for (int i = 0; i < a.length; i++) {
            a[i] /= n;
        }
    }
}
