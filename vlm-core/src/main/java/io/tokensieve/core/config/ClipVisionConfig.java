package io.tokensieve.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Mirrors the {@code vision_config} block of a LLaVA {@code config.json} (HF {@code CLIPVisionConfig}),
 * with HF's defaults for absent keys.
 */
public record ClipVisionConfig(
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numChannels,
        int imageSize,
        int patchSize,
        String hiddenAct,
        double layerNormEps,
        int projectionDim) {

    public ClipVisionConfig {
        if (hiddenSize % numAttentionHeads != 0) {
            throw new ConfigException("vision_config: hidden_size " + hiddenSize
                    + " is not divisible by num_attention_heads " + numAttentionHeads);
        }
        if (imageSize % patchSize != 0) {
            throw new ConfigException("vision_config: image_size " + imageSize
                    + " is not divisible by patch_size " + patchSize);
        }
    }

    /** Defaults of the CLIP ViT-L/14 tower LLaVA uses when {@code vision_config} is absent. */
    static ClipVisionConfig parse(JsonNode n) {
        return new ClipVisionConfig(
                Json.intOr(n, "hidden_size", 768),
                Json.intOr(n, "intermediate_size", 3072),
                Json.intOr(n, "num_hidden_layers", 12),
                Json.intOr(n, "num_attention_heads", 12),
                Json.intOr(n, "num_channels", 3),
                Json.intOr(n, "image_size", 224),
                Json.intOr(n, "patch_size", 32),
                Json.textOr(n, "hidden_act", "quick_gelu"),
                Json.doubleOr(n, "layer_norm_eps", 1e-5),
                Json.intOr(n, "projection_dim", 512));
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** Patches per side of the square grid. */
    public int gridSize() {
        return imageSize / patchSize;
    }

    /** Patch tokens per image (CLS excluded). */
    public int numPatches() {
        return gridSize() * gridSize();
    }

    ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("model_type", "clip_vision_model");
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("num_channels", numChannels);
        o.put("image_size", imageSize);
        o.put("patch_size", patchSize);
        o.put("hidden_act", hiddenAct);
        o.put("layer_norm_eps", layerNormEps);
        o.put("projection_dim", projectionDim);
        return o;
    }
}
