package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;

/**
 * LLaVA-3D-style 3D position embedding, an extra of the embedded model: PE(xyz) = Linear(3 -> Dv) ->
 * LayerNorm -> ReLU -> Linear(Dv -> Dv), added to each patch feature whose xyz origin is known.
 */
public final class PositionEmbedding3d {
    private final Linear linear1;
    private final LayerNorm norm;
    private final Linear linear2;

    public PositionEmbedding3d(ModelWeights w, double eps) {
        this.linear1 = new Linear(w, CheckpointKeys.pos3d("linear_1.weight"), CheckpointKeys.pos3d("linear_1.bias"));
        this.norm = new LayerNorm(w, CheckpointKeys.pos3d("norm."), eps);
        this.linear2 = new Linear(w, CheckpointKeys.pos3d("linear_2.weight"), CheckpointKeys.pos3d("linear_2.bias"));
    }

    /** xyz [..., 3] -> [..., Dv] */
    public NDArray forward(NDArray xyz) {
        return linear2.forward(Activation.relu(norm.forward(linear1.forward(xyz))));
    }
}
