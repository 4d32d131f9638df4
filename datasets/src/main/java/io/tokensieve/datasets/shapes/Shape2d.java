package io.tokensieve.datasets.shapes;

import java.util.Locale;

/** Flat shapes of the 2D tracks; every one is drawn as an integer-vertex polygon (see {@link ShapeGeometry}). */
public enum Shape2d {
    CIRCLE(0.22),
    SQUARE(0.20),
    TRIANGLE(0.18),
    STAR(0.15),
    DIAMOND(0.13),
    CROSS(0.12);

    private final double prior;

    Shape2d(double prior) {
        this.prior = prior;
    }

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The plural used in counting questions ("How many crosses are there?"). */
    public String plural() {
        return this == CROSS ? "crosses" : word() + "s";
    }

    public double prior() {
        return prior;
    }

    static double[] priors() {
        Shape2d[] all = values();
        double[] w = new double[all.length];
        for (int i = 0; i < all.length; i++) {
            w[i] = all[i].prior;
        }
        return w;
    }
}
