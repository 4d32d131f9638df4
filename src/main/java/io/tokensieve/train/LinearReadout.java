package io.tokensieve.train;

/**
 * A ridge-regression read-out {@code y ~ w . x + b}, fit in plain Java (normal equations, Cholesky) for probes that
 * ask whether a quantity is linearly decodable from a vector: what an attention head, whose values are a linear map
 * of the tokens, could at best carry. Small dimensions only (the solve is cubic in the width).
 */
final class LinearReadout {
    private final double[] w; // [d + 1], the bias last

    private LinearReadout(double[] w) {
        this.w = w;
    }

    /**
     * Fits rows {@code x[n * d]} to targets {@code y[n]} with ridge {@code lambda} times the mean diagonal of the
     * centred Gram matrix (the bias is not penalised).
     */
    static LinearReadout fit(float[] x, double[] y, int d, double lambda) {
        return fit(x, new double[][] {y}, d, lambda)[0];
    }

    /** One read-out per target row {@code y[t][n]}, sharing one factorisation of the rows' Gram matrix. */
    static LinearReadout[] fit(float[] x, double[][] y, int d, double lambda) {
        int n = y[0].length;
        if (n == 0 || x.length != n * d) {
            throw new IllegalArgumentException("a read-out needs n rows of width " + d + ", got " + x.length
                    + " values for " + n + " targets");
        }
        int targets = y.length;
        double[] mean = new double[d];
        double[] my = new double[targets];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < d; k++) {
                mean[k] += x[i * d + k];
            }
            for (int t = 0; t < targets; t++) {
                my[t] += y[t][i];
            }
        }
        for (int k = 0; k < d; k++) {
            mean[k] /= n;
        }
        for (int t = 0; t < targets; t++) {
            my[t] /= n;
        }
        double[] a = new double[d * d]; // centred X^T X, lower triangle
        double[][] r = new double[targets][d]; // centred X^T y
        double[] row = new double[d];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < d; k++) {
                row[k] = x[i * d + k] - mean[k];
            }
            for (int t = 0; t < targets; t++) {
                double yi = y[t][i] - my[t];
                for (int k = 0; k < d; k++) {
                    r[t][k] += row[k] * yi;
                }
            }
            for (int k = 0; k < d; k++) {
                double rk = row[k];
                for (int j = 0; j <= k; j++) {
                    a[k * d + j] += rk * row[j];
                }
            }
        }
        double diag = 0;
        for (int k = 0; k < d; k++) {
            diag += a[k * d + k];
        }
        double ridge = lambda * Math.max(diag / d, 1e-12);
        for (int k = 0; k < d; k++) {
            a[k * d + k] += ridge;
        }
        double[] l = cholesky(a, d);
        LinearReadout[] out = new LinearReadout[targets];
        for (int t = 0; t < targets; t++) {
            double[] coef = solve(l, r[t], d);
            double[] w = new double[d + 1];
            double b = my[t];
            for (int k = 0; k < d; k++) {
                w[k] = coef[k];
                b -= coef[k] * mean[k];
            }
            w[d] = b;
            out[t] = new LinearReadout(w);
        }
        return out;
    }

    /** Ridge strengths (relative to the mean Gram diagonal) that {@link #fitChosen} chooses among, strongest first. */
    static final double[] RIDGES = {1e-1, 1e-3, 1e-5};

    /**
     * Read-outs of {@code y[t][n]} (one per target row) with the ridge chosen among {@link #RIDGES} by two-fold
     * cross-validation on these rows alone (even rows against odd rows, both ways), then refit on all of them. With
     * {@code classes} the rows of {@code y} are one-hot classes and the score is how often the largest read-out names
     * the row's class; otherwise {@code y} holds one row of -1/+1 targets and the score is how often the sign is right.
     * Ties go to the stronger ridge; under four rows it is the strongest. A weak signal in a few directions of a wide
     * state needs a weak ridge when rows are many and a strong one when they are few; this lets the rows decide.
     */
    static LinearReadout[] fitChosen(float[] x, double[][] y, int d, boolean classes) {
        return fit(x, y, d, chooseRidge(x, y, d, classes));
    }

    /** The ridge {@link #fitChosen} fits with. */
    static double chooseRidge(float[] x, double[][] y, int d, boolean classes) {
        int n = y[0].length;
        double lambda = RIDGES[0];
        if (n >= 4) {
            int[][] folds = new int[2][];
            folds[0] = java.util.stream.IntStream.range(0, n).filter(i -> i % 2 == 0).toArray();
            folds[1] = java.util.stream.IntStream.range(0, n).filter(i -> i % 2 == 1).toArray();
            int best = -1;
            for (double r : RIDGES) {
                int right = 0;
                for (int f = 0; f < 2; f++) {
                    int[] train = folds[f];
                    int[] test = folds[1 - f];
                    LinearReadout[] fitted = fit(rows(x, train, d), columns(y, train), d, r);
                    for (int i : test) {
                        right += classes ? (y[classify(fitted, x, i)][i] > 0 ? 1 : 0)
                                : (Math.signum(fitted[0].apply(x, i)) == Math.signum(y[0][i]) ? 1 : 0);
                    }
                }
                if (right > best) {
                    best = right;
                    lambda = r;
                }
            }
        }
        return lambda;
    }

    private static float[] rows(float[] x, int[] which, int d) {
        float[] out = new float[which.length * d];
        for (int k = 0; k < which.length; k++) {
            System.arraycopy(x, which[k] * d, out, k * d, d);
        }
        return out;
    }

    private static double[][] columns(double[][] y, int[] which) {
        double[][] out = new double[y.length][which.length];
        for (int t = 0; t < y.length; t++) {
            for (int k = 0; k < which.length; k++) {
                out[t][k] = y[t][which[k]];
            }
        }
        return out;
    }

    /** The read-out of row {@code i} of {@code x[* d]}. */
    double apply(float[] x, int i) {
        int d = w.length - 1;
        double s = w[d];
        for (int k = 0; k < d; k++) {
            s += w[k] * x[i * d + k];
        }
        return s;
    }

    /** The class whose read-out ({@code perClass[c]}, one per class) is largest for row {@code row} of {@code x}. */
    static int classify(LinearReadout[] perClass, float[] x, int row) {
        int best = 0;
        double top = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < perClass.length; c++) {
            double v = perClass[c].apply(x, row);
            if (v > top) {
                top = v;
                best = c;
            }
        }
        return best;
    }

    /** The lower Cholesky factor of a symmetric positive definite A given by its lower triangle. */
    private static double[] cholesky(double[] a, int d) {
        double[] l = new double[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i * d + j];
                for (int k = 0; k < j; k++) {
                    s -= l[i * d + k] * l[j * d + k];
                }
                if (i == j) {
                    if (s <= 0) {
                        throw new IllegalStateException("read-out: the ridge system is not positive definite");
                    }
                    l[i * d + i] = Math.sqrt(s);
                } else {
                    l[i * d + j] = s / l[j * d + j];
                }
            }
        }
        return l;
    }

    /** Solves {@code L L^T z = r}. */
    private static double[] solve(double[] l, double[] r, int d) {
        double[] z = new double[d];
        for (int i = 0; i < d; i++) { // L z = r
            double s = r[i];
            for (int k = 0; k < i; k++) {
                s -= l[i * d + k] * z[k];
            }
            z[i] = s / l[i * d + i];
        }
        for (int i = d - 1; i >= 0; i--) { // L^T x = z
            double s = z[i];
            for (int k = i + 1; k < d; k++) {
                s -= l[k * d + i] * z[k];
            }
            z[i] = s / l[i * d + i];
        }
        return z;
    }
}
