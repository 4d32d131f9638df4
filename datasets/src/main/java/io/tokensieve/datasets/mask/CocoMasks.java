package io.tokensieve.datasets.mask;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * COCO segmentations as pycocotools decodes them: polygons rasterised by its run-length polygon routine
 * (boundary sampled at 5x, column-major runs), uncompressed RLE ({@code counts} as a list) and compressed
 * RLE ({@code counts} as the LEB128-like string). Several parts are merged by union. Reimplemented from
 * the documented algorithm so masks match the reference toolkit pixel for pixel.
 */
public final class CocoMasks {
    private static final double SCALE = 5;

    private CocoMasks() {}

    /** Rasterises polygons {@code [x0, y0, x1, y1, ...]} (each at least 3 points) into a 0/1 mask. */
    public static LabelMask fromPolygons(List<double[]> polygons, int height, int width) {
        byte[] out = new byte[width * height];
        for (double[] p : polygons) {
            decodeInto(polygonRuns(p, height, width), height, width, out);
        }
        return new LabelMask(width, height, out);
    }

    /** Decodes column-major RLE counts (alternating runs of 0 and 1, starting with 0) into a 0/1 mask. */
    public static LabelMask fromRuns(long[] counts, int height, int width) {
        byte[] out = new byte[width * height];
        decodeInto(counts, height, width, out);
        return new LabelMask(width, height, out);
    }

    /** Decodes the compressed RLE string of COCO's {@code counts} field. */
    public static long[] decodeString(String s) {
        List<Long> counts = new ArrayList<>();
        int p = 0;
        while (p < s.length()) {
            long x = 0;
            int k = 0;
            boolean more = true;
            while (more) {
                if (p >= s.length()) {
                    throw new IllegalArgumentException("compressed RLE ends inside a number");
                }
                int c = s.charAt(p) - 48;
                x |= (long) (c & 0x1f) << (5 * k);
                more = (c & 0x20) != 0;
                p++;
                k++;
                if (!more && (c & 0x10) != 0) {
                    x |= -1L << (5 * k);
                }
            }
            if (counts.size() > 2) {
                x += counts.get(counts.size() - 2);
            }
            counts.add(x & 0xffffffffL);
        }
        return counts.stream().mapToLong(Long::longValue).toArray();
    }

    private static void decodeInto(long[] counts, int height, int width, byte[] rowMajor) {
        long total = (long) height * width;
        long idx = 0;
        boolean on = false;
        for (long c : counts) {
            if (c < 0 || idx + c > total) {
                throw new IllegalArgumentException("RLE runs cover more than the " + width + "x" + height + " image");
            }
            if (on) {
                for (long i = idx; i < idx + c; i++) {
                    int x = (int) (i / height);
                    int y = (int) (i % height);
                    rowMajor[y * width + x] = 1;
                }
            }
            idx += c;
            on = !on;
        }
    }

    /** Column-major RLE counts of one polygon, following pycocotools' rleFrPoly. */
    static long[] polygonRuns(double[] xy, int h, int w) {
        int k = xy.length / 2;
        if (k < 3 || xy.length % 2 != 0) {
            throw new IllegalArgumentException("a polygon needs at least 3 points (x, y pairs), got " + xy.length
                    + " coordinates");
        }
        // upsample the vertices and walk the boundary densely
        int[] x = new int[k + 1];
        int[] y = new int[k + 1];
        for (int j = 0; j < k; j++) {
            x[j] = (int) (SCALE * xy[2 * j] + .5);
            y[j] = (int) (SCALE * xy[2 * j + 1] + .5);
        }
        x[k] = x[0];
        y[k] = y[0];
        IntList u = new IntList();
        IntList v = new IntList();
        for (int j = 0; j < k; j++) {
            int xs = x[j];
            int xe = x[j + 1];
            int ys = y[j];
            int ye = y[j + 1];
            int dx = Math.abs(xe - xs);
            int dy = Math.abs(ys - ye);
            boolean flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
            if (flip) {
                int t = xs;
                xs = xe;
                xe = t;
                t = ys;
                ys = ye;
                ye = t;
            }
            double s = dx >= dy ? (double) (ye - ys) / dx : (double) (xe - xs) / dy;
            if (dx >= dy) {
                for (int d = 0; d <= dx; d++) {
                    int t = flip ? dx - d : d;
                    u.add(t + xs);
                    v.add(cInt(ys + s * t + .5));
                }
            } else {
                for (int d = 0; d <= dy; d++) {
                    int t = flip ? dy - d : d;
                    v.add(t + ys);
                    u.add(cInt(xs + s * t + .5));
                }
            }
        }
        // keep the points where the boundary crosses a pixel column, back at image scale
        IntList bx = new IntList();
        IntList by = new IntList();
        for (int j = 1; j < u.size; j++) {
            if (u.get(j) == u.get(j - 1)) {
                continue;
            }
            double xd = u.get(j) < u.get(j - 1) ? u.get(j) : u.get(j) - 1;
            xd = (xd + .5) / SCALE - .5;
            if (Math.floor(xd) != xd || xd < 0 || xd > w - 1) {
                continue;
            }
            double yd = Math.min(v.get(j), v.get(j - 1));
            yd = (yd + .5) / SCALE - .5;
            yd = yd < 0 ? 0 : Math.min(yd, h);
            yd = Math.ceil(yd);
            bx.add((int) xd);
            by.add((int) yd);
        }
        // each crossing toggles the mask: sorted crossing positions become run lengths
        long[] a = new long[bx.size + 1];
        for (int j = 0; j < bx.size; j++) {
            a[j] = (long) bx.get(j) * h + by.get(j);
        }
        a[bx.size] = (long) h * w;
        Arrays.sort(a);
        long prev = 0;
        for (int j = 0; j < a.length; j++) {
            long t = a[j];
            a[j] -= prev;
            prev = t;
        }
        // a zero-length run means two toggles at one pixel: fold the following run into the previous one
        long[] b = new long[a.length];
        int m = 0;
        int j = 0;
        b[m++] = a[j++];
        while (j < a.length) {
            if (a[j] > 0) {
                b[m++] = a[j++];
            } else {
                j++;
                if (j < a.length) {
                    b[m - 1] += a[j++];
                }
            }
        }
        return Arrays.copyOf(b, m);
    }

    /** C's double-to-int conversion on x86 (NaN, from a zero-length edge, becomes INT_MIN). */
    private static int cInt(double d) {
        return Double.isNaN(d) ? Integer.MIN_VALUE : (int) d;
    }

    private static final class IntList {
        int[] a = new int[64];
        int size;

        void add(int v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, size * 2);
            }
            a[size++] = v;
        }

        int get(int i) {
            return a[i];
        }
    }
}
