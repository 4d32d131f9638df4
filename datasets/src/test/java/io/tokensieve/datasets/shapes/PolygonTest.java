package io.tokensieve.datasets.shapes;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PolygonTest {
    private static final int SIZE = 64;

    /** Scanline fill must equal the exact per-pixel rule, for every shape and for random concave polygons. */
    @Test
    void scanlineFillEqualsExactPointTest() {
        Rng rng = new Rng(7);
        for (int k = 0; k < 300; k++) {
            Polygon p;
            if (k < 120) {
                Shape2d s = Shape2d.values()[k % Shape2d.values().length];
                p = ShapeGeometry.outline(s, rng.nextInt(-5, SIZE + 5), rng.nextInt(-5, SIZE + 5), rng.nextInt(3, 30));
            } else {
                p = randomStarShaped(rng);
            }
            boolean[] fast = p.rasterise(SIZE, SIZE);
            boolean[] exact = new boolean[SIZE * SIZE];
            for (int y = 0; y < SIZE; y++) {
                for (int x = 0; x < SIZE; x++) {
                    exact[y * SIZE + x] = p.contains(x, y);
                }
            }
            assertArrayEquals(exact, fast, "polygon " + k);
        }
    }

    @Test
    void boundaryPixelsAreIncluded() {
        Polygon square = new Polygon(new int[] {2, 5, 5, 2}, new int[] {2, 2, 5, 5});
        assertTrue(square.contains(2, 2));
        assertTrue(square.contains(5, 3));
        assertTrue(square.contains(3, 5));
        assertFalse(square.contains(6, 3));
        assertEquals(16, square.pixelIndices(SIZE, SIZE).length);
        Polygon tri = new Polygon(new int[] {0, 4, 0}, new int[] {0, 0, 4});
        assertTrue(tri.contains(2, 2), "on the hypotenuse");
        assertFalse(tri.contains(3, 2));
    }

    private static Polygon randomStarShaped(Rng rng) {
        int n = rng.nextInt(3, 14);
        int cx = rng.nextInt(0, SIZE);
        int cy = rng.nextInt(0, SIZE);
        int[] xs = new int[n];
        int[] ys = new int[n];
        for (int i = 0; i < n; i++) {
            double t = 2 * Math.PI * (i + rng.uniform(0, 0.8)) / n;
            double r = rng.uniform(2, 25);
            xs[i] = cx + (int) Math.round(r * Math.cos(t));
            ys[i] = cy + (int) Math.round(r * Math.sin(t));
        }
        return new Polygon(xs, ys);
    }
}
