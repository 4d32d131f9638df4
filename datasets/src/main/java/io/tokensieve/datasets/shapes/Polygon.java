package io.tokensieve.datasets.shapes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A simple closed polygon with integer vertices in pixel coordinates (pixel (x, y) is the point (x, y), as
 * in OpenCV and the ReasonSeg polygons). Rasterisation rule: a pixel belongs to the polygon when its point
 * lies inside the polygon or exactly on its boundary (even-odd interior, exact integer boundary test). The
 * 2D renderer fills objects with exactly this rule, so a target's mask is the rasterised polygon.
 */
public final class Polygon {
    private final int[] xs;
    private final int[] ys;

    public Polygon(int[] xs, int[] ys) {
        if (xs.length != ys.length || xs.length < 3) {
            throw new IllegalArgumentException("a polygon needs at least 3 vertices with x and y each");
        }
        this.xs = xs.clone();
        this.ys = ys.clone();
    }

    public int size() {
        return xs.length;
    }

    public int x(int i) {
        return xs[i];
    }

    public int y(int i) {
        return ys[i];
    }

    /** The vertices as {@code [[x, y], ...]}. */
    public List<int[]> points() {
        List<int[]> out = new ArrayList<>(xs.length);
        for (int i = 0; i < xs.length; i++) {
            out.add(new int[] {xs[i], ys[i]});
        }
        return out;
    }

    /** Whether the point (x, y) is inside or on the boundary. */
    public boolean contains(int x, int y) {
        boolean inside = false;
        int n = xs.length;
        for (int i = 0, j = n - 1; i < n; j = i++) {
            if (onSegment(xs[j], ys[j], xs[i], ys[i], x, y)) {
                return true;
            }
            if ((ys[i] > y) != (ys[j] > y)) {
                // crossing x of the edge at height y, compared exactly: x < xj + (y - yj)(xi - xj)/(yi - yj)
                long num = (long) (y - ys[j]) * (xs[i] - xs[j]);
                long den = ys[i] - ys[j];
                long lhs = (long) (x - xs[j]) * den;
                if (den > 0 ? lhs < num : lhs > num) {
                    inside = !inside;
                }
            }
        }
        return inside;
    }

    private static boolean onSegment(int x1, int y1, int x2, int y2, int x, int y) {
        long cross = (long) (x2 - x1) * (y - y1) - (long) (y2 - y1) * (x - x1);
        return cross == 0 && x >= Math.min(x1, x2) && x <= Math.max(x1, x2)
                && y >= Math.min(y1, y2) && y <= Math.max(y1, y2);
    }

    /** Row-major mask of a {@code width x height} image, clipped to the image. */
    public boolean[] rasterise(int width, int height) {
        boolean[] mask = new boolean[width * height];
        forEachPixel(width, height, (x, y) -> mask[y * width + x] = true);
        return mask;
    }

    /**
     * Calls {@code sink} once for every pixel of the polygon inside the image, row by row, left to right.
     * Scanline form of {@link #contains}: interior spans between sorted edge crossings (same half-open
     * rule), plus the pixels exactly on an edge. A non-integer crossing is at least 1/224 px from every
     * integer, far above double rounding, so the result equals the exact per-pixel test.
     */
    void forEachPixel(int width, int height, PixelSink sink) {
        int n = xs.length;
        int minY = Math.max(0, Arrays.stream(ys).min().orElseThrow());
        int maxY = Math.min(height - 1, Arrays.stream(ys).max().orElseThrow());
        double[] crossings = new double[n];
        boolean[] row = new boolean[width];
        for (int y = minY; y <= maxY; y++) {
            Arrays.fill(row, false);
            int m = 0;
            for (int i = 0, j = n - 1; i < n; j = i++) {
                int x1 = xs[j];
                int y1 = ys[j];
                int x2 = xs[i];
                int y2 = ys[i];
                if ((y2 > y) != (y1 > y)) {
                    crossings[m++] = x1 + (double) (y - y1) * (x2 - x1) / (y2 - y1);
                }
                if (y < Math.min(y1, y2) || y > Math.max(y1, y2)) {
                    continue;
                }
                if (y1 == y2) {
                    fill(row, Math.min(x1, x2), Math.max(x1, x2));
                } else {
                    long num = (long) (y - y1) * (x2 - x1);
                    if (num % (y2 - y1) == 0) {
                        int x = (int) (x1 + num / (y2 - y1));
                        fill(row, x, x);
                    }
                }
            }
            Arrays.sort(crossings, 0, m);
            for (int k = 0; k + 1 < m; k += 2) {
                fill(row, (int) Math.floor(crossings[k]) + 1, (int) Math.ceil(crossings[k + 1]) - 1);
            }
            for (int x = 0; x < width; x++) {
                if (row[x]) {
                    sink.accept(x, y);
                }
            }
        }
    }

    private static void fill(boolean[] row, int from, int to) {
        int a = Math.max(0, from);
        int b = Math.min(row.length - 1, to);
        for (int x = a; x <= b; x++) {
            row[x] = true;
        }
    }

    /** Row-major indices ({@code y * width + x}) of the polygon's pixels inside the image, ascending. */
    int[] pixelIndices(int width, int height) {
        int[][] buf = {new int[256]};
        int[] n = {0};
        forEachPixel(width, height, (x, y) -> {
            if (n[0] == buf[0].length) {
                buf[0] = Arrays.copyOf(buf[0], n[0] * 2);
            }
            buf[0][n[0]++] = y * width + x;
        });
        return Arrays.copyOf(buf[0], n[0]);
    }

    @FunctionalInterface
    interface PixelSink {
        void accept(int x, int y);
    }
}
