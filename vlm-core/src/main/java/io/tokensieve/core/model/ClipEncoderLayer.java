package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.config.ClipVisionConfig;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;

/** HF {@code CLIPEncoderLayer}: pre-LN attention and MLP blocks with residuals. */
public final class ClipEncoderLayer {
    final LayerNorm layerNorm1;
    final ClipAttention selfAttn;
    final LayerNorm layerNorm2;
    private final Linear fc1;
    private final Linear fc2;
    private final String act;

    public ClipEncoderLayer(ModelWeights w, ClipVisionConfig c, int i) {
        this.layerNorm1 = new LayerNorm(w, CheckpointKeys.visionLayer(i, "layer_norm1."), c.layerNormEps());
        this.selfAttn = new ClipAttention(w, c, i);
        this.layerNorm2 = new LayerNorm(w, CheckpointKeys.visionLayer(i, "layer_norm2."), c.layerNormEps());
        this.fc1 = new Linear(w, CheckpointKeys.visionLayer(i, "mlp.fc1.weight"), CheckpointKeys.visionLayer(i, "mlp.fc1.bias"));
        this.fc2 = new Linear(w, CheckpointKeys.visionLayer(i, "mlp.fc2.weight"), CheckpointKeys.visionLayer(i, "mlp.fc2.bias"));
        this.act = c.hiddenAct();
    }

    /** x [B, S, Dv] -> [B, S, Dv] */
    public NDArray forward(NDArray x) {
        NDArray h = x.add(selfAttn.forward(layerNorm1.forward(x))); // attention block
        return h.add(fc2.forward(Activations.apply(act, fc1.forward(layerNorm2.forward(h))))); // MLP block
    }

    /** Attention probabilities this layer computes for input {@code x}: [B, H, S, S]. */
    public NDArray attentionProbabilities(NDArray x) {
        return selfAttn.probabilities(layerNorm1.forward(x));
    }

    /** Full-width key projections of this layer for input {@code x}: [B, S, Dv]. */
    public NDArray keys(NDArray x) {
        return selfAttn.kProj.forward(layerNorm1.forward(x));
    }

    /** Full-width query projections (unscaled) of this layer for input {@code x}: [B, S, Dv]. */
    public NDArray queries(NDArray x) {
        return selfAttn.qProj.forward(layerNorm1.forward(x));
    }
}
