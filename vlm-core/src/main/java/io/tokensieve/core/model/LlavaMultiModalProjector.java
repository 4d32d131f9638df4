package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;

/** HF {@code LlavaMultiModalProjector}: linear_1 -> activation -> linear_2. */
public final class LlavaMultiModalProjector {
    private final Linear linear1;
    private final Linear linear2;
    private final String act;

    public LlavaMultiModalProjector(ModelWeights w, LlavaConfig c) {
        boolean bias = c.projectorBias();
        this.linear1 = new Linear(w, CheckpointKeys.projector("linear_1.weight"),
                bias ? CheckpointKeys.projector("linear_1.bias") : null);
        this.linear2 = new Linear(w, CheckpointKeys.projector("linear_2.weight"),
                bias ? CheckpointKeys.projector("linear_2.bias") : null);
        this.act = c.projectorHiddenAct();
    }

    /** [..., Dv'] -> [..., D] */
    public NDArray forward(NDArray features) {
        return linear2.forward(Activations.apply(act, linear1.forward(features)));
    }
}
