package io.tokensieve.core.prune;

/**
 * Where one visual token comes from: its image, its patch cell on the image's grid (row -1 for a CLS
 * token), and for multi-view 3D inputs the xyz of the patch in scene coordinates (NaN when unknown).
 */
public record TokenOrigin(int image, int row, int col, float x, float y, float z) {
    public static TokenOrigin patch(int image, int row, int col) {
        return new TokenOrigin(image, row, col, Float.NaN, Float.NaN, Float.NaN);
    }

    public boolean hasXyz() {
        return !Float.isNaN(x);
    }
}
