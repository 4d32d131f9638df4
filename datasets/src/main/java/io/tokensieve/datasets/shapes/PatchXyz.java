package io.tokensieve.datasets.shapes;

/**
 * World xyz of each visual token of a posed depth image, as LLaVA-3D back-projects them (spec adatoken-3d §2,
 * steps 4-5, with an identity axis-alignment matrix). Patch (row, col) of the {@code grid x grid} layout uses
 * its centre pixel {@code (u, v) = (col * patch + patch / 2, row * patch + patch / 2)}; when that pixel has no
 * depth (0), the nearest pixel with depth is used instead (smallest squared distance, ties broken by row,
 * then column). The point is {@code pose * ((u - cx) z / fx, (v - cy) z / fy, z, 1)} with {@code z = mm / 1000}.
 * Loaders reading {@code posed_images/} call this on the decoded 16-bit depth to get the same numbers.
 */
public final class PatchXyz {
    private PatchXyz() {}

    /**
     * @param depthMm row-major depth in millimetres ({@code size * size}), 0 = no hit
     * @param size image side in pixels
     * @param patch patch side in pixels
     * @param intrinsic 4x4 row-major intrinsic matrix
     * @param pose 4x4 row-major camera-to-world matrix
     * @return {@code [grid * grid][3]} world points, row-major over the grid; NaN where the image has no depth at all
     */
    public static float[][] compute(int[] depthMm, int size, int patch, double[] intrinsic, double[] pose) {
        int grid = size / patch;
        float[][] out = new float[grid * grid][3];
        for (int r = 0; r < grid; r++) {
            for (int c = 0; c < grid; c++) {
                int[] px = nearestWithDepth(depthMm, size, c * patch + patch / 2, r * patch + patch / 2);
                float[] xyz = out[r * grid + c];
                if (px == null) {
                    xyz[0] = Float.NaN;
                    xyz[1] = Float.NaN;
                    xyz[2] = Float.NaN;
                    continue;
                }
                double[] w = backProject(px[0], px[1], depthMm[px[1] * size + px[0]], intrinsic, pose);
                xyz[0] = (float) w[0];
                xyz[1] = (float) w[1];
                xyz[2] = (float) w[2];
            }
        }
        return out;
    }

    /** World point of pixel (u, v) at {@code mm} millimetres of depth. */
    public static double[] backProject(int u, int v, int mm, double[] intrinsic, double[] pose) {
        double z = mm / 1000.0;
        double x = (u - intrinsic[2]) * z / intrinsic[0];
        double y = (v - intrinsic[6]) * z / intrinsic[5];
        return new double[] {
            pose[0] * x + pose[1] * y + pose[2] * z + pose[3],
            pose[4] * x + pose[5] * y + pose[6] * z + pose[7],
            pose[8] * x + pose[9] * y + pose[10] * z + pose[11],
        };
    }

    /** {u, v} of the nearest pixel with depth, searching rings of growing radius; null when there is none. */
    static int[] nearestWithDepth(int[] depthMm, int size, int u0, int v0) {
        if (depthMm[v0 * size + u0] != 0) {
            return new int[] {u0, v0};
        }
        int[] best = null;
        long bestD = Long.MAX_VALUE;
        for (int ring = 1; ring < size; ring++) {
            // every pixel at Chebyshev distance `ring` has squared distance >= ring^2; stop once that cannot win
            if ((long) ring * ring > bestD) {
                break;
            }
            for (int v = v0 - ring; v <= v0 + ring; v++) {
                if (v < 0 || v >= size) {
                    continue;
                }
                boolean edgeRow = v == v0 - ring || v == v0 + ring;
                for (int u = u0 - ring; u <= u0 + ring; u += edgeRow ? 1 : 2 * ring) {
                    if (u < 0 || u >= size || depthMm[v * size + u] == 0) {
                        continue;
                    }
                    long d = (long) (u - u0) * (u - u0) + (long) (v - v0) * (v - v0);
                    if (d < bestD || (d == bestD && (v < best[1] || (v == best[1] && u < best[0])))) {
                        bestD = d;
                        best = new int[] {u, v};
                    }
                }
            }
        }
        return best;
    }
}
