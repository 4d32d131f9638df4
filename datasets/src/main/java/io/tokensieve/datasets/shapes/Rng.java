package io.tokensieve.datasets.shapes;

import java.util.List;

/**
 * A small SplitMix64 generator. Its sequence is defined by this code alone (no JDK generator whose
 * algorithm could change), so a (track, seed, index) gives the same scene on every machine and JVM.
 */
final class Rng {
    private long state;

    Rng(long seed) {
        this.state = seed;
    }

    /** A generator for one example: mixes the track, the user seed, the example index and a stream tag. */
    static Rng of(Track track, long seed, long index, long stream) {
        long h = mix(0x5EED_5EEDL ^ track.ordinal());
        h = mix(h ^ seed);
        h = mix(h ^ index);
        h = mix(h ^ stream);
        return new Rng(h);
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    long nextLong() {
        state += 0x9E3779B97F4A7C15L;
        return mix(state);
    }

    /** Uniform in [0, bound). */
    int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive: " + bound);
        }
        return (int) Long.remainderUnsigned(nextLong(), bound);
    }

    /** Uniform in [lo, hi] inclusive. */
    int nextInt(int lo, int hi) {
        return lo + nextInt(hi - lo + 1);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    double uniform(double lo, double hi) {
        return lo + (hi - lo) * nextDouble();
    }

    boolean nextBoolean() {
        return (nextLong() & 1L) != 0;
    }

    <T> T pick(List<T> items) {
        return items.get(nextInt(items.size()));
    }

    /** Index drawn with probability proportional to {@code weights[i]}. */
    int weighted(double[] weights) {
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        double u = nextDouble() * total;
        for (int i = 0; i < weights.length; i++) {
            u -= weights[i];
            if (u < 0) {
                return i;
            }
        }
        return weights.length - 1;
    }

    /** Fisher-Yates shuffle in place. */
    <T> void shuffle(List<T> items) {
        for (int i = items.size() - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            T t = items.get(i);
            items.set(i, items.get(j));
            items.set(j, t);
        }
    }
}
