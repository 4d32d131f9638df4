package io.tokensieve.pruners;

import java.util.Arrays;

/**
 * Density-peak clustering with k-nearest-neighbour density (DPC-kNN), as SparseVLM recycles deleted tokens:
 * distances {@code d_ij = |x_i - x_j| / sqrt(D)}; density {@code rho_i = exp(-mean of the squared distances
 * to its k nearest points, itself included)}; {@code delta_i} = distance to the nearest denser point (the
 * largest distance of the set for the densest); the {@code c} points with the largest {@code rho * delta}
 * are the centres and every point joins its nearest centre. Ties are broken by the lower index everywhere
 * (an equally dense point with a lower index counts as denser), where the reference adds random noise.
 */
final class DpcKnn {
    private DpcKnn() {}

    /**
     * @param centres indices of the centre points, ascending
     * @param assignment for each point, the position in {@code centres} of its cluster
     */
    record Result(int[] centres, int[] assignment) {}

    /** Clusters {@code x} ([m][D]) into {@code min(c, m)} clusters with {@code k = min(c, m)} neighbours. */
    static Result cluster(float[][] x, int c) {
        int m = x.length;
        c = Math.min(c, m);
        int k = Math.max(1, c);
        int dim = m == 0 ? 1 : x[0].length;
        double[][] d = new double[m][m];
        double dmax = 0;
        for (int i = 0; i < m; i++) {
            for (int j = i + 1; j < m; j++) {
                double s = 0;
                for (int t = 0; t < dim; t++) {
                    double diff = x[i][t] - x[j][t];
                    s += diff * diff;
                }
                d[i][j] = d[j][i] = Math.sqrt(s / dim);
                dmax = Math.max(dmax, d[i][j]);
            }
        }
        double[] rho = new double[m];
        for (int i = 0; i < m; i++) {
            double[] row = d[i].clone();
            Arrays.sort(row);
            double sq = 0;
            for (int j = 0; j < k; j++) {
                sq += row[j] * row[j];
            }
            rho[i] = Math.exp(-sq / k);
        }
        double[] gamma = new double[m];
        for (int i = 0; i < m; i++) {
            double delta = Double.POSITIVE_INFINITY;
            for (int j = 0; j < m; j++) {
                boolean denser = rho[j] > rho[i] || (rho[j] == rho[i] && j < i);
                if (denser) {
                    delta = Math.min(delta, d[i][j]);
                }
            }
            gamma[i] = rho[i] * (delta == Double.POSITIVE_INFINITY ? dmax : delta);
        }
        int[] centres = topK(gamma, c);
        int[] assignment = new int[m];
        for (int i = 0; i < m; i++) {
            int best = 0;
            for (int j = 0; j < centres.length; j++) {
                if (centres[j] == i) {
                    best = j;
                    break;
                }
                if (d[i][centres[j]] < d[i][centres[best]]) {
                    best = j;
                }
            }
            assignment[i] = best;
        }
        return new Result(centres, assignment);
    }

    /** Indices of the k largest values (ties: lower index), ascending. */
    private static int[] topK(double[] v, int k) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> v[a] != v[b] ? Double.compare(v[b], v[a]) : Integer.compare(a, b));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = idx[i];
        }
        Arrays.sort(out);
        return out;
    }

    /** The mean of each cluster's points: [centres][D]. */
    static float[][] means(float[][] x, Result r) {
        int dim = x.length == 0 ? 0 : x[0].length;
        double[][] sum = new double[r.centres().length][dim];
        int[] count = new int[r.centres().length];
        for (int i = 0; i < x.length; i++) {
            int c = r.assignment()[i];
            count[c]++;
            for (int t = 0; t < dim; t++) {
                sum[c][t] += x[i][t];
            }
        }
        float[][] out = new float[sum.length][dim];
        for (int c = 0; c < sum.length; c++) {
            for (int t = 0; t < dim; t++) {
                out[c][t] = (float) (sum[c][t] / count[c]);
            }
        }
        return out;
    }
}
