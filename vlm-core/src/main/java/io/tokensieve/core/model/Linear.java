package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.weights.ModelWeights;

/** {@code y = x W^T + b} with an HF-layout weight {@code [out, in]}; the bias is optional. */
public final class Linear {
    private final NDArray weight;
    private final NDArray bias;

    public Linear(ModelWeights w, String weightKey, String biasKey) {
        this.weight = w.get(weightKey);
        this.bias = biasKey == null ? null : w.get(biasKey);
    }

    /** [..., in] -> [..., out]; the result (like every intermediate) lives in x's manager. */
    public NDArray forward(NDArray x) {
        return bias == null
                ? ai.djl.nn.core.Linear.linear(x, weight).head()
                : ai.djl.nn.core.Linear.linear(x, weight, bias).head();
    }

    public NDArray weight() {
        return weight;
    }

    public NDArray bias() {
        return bias;
    }

    public long outFeatures() {
        return weight.getShape().get(0);
    }
}
