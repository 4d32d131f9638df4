package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;

/** HF {@code LlamaMLP}: SwiGLU, {@code down(silu(gate(x)) * up(x))}. */
public final class LlamaMlp {
    private final Linear gateProj;
    private final Linear upProj;
    private final Linear downProj;

    public LlamaMlp(ModelWeights w, int layer) {
        this.gateProj = new Linear(w, CheckpointKeys.textLayer(layer, "mlp.gate_proj.weight"), null);
        this.upProj = new Linear(w, CheckpointKeys.textLayer(layer, "mlp.up_proj.weight"), null);
        this.downProj = new Linear(w, CheckpointKeys.textLayer(layer, "mlp.down_proj.weight"), null);
    }

    /** [B, T, D] -> [B, T, D] */
    public NDArray forward(NDArray x) {
        return downProj.forward(Activations.silu(gateProj.forward(x)).mul(upProj.forward(x)));
    }
}
