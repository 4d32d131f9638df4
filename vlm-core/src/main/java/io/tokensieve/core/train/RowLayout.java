package io.tokensieve.core.train;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Where each sequence of a training batch sits in the decoder: sequences are split into groups, each padded to its
 * own longest member ({@code [Bg, Tg, D]}), and decoder row numbers run group after group, member after member, slot
 * after slot. One group padded to the longest sequence is the plain layout; {@link #grouped} splits a batch whose
 * lengths differ (a few three-image examples among one-image ones) so that the short ones do not pay for the long
 * ones' padding. Attention never crosses sequences, so the split changes no loss, only the work.
 */
final class RowLayout {
    /**
     * Cost of one more group, in padded tokens: each group runs every decoder op once more. A guess (about what the
     * op launches of one group's pass cost against the matrix work of one token on two cores); any value keeps the
     * losses, it only moves the work.
     */
    static final int GROUP_COST = 256;
    /** Sequence length at which a token's attention work matches its projection work (the T^2 term of the cost). */
    static final int ATTENTION_LENGTH = 1024;

    private final int[] lens; // per sequence, in batch order
    private final int[] group; // per sequence
    private final int[] local; // per sequence: member index within its group
    private final int[][] members; // per group: sequences in member order
    private final int[] width; // per group: padded length Tg
    private final long[] base; // per group: first row

    private RowLayout(int[] lens, int[][] members) {
        this.lens = lens.clone();
        this.members = members;
        this.group = new int[lens.length];
        this.local = new int[lens.length];
        this.width = new int[members.length];
        this.base = new long[members.length + 1];
        for (int g = 0; g < members.length; g++) {
            for (int m = 0; m < members[g].length; m++) {
                int i = members[g][m];
                group[i] = g;
                local[i] = m;
                width[g] = Math.max(width[g], lens[i]);
            }
            base[g + 1] = base[g] + (long) members[g].length * width[g];
        }
    }

    /** All sequences in one group, in batch order, padded to the longest. */
    static RowLayout single(int[] lens) {
        int[] all = new int[lens.length];
        Arrays.setAll(all, i -> i);
        return new RowLayout(lens, new int[][] {all});
    }

    /**
     * Groups of sequences of neighbouring lengths, chosen to minimise the padded work: the sum over groups of
     * {@code Bg * Tg * (1 + Tg / ATTENTION_LENGTH) + GROUP_COST} (exact over contiguous runs of the sorted lengths).
     */
    static RowLayout grouped(int[] lens) {
        int n = lens.length;
        if (n <= 1) {
            return single(lens);
        }
        Integer[] boxed = new Integer[n];
        Arrays.setAll(boxed, i -> i);
        Arrays.sort(boxed, Comparator.comparingInt((Integer i) -> lens[i]).thenComparingInt(i -> i));
        double[] best = new double[n + 1]; // best[k]: cost of the first k sorted sequences
        int[] cut = new int[n + 1]; // start of the last group in that best split
        for (int k = 1; k <= n; k++) {
            best[k] = Double.MAX_VALUE;
            double t = lens[boxed[k - 1]];
            for (int j = 0; j < k; j++) {
                double c = best[j] + (k - j) * t * (1 + t / ATTENTION_LENGTH) + GROUP_COST;
                if (c < best[k]) {
                    best[k] = c;
                    cut[k] = j;
                }
            }
        }
        java.util.ArrayDeque<int[]> groups = new java.util.ArrayDeque<>();
        for (int k = n; k > 0; k = cut[k]) {
            int[] m = new int[k - cut[k]];
            for (int x = 0; x < m.length; x++) {
                m[x] = boxed[cut[k] + x];
            }
            Arrays.sort(m); // batch order within a group
            groups.addFirst(m);
        }
        return new RowLayout(lens, groups.toArray(new int[0][]));
    }

    int groups() {
        return members.length;
    }

    /** Number of sequences in group g (its batch dimension). */
    int size(int g) {
        return members[g].length;
    }

    /** Padded length of group g. */
    int groupWidth(int g) {
        return width[g];
    }

    /** Padded length of the group holding sequence i. */
    int width(int i) {
        return width[group[i]];
    }

    /** First row of group g. */
    long base(int g) {
        return base[g];
    }

    /** Rows of all groups together. */
    long rows() {
        return base[members.length];
    }

    /** Decoder row of sequence i's slot. */
    long row(int i, int slot) {
        return base[group[i]] + (long) local[i] * width[group[i]] + slot;
    }

    /** Group holding decoder row {@code row}. */
    int groupOfRow(long row) {
        for (int g = 0; g < members.length; g++) {
            if (row < base[g + 1]) {
                return g;
            }
        }
        throw new IndexOutOfBoundsException("row " + row + " past " + rows());
    }

    /** Rotary positions of group g, [Bg][Tg]: a slot's index, 0 on padding. */
    long[][] positions(int g) {
        long[][] p = new long[members[g].length][width[g]];
        for (int m = 0; m < p.length; m++) {
            int len = lens[members[g][m]];
            for (int q = 0; q < len; q++) {
                p[m][q] = q;
            }
        }
        return p;
    }

    /** Causal mask of group g, [Bg, 1, Tg, Tg] flattened: 0 where slot q may see slot k of its own sequence, else masked. */
    float[] causalMask(int g, float masked) {
        int t = width[g];
        float[] mask = new float[members[g].length * t * t];
        for (int m = 0; m < members[g].length; m++) {
            int len = lens[members[g][m]];
            for (int q = 0; q < t; q++) {
                for (int k = 0; k < t; k++) {
                    mask[(m * t + q) * t + k] = k <= q && k < len ? 0f : masked;
                }
            }
        }
        return mask;
    }
}
