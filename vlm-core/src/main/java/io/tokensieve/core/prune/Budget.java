package io.tokensieve.core.prune;

import java.util.Locale;

/**
 * A visual-token budget as the user gives it: a ratio of the visual tokens ({@code 0.25}) or an
 * absolute count ({@code 64}), per image (default) or per request. A value with a decimal point or below 1
 * is a ratio, so {@code keep=1.0} keeps everything and {@code keep=1} keeps one token.
 */
public record Budget(double value, boolean ratio, Scope scope) {

    public enum Scope {
        IMAGE,
        REQUEST;

        public static Scope parse(String s) {
            return switch (s) {
                case "image" -> IMAGE;
                case "request" -> REQUEST;
                default -> throw new PruneException("scope must be image or request, got '" + s + "'");
            };
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Everything kept. */
    public static final Budget ALL = new Budget(1.0, true, Scope.IMAGE);

    public Budget {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            throw new PruneException("budget must be a finite number, got " + value);
        }
        if (value <= 0) {
            throw new PruneException("budget must be positive, got " + fmt(value, ratio));
        }
        if (ratio && value > 1) {
            throw new PruneException("budget ratio must be at most 1.0, got " + value);
        }
        if (!ratio && value != Math.rint(value)) {
            throw new PruneException("absolute budget must be a whole number of tokens, got " + value);
        }
    }

    public static Budget parse(String s, Scope scope) {
        String t = s.trim();
        double v;
        try {
            v = Double.parseDouble(t.endsWith("%") ? t.substring(0, t.length() - 1) : t);
        } catch (NumberFormatException e) {
            throw new PruneException("budget must be a number (ratio like 0.25 or count like 64), got '" + s + "'");
        }
        if (t.endsWith("%")) {
            return new Budget(v / 100, true, scope);
        }
        boolean ratio = t.contains(".") || t.contains("e") || t.contains("E") || v < 1;
        return new Budget(v, ratio, scope);
    }

    public boolean keepsAll() {
        return ratio && value == 1.0;
    }

    /**
     * Resolves against the visual tokens of each image of one request. Ratios round half up per image
     * (scope image) or on the total (scope request); a request-scope total is split over images in
     * proportion to their sizes (largest remainder). Fails if a count rounds to 0 or exceeds the tokens.
     */
    public ResolvedBudget resolve(int[] imageTokens) {
        int n = 0;
        for (int c : imageTokens) {
            n += c;
        }
        int[] per = new int[imageTokens.length];
        if (n == 0) {
            return new ResolvedBudget(0, per, this);
        }
        if (scope == Scope.IMAGE) {
            for (int i = 0; i < per.length; i++) {
                per[i] = ratio ? (int) Math.round(value * imageTokens[i]) : (int) value;
                if (!ratio && per[i] > imageTokens[i]) {
                    throw new PruneException("budget of " + per[i] + " tokens per image is above the " + imageTokens[i]
                            + " visual tokens of image " + i);
                }
                if (per[i] == 0 && imageTokens[i] > 0) {
                    throw new PruneException("budget " + this.label() + " keeps 0 of the " + imageTokens[i]
                            + " visual tokens of image " + i);
                }
            }
        } else {
            int total = ratio ? (int) Math.round(value * n) : (int) value;
            if (total > n) {
                throw new PruneException("budget of " + total + " tokens is above the " + n + " visual tokens of the request");
            }
            if (total == 0) {
                throw new PruneException("budget " + label() + " keeps 0 of the " + n + " visual tokens");
            }
            split(total, imageTokens, per);
        }
        int total = 0;
        for (int p : per) {
            total += p;
        }
        return new ResolvedBudget(total, per, this);
    }

    /** Splits {@code total} over groups in proportion to {@code sizes} (largest remainder, ties to lower index). */
    public static void split(int total, int[] sizes, int[] out) {
        long n = 0;
        for (int s : sizes) {
            n += s;
        }
        int assigned = 0;
        double[] rem = new double[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            double exact = n == 0 ? 0 : (double) total * sizes[i] / n;
            out[i] = (int) Math.floor(exact);
            rem[i] = exact - out[i];
            assigned += out[i];
        }
        while (assigned < total) {
            int best = -1;
            for (int i = 0; i < sizes.length; i++) {
                if (out[i] < sizes[i] && (best < 0 || rem[i] > rem[best])) {
                    best = i;
                }
            }
            out[best]++;
            rem[best] = -1;
            assigned++;
        }
    }

    public String label() {
        return fmt(value, ratio) + (scope == Scope.REQUEST ? " per request" : " per image");
    }

    private static String fmt(double v, boolean ratio) {
        return ratio ? String.valueOf(v) : String.valueOf((long) v);
    }

    @Override
    public String toString() {
        return label();
    }
}
