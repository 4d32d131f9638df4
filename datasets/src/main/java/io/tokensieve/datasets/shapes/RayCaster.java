package io.tokensieve.datasets.shapes;

import io.tokensieve.core.image.RgbImage;

/**
 * Renders a {@link Scene3d} through a {@link Camera} by casting one ray per pixel: nearest hit among the
 * primitives and the square floor, Lambert shading with a shadow ray, a checked and mottled floor, a grey
 * sky where nothing is hit. Also returns the z-depth in millimetres (0 = no hit) and the object id per pixel.
 */
final class RayCaster {
    /** The floor is the square |x|, |y| <= this many metres. */
    static final double FLOOR_HALF = 3.0;
    private static final double TILE = 0.4;
    private static final double EPS = 1e-6;

    /** Colour image, depth (mm, row-major), and object id per pixel (-1 floor or sky). */
    record Rendered(RgbImage colour, int[] depthMm, int[] ids) {}

    private RayCaster() {}

    /** Renders one view; the floor comes from the scene's texture seed, the pixel noise from {@code noise}. */
    static Rendered render(Scene3d scene, Camera cam, Rng noise) {
        int size = ShapesBench.IMAGE_SIZE;
        double[] p = cam.pose();
        Floor floor = new Floor(new Rng(scene.textureSeed()));
        float[] rgb = new float[size * size * 3];
        int[] depth = new int[size * size];
        int[] ids = new int[size * size];
        double[] n = new double[3];
        double[] best = new double[3];
        double[] light = scene.light();
        for (int v = 0; v < size; v++) {
            for (int u = 0; u < size; u++) {
                double a = (u - cam.cx()) / cam.fx();
                double b = (v - cam.cy()) / cam.fy();
                // world direction whose camera-z component is 1, so t is the depth
                double dx = p[0] * a + p[1] * b + p[2];
                double dy = p[4] * a + p[5] * b + p[6];
                double dz = p[8] * a + p[9] * b + p[10];
                double t = Double.POSITIVE_INFINITY;
                int hit = -1;
                for (Object3d o : scene.objects()) {
                    double th = o.intersect(p[3], p[7], p[11], dx, dy, dz, EPS, n);
                    if (th < t) {
                        t = th;
                        hit = o.id();
                        System.arraycopy(n, 0, best, 0, 3);
                    }
                }
                boolean onFloor = false;
                if (dz < 0) {
                    double tf = -p[11] / dz;
                    double fx = p[3] + tf * dx;
                    double fy = p[7] + tf * dy;
                    if (tf < t && Math.abs(fx) <= FLOOR_HALF && Math.abs(fy) <= FLOOR_HALF) {
                        t = tf;
                        hit = -1;
                        onFloor = true;
                        best[0] = 0;
                        best[1] = 0;
                        best[2] = 1;
                    }
                }
                int i = v * size + u;
                ids[i] = hit;
                if (t == Double.POSITIVE_INFINITY) {
                    double sky = 205 + 30 * (double) v / size;
                    rgb[i * 3] = (float) sky;
                    rgb[i * 3 + 1] = (float) sky;
                    rgb[i * 3 + 2] = (float) (sky + 6);
                    depth[i] = 0;
                    continue;
                }
                long mm = Math.round(t * 1000);
                depth[i] = mm > 65535 ? 0 : (int) Math.max(1, mm);
                double hx = p[3] + t * dx;
                double hy = p[7] + t * dy;
                double hz = p[11] + t * dz;
                double lambert = Math.max(0, best[0] * light[0] + best[1] * light[1] + best[2] * light[2]);
                if (lambert > 0 && shadowed(scene, hx + best[0] * 1e-4, hy + best[1] * 1e-4, hz + best[2] * 1e-4, light)) {
                    lambert *= 0.25;
                }
                double shade = 0.38 + 0.62 * lambert;
                if (onFloor) {
                    floor.colour(hx, hy, shade, rgb, i * 3);
                } else {
                    Colour c = scene.object(hit).colour();
                    rgb[i * 3] = (float) (c.r() * shade);
                    rgb[i * 3 + 1] = (float) (c.g() * shade);
                    rgb[i * 3 + 2] = (float) (c.b() * shade);
                }
            }
        }
        Texture.noiseAndQuantise(rgb, noise);
        return new Rendered(new RgbImage(size, size, rgb), depth, ids);
    }

    private static boolean shadowed(Scene3d scene, double ox, double oy, double oz, double[] l) {
        double[] n = new double[3];
        for (Object3d o : scene.objects()) {
            if (o.intersect(ox, oy, oz, l[0], l[1], l[2], EPS, n) < Double.POSITIVE_INFINITY) {
                return true;
            }
        }
        return false;
    }

    /** Two-tone tiles with a smooth mottle, in low-saturation tones. */
    private static final class Floor {
        private static final int KNOTS = 13;
        private final double[] tone0 = new double[3];
        private final double[] tone1 = new double[3];
        private final double[] knots = new double[KNOTS * KNOTS];

        Floor(Rng rng) {
            double level = rng.uniform(120, 175);
            double contrast = rng.uniform(15, 35);
            for (int c = 0; c < 3; c++) {
                double tint = rng.uniform(-10, 10);
                tone0[c] = level + tint;
                tone1[c] = level + tint - contrast;
            }
            for (int i = 0; i < knots.length; i++) {
                knots[i] = rng.uniform(-12, 12);
            }
        }

        void colour(double x, double y, double shade, float[] rgb, int at) {
            boolean odd = ((int) Math.floor((x + FLOOR_HALF) / TILE) + (int) Math.floor((y + FLOOR_HALF) / TILE)) % 2 != 0;
            double u = (x + FLOOR_HALF) / (2 * FLOOR_HALF) * (KNOTS - 1);
            double v = (y + FLOOR_HALF) / (2 * FLOOR_HALF) * (KNOTS - 1);
            int i = Math.min(KNOTS - 2, (int) u);
            int j = Math.min(KNOTS - 2, (int) v);
            double fu = u - i;
            double fv = v - j;
            double mottle = (knots[j * KNOTS + i] * (1 - fu) + knots[j * KNOTS + i + 1] * fu) * (1 - fv)
                    + (knots[(j + 1) * KNOTS + i] * (1 - fu) + knots[(j + 1) * KNOTS + i + 1] * fu) * fv;
            double[] tone = odd ? tone1 : tone0;
            for (int c = 0; c < 3; c++) {
                rgb[at + c] = (float) ((tone[c] + mottle) * shade);
            }
        }
    }
}
