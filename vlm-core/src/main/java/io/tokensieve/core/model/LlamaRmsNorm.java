package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;

/** HF {@code LlamaRMSNorm}: {@code w * x / sqrt(mean(x^2) + eps)} over the last axis. */
public final class LlamaRmsNorm {
    private final NDArray weight;
    private final float eps;

    public LlamaRmsNorm(NDArray weight, double eps) {
        this.weight = weight;
        this.eps = (float) eps;
    }

    /** [..., D] -> [..., D] */
    public NDArray forward(NDArray x) {
        NDArray variance = x.square().mean(new int[] {-1}, true); // [..., 1]
        return x.div(Ops.shift(variance, eps).sqrt()).mul(weight);
    }
}
