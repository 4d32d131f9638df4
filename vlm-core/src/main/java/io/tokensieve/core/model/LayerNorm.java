package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.weights.ModelWeights;

/** {@code torch.nn.LayerNorm} over the last axis. */
public final class LayerNorm {
    private final NDArray weight;
    private final NDArray bias;
    private final float eps;

    public LayerNorm(ModelWeights w, String prefix, double eps) {
        this.weight = w.get(prefix + "weight");
        this.bias = w.get(prefix + "bias");
        this.eps = (float) eps;
    }

    /** [..., D] -> [..., D] */
    public NDArray forward(NDArray x) {
        return ai.djl.nn.norm.LayerNorm.layerNorm(x, new Shape(weight.getShape().get(0)), weight, bias, eps).head();
    }
}
