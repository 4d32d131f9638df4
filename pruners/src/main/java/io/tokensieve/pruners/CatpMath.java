package io.tokensieve.pruners;

import java.util.Arrays;

/**
 * The arithmetic of CATP on plain arrays (catp.md sections 4 and 9): the rescaled similarities, the
 * stage-1 greedy maximisation of facility location plus alignment, the stage budgets, the stage-2 context
 * score and the Avg.Rel helper of the paper's tables. {@link CatpPruner} feeds it from the model.
 */
public final class CatpMath {
    /** Row norms below this count as this in cosines. */
    static final double MIN_NORM = 1e-8;

    private CatpMath() {}

    /** Cosine similarity of two vectors (norms clamped at 1e-8). */
    public static double cos(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int k = 0; k < a.length; k++) {
            dot += (double) a[k] * b[k];
            na += (double) a[k] * a[k];
            nb += (double) b[k] * b[k];
        }
        return dot / (Math.max(Math.sqrt(na), MIN_NORM) * Math.max(Math.sqrt(nb), MIN_NORM));
    }

    /** {@code W[j][k] = (cos(x_j, x_k) + 1) / 2}, the stage-1 similarity in [0, 1]. */
    public static double[][] similarity(float[][] x) {
        int n = x.length;
        double[][] w = new double[n][n];
        for (int j = 0; j < n; j++) {
            for (int k = j; k < n; k++) {
                double v = (cos(x[j], x[k]) + 1) / 2;
                w[j][k] = v;
                w[k][j] = v;
            }
        }
        return w;
    }

    /** Alignment {@code a_j = (cos(x_j, v) + 1) / 2}; all zeros when there is no paired text ({@code v == null}). */
    public static double[] alignment(float[][] x, float[] v) {
        double[] a = new double[x.length];
        if (v != null) {
            for (int j = 0; j < x.length; j++) {
                a[j] = (cos(x[j], v) + 1) / 2;
            }
        }
        return a;
    }

    /** Mean of rows, or null when there are none. */
    public static float[] mean(float[][] rows) {
        if (rows.length == 0) {
            return null;
        }
        double[] s = new double[rows[0].length];
        for (float[] r : rows) {
            for (int k = 0; k < s.length; k++) {
                s[k] += r[k];
            }
        }
        float[] out = new float[s.length];
        for (int k = 0; k < s.length; k++) {
            out[k] = (float) (s[k] / rows.length);
        }
        return out;
    }

    /**
     * Stage-1 greedy result: picks in greedy order, the marginal gain of each pick, and the gain every
     * unpicked candidate would have had in one more round (NaN for picked ones).
     */
    public record Greedy(int[] order, double[] gains, double[] remainingGains) {
        /** The kept set, ascending. */
        public int[] selected() {
            int[] s = order.clone();
            Arrays.sort(s);
            return s;
        }
    }

    /**
     * Greedy maximisation of {@code F(Y) = sum_k max_{j in Y} W[j][k] + lambda1 * sum_{j in Y} a_j} with
     * {@code |Y| = min(k, n)} (spec 4.1 step 5); ties go to the lowest index.
     */
    public static Greedy facilityLocation(double[][] w, double[] a, int k, double lambda1) {
        int n = w.length;
        k = Math.max(0, Math.min(k, n));
        double[] best = new double[n];
        boolean[] chosen = new boolean[n];
        int[] order = new int[k];
        double[] gains = new double[k];
        double[] gain = new double[n];
        for (int t = 0; t <= k; t++) {
            int pick = -1;
            for (int c = 0; c < n; c++) {
                if (chosen[c]) {
                    gain[c] = Double.NaN;
                    continue;
                }
                double g = lambda1 * a[c];
                double[] wc = w[c];
                for (int q = 0; q < n; q++) {
                    double d = wc[q] - best[q];
                    if (d > 0) {
                        g += d;
                    }
                }
                gain[c] = g;
                if (pick < 0 || g > gain[pick]) {
                    pick = c;
                }
            }
            if (t == k) {
                break;
            }
            order[t] = pick;
            gains[t] = gain[pick];
            chosen[pick] = true;
            for (int q = 0; q < n; q++) {
                best[q] = Math.max(best[q], w[pick][q]);
            }
        }
        return new Greedy(order, gains, gain.clone());
    }

    /** {@code F(Y)} for a set of indices (F of the empty set is 0, since W >= 0). */
    public static double objective(double[][] w, double[] a, int[] set, double lambda1) {
        double f = 0;
        for (int q = 0; q < w.length; q++) {
            double m = 0;
            for (int j : set) {
                m = Math.max(m, w[j][q]);
            }
            f += m;
        }
        for (int j : set) {
            f += lambda1 * a[j];
        }
        return f;
    }

    /**
     * Stage-1 keep count of one image: {@code floor(S (1 - R/2))} (spec 4.0), never fewer than the image's
     * final target and never more than its tokens. {@code removed} is R, the share of tokens the whole
     * method removes.
     */
    public static int stage1Keep(int size, int finalTarget, double removed) {
        int k = (int) Math.floor(size * (1 - removed / 2) + 1e-9);
        return Math.min(size, Math.max(finalTarget, k));
    }

    /**
     * Stage-2a score of each context token (spec eq. 8-9): {@code max(0, A^K - A^{K-1}) + lambda2 * cos}.
     * With {@code normalise} both terms are min-max normalised over the candidates first (ablation flag).
     */
    public static double[] contextScores(double[] attnK, double[] attnKm1, double[] cosToQuery, double lambda2,
                                         boolean normalise) {
        int n = attnK.length;
        double[] growth = new double[n];
        for (int i = 0; i < n; i++) {
            growth[i] = Math.max(0, attnK[i] - attnKm1[i]);
        }
        double[] c = cosToQuery.clone();
        if (normalise) {
            growth = minMax(growth);
            c = minMax(c);
        }
        double[] s = new double[n];
        for (int i = 0; i < n; i++) {
            s[i] = growth[i] + lambda2 * c[i];
        }
        return s;
    }

    static double[] minMax(double[] v) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = hi > lo ? (v[i] - lo) / (hi - lo) : 0;
        }
        return out;
    }

    /**
     * Indices of the {@code k} highest scores (ties: lower index), ascending, with at least
     * {@code minPerGroup} from each group where the group has that many ({@code group[i]} is a small int).
     */
    public static int[] topKWithFloor(double[] s, int[] group, int k, int minPerGroup) {
        int n = s.length;
        k = Math.max(0, Math.min(k, n));
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> s[x] != s[y] ? Double.compare(s[y], s[x]) : Integer.compare(x, y));
        boolean[] keep = new boolean[n];
        int taken = 0;
        if (minPerGroup > 0) {
            int groups = Arrays.stream(group).max().orElse(-1) + 1;
            int[] have = new int[groups];
            for (int i : order) {
                if (taken < k && have[group[i]] < minPerGroup) {
                    keep[i] = true;
                    have[group[i]]++;
                    taken++;
                }
            }
        }
        for (int i : order) {
            if (taken >= k) {
                break;
            }
            if (!keep[i]) {
                keep[i] = true;
                taken++;
            }
        }
        return java.util.stream.IntStream.range(0, n).filter(i -> keep[i]).toArray();
    }

    /** Avg.Rel of the paper's tables: the mean over benchmarks of method / vanilla, as a percentage. */
    public static double avgRel(double[] method, double[] vanilla) {
        if (method.length != vanilla.length || method.length == 0) {
            throw new IllegalArgumentException("Avg.Rel needs equally many method and vanilla scores");
        }
        double s = 0;
        for (int i = 0; i < method.length; i++) {
            s += method[i] / vanilla[i];
        }
        return 100 * s / method.length;
    }
}
