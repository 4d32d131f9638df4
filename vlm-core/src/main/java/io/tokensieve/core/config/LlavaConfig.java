package io.tokensieve.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Mirrors an HF {@code config.json} of {@code LlavaForConditionalGeneration}: the CLIP vision tower, the
 * LLaMA text model, and the LLaVA glue (feature layer and selection strategy, image token id, projector
 * activation), plus the optional {@link SieveExtras} of the embedded model.
 */
public record LlavaConfig(
        ClipVisionConfig vision,
        LlamaTextConfig text,
        List<Integer> visionFeatureLayers,
        String visionFeatureSelectStrategy,
        int imageTokenIndex,
        String projectorHiddenAct,
        boolean projectorBias,
        SieveExtras extras) {

    public static final String ARCHITECTURE = "LlavaForConditionalGeneration";

    /** The same configuration with other extras. */
    public LlavaConfig withText(LlamaTextConfig t) {
        return new LlavaConfig(vision, t, visionFeatureLayers, visionFeatureSelectStrategy, imageTokenIndex,
                projectorHiddenAct, projectorBias, extras);
    }

    public LlavaConfig withExtras(SieveExtras e) {
        return new LlavaConfig(vision, text, visionFeatureLayers, visionFeatureSelectStrategy, imageTokenIndex,
                projectorHiddenAct, projectorBias, e);
    }

    public LlavaConfig {
        visionFeatureLayers = List.copyOf(visionFeatureLayers);
        if (visionFeatureLayers.isEmpty()) {
            throw new ConfigException("vision_feature_layer must name at least one layer");
        }
        for (int layer : visionFeatureLayers) {
            int resolved = layer < 0 ? vision.numHiddenLayers() + 1 + layer : layer;
            if (resolved < 0 || resolved > vision.numHiddenLayers()) {
                throw new ConfigException("vision_feature_layer " + layer + " is out of range for a tower with "
                        + vision.numHiddenLayers() + " layers");
            }
        }
        if (!visionFeatureSelectStrategy.equals("default") && !visionFeatureSelectStrategy.equals("full")) {
            throw new ConfigException("vision_feature_select_strategy '" + visionFeatureSelectStrategy
                    + "' is not supported (default or full)");
        }
        if (extras.hasSegHead() && vision.imageSize() % extras.segCell() != 0) {
            throw new ConfigException("sieve_extras: seg_cell " + extras.segCell() + " does not divide image_size "
                    + vision.imageSize());
        }
        if ((extras.positionEmbedding3d() || extras.positionEmbedding2d()) && visionFeatureLayers.size() != 1) {
            throw new ConfigException("sieve_extras: the " + (extras.positionEmbedding3d() ? "3D" : "2D")
                    + " position embedding needs a single vision_feature_layer");
        }
        if (!projectorHiddenAct.equals("gelu") && !projectorHiddenAct.equals("quick_gelu")
                && !projectorHiddenAct.equals("relu") && !projectorHiddenAct.equals("silu")) {
            throw new ConfigException("projector_hidden_act '" + projectorHiddenAct + "' is not supported");
        }
    }

    /** Reads {@code dir/config.json}. */
    public static LlavaConfig load(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        JsonNode n = Json.read(file);
        try {
            return parse(n);
        } catch (ConfigException e) {
            throw new ConfigException(file + ": " + e.getMessage());
        }
    }

    public static LlavaConfig parse(JsonNode n) {
        JsonNode archs = n.get("architectures");
        if (archs != null && archs.isArray() && archs.size() > 0 && !archs.get(0).asText().equals(ARCHITECTURE)) {
            throw new ConfigException("architecture " + archs.get(0).asText() + " is not supported (expected "
                    + ARCHITECTURE + ")");
        }
        String type = Json.textOr(n, "model_type", "llava");
        if (!type.equals("llava")) {
            throw new ConfigException("model_type '" + type + "' is not supported (expected llava)");
        }
        JsonNode v = n.get("vision_config");
        ClipVisionConfig vision = v == null || v.isNull()
                ? new ClipVisionConfig(1024, 4096, 24, 16, 3, 336, 14, "quick_gelu", 1e-5, 768)
                : ClipVisionConfig.parse(v);
        JsonNode t = n.get("text_config");
        boolean tie = Json.boolOr(n, "tie_word_embeddings", false);
        LlamaTextConfig text = LlamaTextConfig.parse(t == null || t.isNull() ? Json.object() : t, tie);
        List<Integer> layers = new ArrayList<>();
        JsonNode fl = n.get("vision_feature_layer");
        if (fl == null || fl.isNull()) {
            layers.add(-2);
        } else if (fl.isArray()) {
            fl.forEach(x -> layers.add(x.asInt()));
        } else if (fl.isNumber()) {
            layers.add(fl.asInt());
        } else {
            throw new ConfigException("vision_feature_layer must be an int or a list of ints, got " + fl);
        }
        JsonNode ex = n.get("sieve_extras");
        SieveExtras extras = ex == null || ex.isNull() ? SieveExtras.NONE : SieveExtras.parse(ex);
        return new LlavaConfig(
                vision,
                text,
                layers,
                Json.textOr(n, "vision_feature_select_strategy", "default"),
                Json.intOr(n, "image_token_index", Json.intOr(n, "image_token_id", 32000)),
                Json.textOr(n, "projector_hidden_act", "gelu"),
                Json.boolOr(n, "multimodal_projector_bias", true),
                extras);
    }

    /** Vision-tower hidden-state indices (0 = embeddings, i = output of encoder layer i-1). */
    public int[] resolvedFeatureLayers() {
        return visionFeatureLayers.stream()
                .mapToInt(l -> l < 0 ? vision.numHiddenLayers() + 1 + l : l)
                .toArray();
    }

    /** Width of the projector input (feature layers are concatenated along channels). */
    public int projectorInputSize() {
        return vision.hiddenSize() * visionFeatureLayers.size();
    }

    /** Whether the CLS token is dropped from the visual tokens ("default") or kept ("full"). */
    public boolean dropsCls() {
        return visionFeatureSelectStrategy.equals("default");
    }

    /** Visual tokens per image that reach the projector. */
    public int tokensPerImage() {
        return vision.numPatches() + (dropsCls() ? 0 : 1);
    }

    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.putArray("architectures").add(ARCHITECTURE);
        o.put("model_type", "llava");
        o.put("image_token_index", imageTokenIndex);
        o.put("projector_hidden_act", projectorHiddenAct);
        o.put("multimodal_projector_bias", projectorBias);
        if (visionFeatureLayers.size() == 1) {
            o.put("vision_feature_layer", visionFeatureLayers.get(0));
        } else {
            ArrayNode a = o.putArray("vision_feature_layer");
            visionFeatureLayers.forEach(a::add);
        }
        o.put("vision_feature_select_strategy", visionFeatureSelectStrategy);
        o.put("tie_word_embeddings", text.tieWordEmbeddings());
        o.set("vision_config", vision.toJson());
        o.set("text_config", text.toJson());
        if (extras.any()) {
            o.set("sieve_extras", extras.toJson());
        }
        return o;
    }

    public void save(Path modelDir) throws IOException {
        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(modelDir.resolve("config.json").toFile(), toJson());
    }
}
