package io.tokensieve.eval.sweep;

import io.tokensieve.core.prune.ModelShape;

/**
 * Analytic prefill FLOPs of the decoder from the live token count of each layer, FastV's accounting:
 * per layer {@code 4 n d^2 + 2 n^2 d + c n d m} with n the tokens in that layer, d the width, m the FFN
 * width and c = 2 (FastV's formula; CATP and SparseVLM write 3). Two conventions for n, since papers mix
 * them: image tokens only, or the full sequence.
 */
public final class Flops {
    private Flops() {}

    public static double layer(double n, double d, double m, double ffnFactor) {
        return 4 * n * d * d + 2 * n * n * d + ffnFactor * n * d * m;
    }

    /** Sum over layers; {@code counts[l]} tokens in layer l. */
    public static double total(int[] counts, ModelShape s, double ffnFactor) {
        double f = 0;
        for (int n : counts) {
            f += layer(n, s.hidden(), s.intermediate(), ffnFactor);
        }
        return f;
    }
}
