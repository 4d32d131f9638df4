package io.tokensieve.datasets.mask;

/**
 * A per-pixel label map in row-major order: 0 background, 1 target, {@link #IGNORE} excluded from
 * scoring. Predicted masks use 0 and 1 only.
 */
public record LabelMask(int width, int height, byte[] labels) {
    public static final int IGNORE = 255;

    public LabelMask {
        if (width <= 0 || height <= 0 || labels.length != width * height) {
            throw new IllegalArgumentException("mask " + width + "x" + height + " with " + labels.length + " labels");
        }
    }

    public static LabelMask empty(int width, int height) {
        return new LabelMask(width, height, new byte[width * height]);
    }

    public int get(int x, int y) {
        return labels[y * width + x] & 0xff;
    }

    public int count(int label) {
        int n = 0;
        for (byte b : labels) {
            if ((b & 0xff) == label) {
                n++;
            }
        }
        return n;
    }

    /** Nearest-neighbour resize (OpenCV INTER_NEAREST: source index floor(dst * src / dst_size)). */
    public LabelMask resizedNearest(int w, int h) {
        if (w == width && h == height) {
            return this;
        }
        byte[] out = new byte[w * h];
        for (int y = 0; y < h; y++) {
            int sy = Math.min((int) Math.floor(y * (double) height / h), height - 1);
            for (int x = 0; x < w; x++) {
                int sx = Math.min((int) Math.floor(x * (double) width / w), width - 1);
                out[y * w + x] = labels[sy * width + sx];
            }
        }
        return new LabelMask(w, h, out);
    }
}
