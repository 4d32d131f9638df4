package io.tokensieve.datasets.shapes;

import java.util.Locale;

/** Two well-separated size classes; the radius ranges never overlap, so "small" and "large" are unambiguous. */
public enum Size {
    /** 2D circumradius 10..13 px. */
    SMALL(10, 13),
    /** 2D circumradius 19..25 px. */
    LARGE(19, 25);

    private final int minRadius;
    private final int maxRadius;

    Size(int minRadius, int maxRadius) {
        this.minRadius = minRadius;
        this.maxRadius = maxRadius;
    }

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    int minRadius() {
        return minRadius;
    }

    int maxRadius() {
        return maxRadius;
    }
}
