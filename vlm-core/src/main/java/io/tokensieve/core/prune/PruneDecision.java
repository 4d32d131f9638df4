package io.tokensieve.core.prune;

import ai.djl.ndarray.NDArray;

/**
 * A pruner's decision at one step: the visual tokens to keep, in the original visual-token index space
 * (ascending, unique), optional replacement rows for some kept tokens (merging methods write their merged
 * embedding into the slot of a kept token; a token brought back without a replacement re-enters with its
 * projected embedding), and optional per-token scores (length N, NaN where not scored) for debugging.
 */
public final class PruneDecision {
    private final int[] kept;
    private final float[] scores;
    private final int[] replaced;
    private final NDArray replacements;

    private PruneDecision(int[] kept, float[] scores, int[] replaced, NDArray replacements) {
        this.kept = kept;
        this.scores = scores;
        this.replaced = replaced;
        this.replacements = replacements;
    }

    /** Keep exactly these original visual indices (ascending, unique). */
    public static PruneDecision keep(int[] kept) {
        return new PruneDecision(kept.clone(), null, new int[0], null);
    }

    /** Keep the live set unchanged. */
    public static PruneDecision keepAll(PruneContext ctx) {
        return keep(ctx.live());
    }

    /** Per original visual token scores, length N (NaN where not scored). */
    public PruneDecision withScores(float[] scores) {
        return new PruneDecision(kept, scores.clone(), replaced, replacements);
    }

    /**
     * Replacement rows for kept tokens: {@code rows[i]} becomes the representation of original token
     * {@code indices[i]} (width Dv' at VISION, D afterwards). The core copies them before the step's
     * manager closes.
     */
    public PruneDecision withReplacements(int[] indices, NDArray rows) {
        return new PruneDecision(kept, scores, indices.clone(), rows);
    }

    /**
     * The checks every applier makes (runtime and filter alike): kept indices strictly ascending and in
     * {@code 0..visualTotal-1}, only live tokens unless the step declares reactivation, scores one per visual
     * token. Throws a {@link PruneException} starting with {@code where}; returns the kept indices.
     */
    public int[] validate(String where, int[] live, int visualTotal, boolean reactivates) {
        java.util.Set<Integer> liveSet = new java.util.HashSet<>();
        for (int v : live) {
            liveSet.add(v);
        }
        for (int i = 0; i < kept.length; i++) {
            if (kept[i] < 0 || kept[i] >= visualTotal) {
                throw new PruneException(where + ": kept index " + kept[i] + " is outside 0.." + (visualTotal - 1));
            }
            if (i > 0 && kept[i] <= kept[i - 1]) {
                throw new PruneException(where + ": kept indices must be strictly ascending (" + kept[i - 1] + " then "
                        + kept[i] + ")");
            }
            if (!reactivates && !liveSet.contains(kept[i])) {
                throw new PruneException(where + ": kept token " + kept[i] + " was dropped earlier; a step that brings "
                        + "tokens back must declare reactivation");
            }
        }
        if (scores != null && scores.length != visualTotal) {
            throw new PruneException(where + ": scores have length " + scores.length + ", expected " + visualTotal);
        }
        return kept;
    }

    public int[] kept() {
        return kept.clone();
    }

    public int keptCount() {
        return kept.length;
    }

    /** Scores or null. */
    public float[] scores() {
        return scores == null ? null : scores.clone();
    }

    public int[] replaced() {
        return replaced.clone();
    }

    /** Replacement rows [R, width] or null. */
    public NDArray replacements() {
        return replacements;
    }
}
