package io.tokensieve.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Position2dLinearTest {
    private static double dot(float[] a, int off, double[] b) {
        double s = 0;
        for (int d = 0; d < b.length; d++) {
            s += a[off + d] * b[d];
        }
        return s;
    }

    @Test
    void eachCellsColumnAndRowAreReadBackAlongTheTwoDirections() {
        int side = 8;
        int width = 64;
        float scale = 1.5f;
        float[] c = Position2dLinear.component(side * side, width, scale);
        double[][] dirs = Position2dLinear.directions(width);
        assertEquals(1.0, dot(toFloat(dirs[0]), 0, dirs[0]), 1e-6, "u has unit length");
        assertEquals(0.0, dot(toFloat(dirs[0]), 0, dirs[1]), 1e-6, "u and v are orthogonal");
        for (int r = 0; r < side; r++) {
            for (int col = 0; col < side; col++) {
                int off = (r * side + col) * width;
                // hand-worked: side 8 maps columns 0..7 to -1, -5/7, ..., 1
                assertEquals(scale * (2.0 * col - 7) / 7, dot(c, off, dirs[0]), 1e-5, "column of cell " + r + "," + col);
                assertEquals(scale * (2.0 * r - 7) / 7, dot(c, off, dirs[1]), 1e-5, "row of cell " + r + "," + col);
            }
        }
        assertEquals(-scale, dot(c, 0, dirs[0]), 1e-5, "the first column sits at -scale");
        assertEquals(scale, dot(c, (side - 1) * width, dirs[0]), 1e-5, "the last column sits at +scale");
        double norm = 0;
        for (int d = 0; d < width; d++) {
            norm += c[d] * c[d];
        }
        assertEquals(scale * Math.sqrt(2), Math.sqrt(norm), 1e-5, "the corner cell lies only in the two directions");
    }

    @Test
    void theComponentIsFixedAcrossCalls() {
        float[] a = Position2dLinear.component(16, 32, 1f);
        float[] b = Position2dLinear.component(16, 32, 1f);
        assertTrue(java.util.Arrays.equals(a, b));
    }

    @Test
    void aTableThatIsNotASquareGridIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> Position2dLinear.component(63, 32, 1f));
        assertTrue(e.getMessage().contains("63 rows"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Position2dLinear.component(1, 32, 1f));
        assertThrows(IllegalArgumentException.class, () -> Position2dLinear.component(16, 1, 1f));
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }
}
