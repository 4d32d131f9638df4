package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.config.LlamaTextConfig;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;

/**
 * HF {@code LlamaAttention}: grouped-query attention with RoPE and no biases. Query heads are grouped
 * by reshaping (head j uses key/value head j / groupSize, as HF's {@code repeat_kv}), so keys and values
 * are never copied per query head. Probabilities are always computed explicitly; callers decide whether
 * to keep them.
 */
public final class LlamaAttention {
    final Linear qProj;
    final Linear kProj;
    final Linear vProj;
    final Linear oProj;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float scale;

    public LlamaAttention(ModelWeights w, LlamaTextConfig c, int layer) {
        this.qProj = new Linear(w, CheckpointKeys.textLayer(layer, "self_attn.q_proj.weight"), null);
        this.kProj = new Linear(w, CheckpointKeys.textLayer(layer, "self_attn.k_proj.weight"), null);
        this.vProj = new Linear(w, CheckpointKeys.textLayer(layer, "self_attn.v_proj.weight"), null);
        this.oProj = new Linear(w, CheckpointKeys.textLayer(layer, "self_attn.o_proj.weight"), null);
        this.heads = c.numAttentionHeads();
        this.kvHeads = c.numKeyValueHeads();
        this.headDim = c.headDim();
        this.scale = (float) (1 / Math.sqrt(headDim));
    }

    /** Output of one attention call: the projected result and, always, the probabilities. */
    public record Output(NDArray hidden, NDArray probs) {}

    /**
     * x [B, T, D] (already normed), mask [B, 1, T, S] additive or null, cache appended to when non-null.
     * Returns hidden [B, T, D] and probabilities [B, H, T, S].
     */
    public Output forward(NDArray x, LlamaRotaryEmbedding.Rope rope, NDArray mask, KvCache cache) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        NDArray q = Ops.scale(rope.apply(split(qProj.forward(x), heads)), scale); // [B, H, T, hd], pre-scaled
        NDArray k = rope.apply(split(kProj.forward(x), kvHeads)); // [B, Hkv, T, hd]
        NDArray v = split(vProj.forward(x), kvHeads); // [B, Hkv, T, hd]
        if (cache != null) {
            NDArray[] kv = cache.append(k, v);
            k = kv[0]; // [B, Hkv, S, hd]
            v = kv[1];
        }
        long s = k.getShape().get(2);
        long g = heads / kvHeads;
        NDArray qg = q.reshape(b, kvHeads, g * t, headDim); // [B, Hkv, g*T, hd]
        NDArray scores = qg.matMul(k.transpose(0, 1, 3, 2)).reshape(b, heads, t, s); // [B, H, T, S]
        if (mask != null) {
            scores = scores.add(mask);
        }
        NDArray probs = scores.softmax(-1); // [B, H, T, S]
        NDArray out = probs.reshape(b, kvHeads, g * t, s).matMul(v) // [B, Hkv, g*T, hd]
                .reshape(b, heads, t, headDim)
                .transpose(0, 2, 1, 3)
                .reshape(b, t, (long) heads * headDim); // [B, T, H*hd]
        return new Output(oProj.forward(out), probs);
    }

    /** Post-RoPE queries for x [B, T, D] (normed): [B, H, T, hd]. */
    public NDArray queries(NDArray x, LlamaRotaryEmbedding.Rope rope) {
        return rope.apply(split(qProj.forward(x), heads));
    }

    /** Post-RoPE keys for x [B, T, D] (normed): [B, Hkv, T, hd]. */
    public NDArray keys(NDArray x, LlamaRotaryEmbedding.Rope rope) {
        return rope.apply(split(kProj.forward(x), kvHeads));
    }

    /** Values for x [B, T, D] (normed): [B, Hkv, T, hd]. */
    public NDArray values(NDArray x) {
        return split(vProj.forward(x), kvHeads);
    }

    public int heads() {
        return heads;
    }

    public int kvHeads() {
        return kvHeads;
    }

    public int headDim() {
        return headDim;
    }

    /** [B, T, n*hd] -> [B, n, T, hd] */
    private NDArray split(NDArray t, int n) {
        long b = t.getShape().get(0);
        long len = t.getShape().get(1);
        return t.reshape(b, len, n, headDim).transpose(0, 2, 1, 3);
    }
}
