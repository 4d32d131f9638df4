package io.tokensieve.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Mirrors the {@code text_config} block of a LLaVA {@code config.json} (HF {@code LlamaConfig}), with
 * HF's defaults for absent keys.
 */
public record LlamaTextConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        String hiddenAct,
        int maxPositionEmbeddings,
        double rmsNormEps,
        double ropeTheta,
        boolean tieWordEmbeddings,
        int bosTokenId,
        int eosTokenId,
        int padTokenId) {

    /** The same configuration with another rotary base (no weight depends on it). */
    public LlamaTextConfig withRopeTheta(double theta) {
        return new LlamaTextConfig(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, hiddenAct, maxPositionEmbeddings, rmsNormEps, theta, tieWordEmbeddings,
                bosTokenId, eosTokenId, padTokenId);
    }

    public LlamaTextConfig {
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new ConfigException("text_config: num_attention_heads " + numAttentionHeads
                    + " is not a multiple of num_key_value_heads " + numKeyValueHeads);
        }
        if (headDim % 2 != 0) {
            throw new ConfigException("text_config: head_dim " + headDim + " must be even for RoPE");
        }
        if (!hiddenAct.equals("silu")) {
            throw new ConfigException("text_config: hidden_act '" + hiddenAct + "' is not supported (only silu)");
        }
    }

    static LlamaTextConfig parse(JsonNode n, boolean topLevelTie) {
        int hidden = Json.intOr(n, "hidden_size", 4096);
        int heads = Json.intOr(n, "num_attention_heads", 32);
        JsonNode rope = n.get("rope_scaling");
        if (rope != null && !rope.isNull()) {
            throw new ConfigException("text_config: rope_scaling " + rope + " is not supported");
        }
        return new LlamaTextConfig(
                Json.intOr(n, "vocab_size", 32000),
                hidden,
                Json.intOr(n, "intermediate_size", 11008),
                Json.intOr(n, "num_hidden_layers", 32),
                heads,
                Json.intOr(n, "num_key_value_heads", heads),
                Json.intOr(n, "head_dim", hidden / heads),
                Json.textOr(n, "hidden_act", "silu"),
                Json.intOr(n, "max_position_embeddings", 2048),
                Json.doubleOr(n, "rms_norm_eps", 1e-6),
                Json.doubleOr(n, "rope_theta", 10000.0),
                Json.boolOr(n, "tie_word_embeddings", topLevelTie),
                Json.intOr(n, "bos_token_id", 1),
                Json.intOr(n, "eos_token_id", 2),
                Json.intOr(n, "pad_token_id", -1));
    }

    /** Query heads that share one key/value head. */
    public int groupSize() {
        return numAttentionHeads / numKeyValueHeads;
    }

    ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("model_type", "llama");
        o.put("vocab_size", vocabSize);
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("num_key_value_heads", numKeyValueHeads);
        o.put("head_dim", headDim);
        o.put("hidden_act", hiddenAct);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("rms_norm_eps", rmsNormEps);
        o.put("rope_theta", ropeTheta);
        o.put("tie_word_embeddings", tieWordEmbeddings);
        o.put("bos_token_id", bosTokenId);
        o.put("eos_token_id", eosTokenId);
        if (padTokenId >= 0) {
            o.put("pad_token_id", padTokenId);
        }
        return o;
    }
}
