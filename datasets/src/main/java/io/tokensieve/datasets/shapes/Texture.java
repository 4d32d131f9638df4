package io.tokensieve.datasets.shapes;

/**
 * Procedural low-saturation backgrounds (stripes, checks, clouds, speckled gradients) and pixel noise. Grey-ish
 * tones keep every object colour unambiguous; the texture and noise make background patches redundant but
 * never identical.
 */
final class Texture {
    /** Peak amplitude of the per-channel triangular pixel noise. */
    static final double NOISE = 14.0;

    private Texture() {}

    /** Fills {@code rgb} (interleaved, {@code size x size}) with a background drawn from {@code rng}. */
    static void background(float[] rgb, int size, Rng rng) {
        double level = rng.uniform(95, 185);
        double[] base = new double[3];
        double[] accent = new double[3];
        double contrast = rng.uniform(14, 30) * (rng.nextBoolean() ? 1 : -1);
        for (int c = 0; c < 3; c++) {
            double tint = rng.uniform(-12, 12);
            base[c] = level + tint;
            accent[c] = level + tint + contrast + rng.uniform(-4, 4);
        }
        int kind = rng.nextInt(4);
        double angle = rng.uniform(0, StrictMath.PI);
        double ca = StrictMath.cos(angle);
        double sa = StrictMath.sin(angle);
        double period = rng.uniform(10, 28);
        int cell = rng.nextInt(12, 32);
        int lattice = 7;
        double[] knots = new double[(lattice + 1) * (lattice + 1)];
        for (int i = 0; i < knots.length; i++) {
            knots[i] = rng.nextDouble();
        }
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                double t = switch (kind) {
                    case 0 -> (Math.floor((x * ca + y * sa) / period) % 2 == 0) ? 0 : 1;
                    case 1 -> ((x / cell + y / cell) % 2 == 0) ? 0 : 1;
                    case 2 -> clouds(knots, lattice, x * (double) lattice / size, y * (double) lattice / size);
                    default -> (x * ca + y * sa) / (size * 1.42);
                };
                int p = (y * size + x) * 3;
                for (int c = 0; c < 3; c++) {
                    rgb[p + c] = (float) (base[c] + (accent[c] - base[c]) * t);
                }
            }
        }
        if (kind == 3) {
            speckles(rgb, size, rng, contrast);
        }
    }

    private static double clouds(double[] knots, int lattice, double u, double v) {
        int i = (int) u;
        int j = (int) v;
        double fu = u - i;
        double fv = v - j;
        int w = lattice + 1;
        double a = knots[j * w + i];
        double b = knots[j * w + i + 1];
        double c = knots[(j + 1) * w + i];
        double d = knots[(j + 1) * w + i + 1];
        return (a * (1 - fu) + b * fu) * (1 - fv) + (c * (1 - fu) + d * fu) * fv;
    }

    private static void speckles(float[] rgb, int size, Rng rng, double contrast) {
        int n = rng.nextInt(40, 120);
        for (int k = 0; k < n; k++) {
            int cx = rng.nextInt(size);
            int cy = rng.nextInt(size);
            int r = rng.nextInt(1, 2);
            float delta = (float) (-contrast * rng.uniform(0.6, 1.2));
            for (int y = Math.max(0, cy - r); y <= Math.min(size - 1, cy + r); y++) {
                for (int x = Math.max(0, cx - r); x <= Math.min(size - 1, cx + r); x++) {
                    int p = (y * size + x) * 3;
                    for (int c = 0; c < 3; c++) {
                        rgb[p + c] += delta;
                    }
                }
            }
        }
    }

    /**
     * Adds triangular noise to every channel, then rounds and clamps to the 8-bit values a PNG stores. One
     * random long feeds a whole pixel: two 10-bit uniforms per channel.
     */
    static void noiseAndQuantise(float[] rgb, Rng rng) {
        double scale = NOISE / 1024.0;
        for (int i = 0; i + 2 < rgb.length; i += 3) {
            long bits = rng.nextLong();
            for (int c = 0; c < 3; c++) {
                int u1 = (int) (bits >>> (c * 20)) & 1023;
                int u2 = (int) (bits >>> (c * 20 + 10)) & 1023;
                double v = rgb[i + c] + (u1 + u2 - 1023) * scale;
                rgb[i + c] = (float) Math.max(0, Math.min(255, Math.rint(v)));
            }
        }
    }
}
