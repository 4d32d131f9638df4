package io.tokensieve.pruners.analysis;

/**
 * AdaToken-3D's constrained decay fit (spec section 5.1 step 7): {@code f(x) = A exp(-B (x - C)) + D} on
 * {@code x = 1..n} minimising {@code sum (f - y)^2 + sum (f' - y')^2} (' = finite-difference gradient:
 * central inside, one-sided at the ends) subject to {@code f(1) = start} and {@code f(endX) = end}.
 *
 * <p>Solved by eliminating the constraints: {@code C} only rescales {@code A} ({@code A e^{BC}} is the
 * one identifiable factor), so it stays at the reference's start value 1; the two equalities then fix
 * {@code A} and {@code D} for every {@code B}:
 * {@code f(x) = start + (end - start) * expm1(-B (x - 1)) / expm1(-B (endX - 1))} (the straight line at
 * {@code B = 0}). The remaining one-dimensional problem in {@code B} is solved by a grid over
 * {@code [-5, 5]} and golden-section refinement around the best grid point. The constraints hold exactly.
 */
public final class DecayFit {
    private static final double B_RANGE = 5;
    private static final int GRID = 2000;

    private DecayFit() {}

    /** A fitted curve and its objective. */
    public record Curve(double a, double b, double c, double d, double start, double end, int endX,
                        double objective) {
        /** f(x), evaluated in the constraint-eliminated form (exact at x = 1 and x = endX). */
        public double at(double x) {
            return value(x, b, start, end, endX);
        }
    }

    /** Fits {@code y[i]} at {@code x = i + 1}. */
    public static Curve fit(double[] y, double start, int endX, double end) {
        if (endX < 2) {
            throw new IllegalArgumentException("the end point must be at x >= 2, got " + endX);
        }
        double[] gy = gradient(y);
        double step = 2 * B_RANGE / GRID;
        double bestB = 0;
        double best = Double.POSITIVE_INFINITY;
        for (int i = 0; i <= GRID; i++) {
            double b = -B_RANGE + i * step;
            double o = objective(y, gy, b, start, end, endX);
            if (o < best) {
                best = o;
                bestB = b;
            }
        }
        double lo = Math.max(-B_RANGE, bestB - step);
        double hi = Math.min(B_RANGE, bestB + step);
        double phi = (Math.sqrt(5) - 1) / 2;
        double x1 = hi - phi * (hi - lo);
        double x2 = lo + phi * (hi - lo);
        double f1 = objective(y, gy, x1, start, end, endX);
        double f2 = objective(y, gy, x2, start, end, endX);
        for (int it = 0; it < 200; it++) {
            if (f1 <= f2) {
                hi = x2;
                x2 = x1;
                f2 = f1;
                x1 = hi - phi * (hi - lo);
                f1 = objective(y, gy, x1, start, end, endX);
            } else {
                lo = x1;
                x1 = x2;
                f1 = f2;
                x2 = lo + phi * (hi - lo);
                f2 = objective(y, gy, x2, start, end, endX);
            }
        }
        double b = (lo + hi) / 2;
        double o = objective(y, gy, b, start, end, endX);
        if (o > best) {
            b = bestB;
            o = best;
        }
        double a = Math.abs(b) < 1e-12 ? Double.NaN : (end - start) / Math.expm1(-b * (endX - 1));
        return new Curve(a, b, 1, Double.isNaN(a) ? Double.NaN : start - a, start, end, endX, o);
    }

    static double value(double x, double b, double start, double end, int endX) {
        double shape = Math.abs(b) < 1e-12 ? (x - 1) / (endX - 1)
                : Math.expm1(-b * (x - 1)) / Math.expm1(-b * (endX - 1));
        return start + (end - start) * shape;
    }

    static double objective(double[] y, double[] gy, double b, double start, double end, int endX) {
        double[] f = new double[y.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = value(i + 1, b, start, end, endX);
        }
        double[] gf = gradient(f);
        double o = 0;
        for (int i = 0; i < f.length; i++) {
            o += (f[i] - y[i]) * (f[i] - y[i]) + (gf[i] - gy[i]) * (gf[i] - gy[i]);
        }
        return o;
    }

    /** Finite-difference gradient with unit spacing: central inside, one-sided at the ends. */
    public static double[] gradient(double[] v) {
        int n = v.length;
        double[] g = new double[n];
        if (n < 2) {
            return g;
        }
        g[0] = v[1] - v[0];
        g[n - 1] = v[n - 1] - v[n - 2];
        for (int i = 1; i < n - 1; i++) {
            g[i] = (v[i + 1] - v[i - 1]) / 2;
        }
        return g;
    }
}
