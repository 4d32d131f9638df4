package io.tokensieve.datasets.shapes;

/**
 * Outlines of the 2D shapes as integer-vertex polygons around a centre, in a fixed upright orientation
 * (a rotated square would look like a diamond). Trigonometry goes through {@link StrictMath} so vertices
 * are the same on every machine.
 */
final class ShapeGeometry {
    /** Vertices of the polygon that stands in for a circle. */
    static final int CIRCLE_VERTICES = 28;

    private ShapeGeometry() {}

    static Polygon outline(Shape2d shape, int cx, int cy, int r) {
        return switch (shape) {
            case CIRCLE -> regular(cx, cy, r, CIRCLE_VERTICES, 0);
            case SQUARE -> {
                int h = (int) Math.round(r * 0.8);
                yield new Polygon(new int[] {cx - h, cx + h, cx + h, cx - h}, new int[] {cy - h, cy - h, cy + h, cy + h});
            }
            case DIAMOND -> {
                int w = (int) Math.round(r * 0.72);
                yield new Polygon(new int[] {cx, cx + w, cx, cx - w}, new int[] {cy - r, cy, cy + r, cy});
            }
            case TRIANGLE -> {
                // centred on the centroid of an upright equilateral triangle of circumradius r
                int half = (int) Math.round(r * 0.866);
                int base = (int) Math.round(r * 0.5);
                yield new Polygon(new int[] {cx, cx + half, cx - half}, new int[] {cy - r, cy + base, cy + base});
            }
            case STAR -> star(cx, cy, r, 0.5);
            case CROSS -> {
                int a = (int) Math.round(r * 0.38);
                int e = (int) Math.round(r * 0.9);
                yield new Polygon(
                        new int[] {cx - a, cx + a, cx + a, cx + e, cx + e, cx + a, cx + a, cx - a, cx - a, cx - e, cx - e, cx - a},
                        new int[] {cy - e, cy - e, cy - a, cy - a, cy + a, cy + a, cy + e, cy + e, cy + a, cy + a, cy - a, cy - a});
            }
        };
    }

    private static Polygon regular(int cx, int cy, int r, int n, double phase) {
        int[] xs = new int[n];
        int[] ys = new int[n];
        for (int i = 0; i < n; i++) {
            double t = phase + 2 * StrictMath.PI * i / n;
            xs[i] = cx + (int) Math.round(r * StrictMath.cos(t));
            ys[i] = cy + (int) Math.round(r * StrictMath.sin(t));
        }
        return new Polygon(xs, ys);
    }

    private static Polygon star(int cx, int cy, int r, double innerRatio) {
        int n = 10;
        int[] xs = new int[n];
        int[] ys = new int[n];
        for (int i = 0; i < n; i++) {
            double t = -StrictMath.PI / 2 + StrictMath.PI * i / 5;
            double rad = i % 2 == 0 ? r : r * innerRatio;
            xs[i] = cx + (int) Math.round(rad * StrictMath.cos(t));
            ys[i] = cy + (int) Math.round(rad * StrictMath.sin(t));
        }
        return new Polygon(xs, ys);
    }
}
