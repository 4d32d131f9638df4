package io.tokensieve.pruners;

import io.tokensieve.core.weights.Halfs;

import java.util.Random;
import java.util.function.UnaryOperator;

/**
 * The arithmetic of ZOO-Prune on plain arrays (zoo-sensitivity.md sections 3.2 and 3.3), so that it can be
 * checked without a model: the direction bank, the zeroth-order sensitivity of a row-wise map, and the
 * sensitivity-aware diversity selection (SADS). {@link ZooPruner} runs the sensitivity on the real projector
 * with DJL and must agree with {@link #sensitivity}.
 */
public final class ZooMath {
    /** Added to a direction's norm before dividing (reference code). */
    public static final double DIRECTION_EPS = 1e-12;
    /** Added to (max - min) in the min-max normalisation (reference code). */
    public static final double NORMALISE_EPS = 1e-8;
    /** Row norms below this count as this in the cosine (torch {@code cosine_similarity}). */
    public static final double COSINE_MIN_NORM = 1e-8;

    private ZooMath() {}

    /**
     * Unit directions {@code u = g / (|g| + 1e-12)} with {@code g ~ N(0, I)}: {@code [m][1][d]} when shared by
     * every token (reference code), {@code [m][n][d]} when drawn per token. Draws in the order j, token, dim.
     */
    public static float[][][] directions(Random rng, int m, int n, int d, boolean perToken) {
        int rows = perToken ? n : 1;
        float[][][] u = new float[m][rows][d];
        for (int j = 0; j < m; j++) {
            for (int i = 0; i < rows; i++) {
                double[] g = new double[d];
                double ss = 0;
                for (int c = 0; c < d; c++) {
                    g[c] = rng.nextGaussian();
                    ss += g[c] * g[c];
                }
                double norm = Math.sqrt(ss) + DIRECTION_EPS;
                for (int c = 0; c < d; c++) {
                    u[j][i][c] = (float) (g[c] / norm);
                }
            }
        }
        return u;
    }

    /** Direction {@code j} for token {@code i} (shared banks have one row). */
    static float[] direction(float[][][] u, int j, int i) {
        return u[j][u[j].length == 1 ? 0 : i];
    }

    /**
     * Zeroth-order sensitivity {@code S(i) = (1/m) sum_j |M(x_i + h u_j) - M(x_i - h u_j)| / (2h)} of the row
     * map {@code projector}, pushing {@code chunk} directions at a time (all tokens of a direction together).
     * With {@code fp16Inputs} every perturbed input is rounded to IEEE half before the map, as the reference
     * code's half-precision inputs are.
     */
    public static double[] sensitivity(double[][] x, UnaryOperator<double[][]> projector, float[][][] u, double h,
                                       int chunk, boolean fp16Inputs) {
        int n = x.length;
        int m = u.length;
        double[] s = new double[n];
        if (n == 0) {
            return s;
        }
        int d = x[0].length;
        for (int j0 = 0; j0 < m; j0 += chunk) {
            int c = Math.min(chunk, m - j0);
            double[][] plus = new double[c * n][d];
            double[][] minus = new double[c * n][d];
            for (int jj = 0; jj < c; jj++) {
                for (int i = 0; i < n; i++) {
                    float[] dir = direction(u, j0 + jj, i);
                    for (int k = 0; k < d; k++) {
                        double step = h * dir[k];
                        plus[jj * n + i][k] = round(x[i][k] + step, fp16Inputs);
                        minus[jj * n + i][k] = round(x[i][k] - step, fp16Inputs);
                    }
                }
            }
            double[][] yp = projector.apply(plus);
            double[][] ym = projector.apply(minus);
            for (int r = 0; r < c * n; r++) {
                double ss = 0;
                for (int k = 0; k < yp[r].length; k++) {
                    double diff = (yp[r][k] - ym[r][k]) / (2 * h);
                    ss += diff * diff;
                }
                s[r % n] += Math.sqrt(ss);
            }
        }
        for (int i = 0; i < n; i++) {
            s[i] /= m;
        }
        return s;
    }

