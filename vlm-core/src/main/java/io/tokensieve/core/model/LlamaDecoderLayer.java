package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.config.LlamaTextConfig;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;

/** HF {@code LlamaDecoderLayer}: pre-RMSNorm attention and SwiGLU blocks with residuals. */
public final class LlamaDecoderLayer {
    final LlamaRmsNorm inputLayernorm;
    final LlamaAttention selfAttn;
    final LlamaRmsNorm postAttentionLayernorm;
    final LlamaMlp mlp;

    public LlamaDecoderLayer(ModelWeights w, LlamaTextConfig c, int i) {
        this.inputLayernorm = new LlamaRmsNorm(w.get(CheckpointKeys.textLayer(i, "input_layernorm.weight")), c.rmsNormEps());
        this.selfAttn = new LlamaAttention(w, c, i);
        this.postAttentionLayernorm = new LlamaRmsNorm(
                w.get(CheckpointKeys.textLayer(i, "post_attention_layernorm.weight")), c.rmsNormEps());
        this.mlp = new LlamaMlp(w, i);
    }

    /** Output of one layer: hidden states [B, T, D] and attention probabilities [B, H, T, S]. */
    public record Output(NDArray hidden, NDArray probs) {}

    /** x [B, T, D] -> [B, T, D]; mask [B, 1, T, S] additive; cache appended to when non-null. */
    public Output forward(NDArray x, LlamaRotaryEmbedding.Rope rope, NDArray mask, KvCache cache) {
        LlamaAttention.Output a = selfAttn.forward(inputLayernorm.forward(x), rope, mask, cache);
        NDArray h = x.add(a.hidden()); // attention block
        NDArray out = h.add(mlp.forward(postAttentionLayernorm.forward(h))); // MLP block
        return new Output(out, a.probs());
    }

    /** The attention module, for pruners that recompute one query row from this layer's weights. */
    public LlamaAttention selfAttn() {
        return selfAttn;
    }

    /** This layer's input RMSNorm. */
    public LlamaRmsNorm inputLayernorm() {
        return inputLayernorm;
    }
}
