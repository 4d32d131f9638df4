package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.config.ClipVisionConfig;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;

/** HF {@code CLIPAttention}: bidirectional multi-head self-attention with biased projections. */
public final class ClipAttention {
    final Linear qProj;
    final Linear kProj;
    final Linear vProj;
    final Linear outProj;
    private final int heads;
    private final int headDim;
    private final float scale;

    public ClipAttention(ModelWeights w, ClipVisionConfig c, int layer) {
        this.qProj = linear(w, layer, "q_proj");
        this.kProj = linear(w, layer, "k_proj");
        this.vProj = linear(w, layer, "v_proj");
        this.outProj = linear(w, layer, "out_proj");
        this.heads = c.numAttentionHeads();
        this.headDim = c.headDim();
        this.scale = (float) Math.pow(headDim, -0.5);
    }

    private static Linear linear(ModelWeights w, int layer, String name) {
        return new Linear(w, CheckpointKeys.visionLayer(layer, "self_attn." + name + ".weight"),
                CheckpointKeys.visionLayer(layer, "self_attn." + name + ".bias"));
    }

    /** x [B, S, Dv] -> [B, S, Dv] */
    public NDArray forward(NDArray x) {
        return outProj.forward(merge(probabilities(x).matMul(split(vProj.forward(x)))));
    }

    /** Attention probabilities of this layer for its (already layer-normed) input: [B, H, S, S]. */
    public NDArray probabilities(NDArray x) {
        NDArray q = split(Ops.scale(qProj.forward(x), scale)); // [B, H, S, hd]
        NDArray k = split(kProj.forward(x)); // [B, H, S, hd]
        return q.matMul(k.transpose(0, 1, 3, 2)).softmax(-1); // [B, H, S, S]
    }

    /** [B, S, H*hd] -> [B, H, S, hd] */
    private NDArray split(NDArray t) {
        long b = t.getShape().get(0);
        long s = t.getShape().get(1);
        return t.reshape(b, s, heads, headDim).transpose(0, 2, 1, 3);
    }

    /** [B, H, S, hd] -> [B, S, H*hd] */
    private NDArray merge(NDArray t) {
        long b = t.getShape().get(0);
        long s = t.getShape().get(2);
        return t.transpose(0, 2, 1, 3).reshape(b, s, (long) heads * headDim);
    }
}
