package io.tokensieve.datasets.shapes;

import java.util.Locale;

/**
 * A pinhole camera in the LLaVA-3D / ScanNet convention: {@code pose} is the 4x4 camera-to-world matrix
 * (row-major; OpenCV camera axes x right, y down, z forward; world z up, metres) and {@code intrinsic} the
 * 4x4 intrinsic matrix ({@code fx 0 cx 0 / 0 fy cy 0 / 0 0 1 0 / 0 0 0 1}). Pixel (u, v) is the image point
 * (u, v), so its ray is {@code ((u - cx) / fx, (v - cy) / fy, 1)} in camera coordinates and the depth of a
 * hit is its camera z. Both matrices hold exactly the values of their text files (6 decimals), so renders,
 * files and back-projection agree.
 */
public record Camera(double[] pose, double[] intrinsic) {
    /** Focal length in pixels (about 61 degrees of horizontal field of view at 224 px). */
    static final double FOCAL = 190.0;

    /** A camera at {@code eye} looking at {@code target}, with world z up. */
    static Camera lookAt(double[] eye, double[] target) {
        int size = ShapesBench.IMAGE_SIZE;
        double[] f = SceneSampler3d.normalise(new double[] {target[0] - eye[0], target[1] - eye[1], target[2] - eye[2]});
        double[] right = SceneSampler3d.normalise(cross(f, new double[] {0, 0, 1}));
        double[] down = cross(f, right);
        double[] pose = {
            right[0], down[0], f[0], eye[0],
            right[1], down[1], f[1], eye[1],
            right[2], down[2], f[2], eye[2],
            0, 0, 0, 1,
        };
        double c = (size - 1) / 2.0;
        double[] k = {FOCAL, 0, c, 0, 0, FOCAL, c, 0, 0, 0, 1, 0, 0, 0, 0, 1};
        return new Camera(parse(format(pose)), parse(format(k)));
    }

    private static double[] cross(double[] a, double[] b) {
        return new double[] {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
    }

    public double fx() {
        return intrinsic[0];
    }

    public double fy() {
        return intrinsic[5];
    }

    public double cx() {
        return intrinsic[2];
    }

    public double cy() {
        return intrinsic[6];
    }

    /** Four lines of four space-separated numbers with 6 decimals, as ScanNet's pose and intrinsic files. */
    public static String format(double[] m) {
        StringBuilder b = new StringBuilder();
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 4; c++) {
                String v = String.format(Locale.ROOT, "%.6f", m[r * 4 + c]);
                b.append("-0.000000".equals(v) ? "0.000000" : v).append(c < 3 ? " " : "\n");
            }
        }
        return b.toString();
    }

    /** Reads a 4x4 matrix written by {@link #format} (any whitespace between the 16 numbers). */
    public static double[] parse(String text) {
        String[] parts = text.trim().split("\\s+");
        if (parts.length != 16) {
            throw new IllegalArgumentException("a 4x4 matrix needs 16 numbers, got " + parts.length);
        }
        double[] m = new double[16];
        for (int i = 0; i < 16; i++) {
            m[i] = Double.parseDouble(parts[i]);
        }
        return m;
    }
}
