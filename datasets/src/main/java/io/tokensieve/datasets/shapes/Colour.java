package io.tokensieve.datasets.shapes;

import java.util.Locale;

/**
 * Object colours, far apart in hue so that a colour name is never ambiguous. {@link #prior} is the
 * sampling weight of the 2D and 3D scene samplers; POPE's "popular" negatives are the absent objects
 * with the largest prior (the expected dataset frequency), as POPE takes the most frequent COCO classes.
 */
public enum Colour {
    RED(214, 38, 40, 0.24),
    BLUE(38, 84, 222, 0.20),
    GREEN(40, 168, 64, 0.18),
    YELLOW(238, 208, 36, 0.15),
    PURPLE(142, 58, 182, 0.12),
    ORANGE(246, 136, 26, 0.11);

    private final int r;
    private final int g;
    private final int b;
    private final double prior;

    Colour(int r, int g, int b, double prior) {
        this.r = r;
        this.g = g;
        this.b = b;
        this.prior = prior;
    }

    /** The lower-case English word used in questions and answers. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    public int r() {
        return r;
    }

    public int g() {
        return g;
    }

    public int b() {
        return b;
    }

    public double prior() {
        return prior;
    }

    /** Perceived brightness 0..255, used to pick a readable ink for printed characters. */
    double luma() {
        return 0.299 * r + 0.587 * g + 0.114 * b;
    }

    static double[] priors() {
        Colour[] all = values();
        double[] w = new double[all.length];
        for (int i = 0; i < all.length; i++) {
            w[i] = all[i].prior;
        }
        return w;
    }
}