    private static double round(double v, boolean fp16) {
        return fp16 ? Halfs.f16ToFloat(Halfs.floatToF16((float) v)) : v;
    }

    /**
     * Min-max normalised sensitivity: {@code (S - min) / (max - min + 1e-8)}, or all ones when S is constant.
     * "Constant" is the reference's exact {@code max == min} when {@code degenerateTol == 0}, otherwise
     * {@code max - min <= degenerateTol * max|S|}.
     */
    public static double[] normalise(double[] s, double degenerateTol) {
        double[] out = new double[s.length];
        if (s.length == 0) {
            return out;
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double absMax = 0;
        for (double v : s) {
            min = Math.min(min, v);
            max = Math.max(max, v);
            absMax = Math.max(absMax, Math.abs(v));
        }
        boolean constant = degenerateTol == 0 ? max == min : max - min <= degenerateTol * absMax;
        for (int i = 0; i < s.length; i++) {
            out[i] = constant ? 1.0 : (s[i] - min) / (max - min + NORMALISE_EPS);
        }
        return out;
    }

    /** Rows scaled to unit length (norms below 1e-8 count as 1e-8). */
    static double[][] unitRows(float[][] z) {
        double[][] out = new double[z.length][];
        for (int i = 0; i < z.length; i++) {
            double ss = 0;
            for (float v : z[i]) {
                ss += (double) v * v;
            }
            double norm = Math.max(Math.sqrt(ss), COSINE_MIN_NORM);
            out[i] = new double[z[i].length];
            for (int k = 0; k < z[i].length; k++) {
                out[i][k] = z[i][k] / norm;
            }
        }
        return out;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int k = 0; k < a.length; k++) {
            s += a[k] * b[k];
        }
        return s;
    }

    /**
     * SADS greedy order (spec 3.3): first the most sensitive token, then repeatedly the token maximising
     * {@code Shat(i) * min_{j chosen} (1 - cos(Z_i, Z_j))}; ties go to the lowest index. {@code k} is clamped
     * to [0, n]. Returns the picks in greedy order; sort them for the kept set.
     */
    public static int[] sadsOrder(float[][] z, double[] s, int k, double degenerateTol) {
        int n = z.length;
        k = Math.max(0, Math.min(k, n));
        int[] order = new int[k];
        if (k == 0) {
            return order;
        }
        double[] sh = normalise(s, degenerateTol);
        double[][] zn = unitRows(z);
        boolean[] chosen = new boolean[n];
        int first = 0;
        for (int i = 1; i < n; i++) {
            if (sh[i] > sh[first]) {
                first = i;
            }
        }
        order[0] = first;
        chosen[first] = true;
        double[] minDist = new double[n];
        for (int i = 0; i < n; i++) {
            minDist[i] = 1 - dot(zn[i], zn[first]);
        }
        for (int t = 1; t < k; t++) {
            double best = Double.NEGATIVE_INFINITY;
            int bestIdx = -1;
            for (int i = 0; i < n; i++) {
                if (chosen[i]) {
                    continue;
                }
                double sc = sh[i] * minDist[i];
                if (bestIdx < 0 || sc > best) {
                    best = sc;
                    bestIdx = i;
                }
            }
            order[t] = bestIdx;
            chosen[bestIdx] = true;
            for (int i = 0; i < n; i++) {
                minDist[i] = Math.min(minDist[i], 1 - dot(zn[i], zn[bestIdx]));
            }
        }
        return order;
    }

    /** The SADS kept set: {@link #sadsOrder} sorted ascending. */
    public static int[] sadsSelect(float[][] z, double[] s, int k, double degenerateTol) {
        int[] o = sadsOrder(z, s, k, degenerateTol);
        java.util.Arrays.sort(o);
        return o;
    }
}
