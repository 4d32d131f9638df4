package io.tokensieve.core.image;

/**
 * A decoded image as interleaved RGB floats in [0, 255], row-major ({@code data[(y * width + x) * 3 + c]}).
 * Whatever the source format (gray, RGBA, 16-bit), decoding ends here.
 */
public record RgbImage(int width, int height, float[] data) {
    public RgbImage {
        if (data.length != width * height * 3) {
            throw new IllegalArgumentException("data length does not match " + width + "x" + height + "x3");
        }
    }

    public float get(int x, int y, int c) {
        return data[(y * width + x) * 3 + c];
    }
}
