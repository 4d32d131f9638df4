package io.tokensieve.core.prune;

/** A budget resolved against one request: total visual tokens to keep and the split per image. */
public record ResolvedBudget(int total, int[] perImage, Budget budget) {
    public int forImage(int image) {
        return perImage[image];
    }
}
