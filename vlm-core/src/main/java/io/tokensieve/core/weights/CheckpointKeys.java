package io.tokensieve.core.weights;

import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.config.ClipVisionConfig;
import io.tokensieve.core.config.LlamaTextConfig;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one place that knows checkpoint key names. Canonical names follow the current HF layout of
 * {@code LlavaForConditionalGeneration} ({@code model.vision_tower.*}, {@code model.multi_modal_projector.*},
 * {@code model.language_model.*}, {@code lm_head.*}); the older layout ({@code vision_tower.*},
 * {@code language_model.model.*}, {@code language_model.lm_head.*}) is translated on load.
 */
public final class CheckpointKeys {
    public static final String VISION = "model.vision_tower.vision_model.";
    public static final String PROJECTOR = "model.multi_modal_projector.";
    public static final String TEXT = "model.language_model.";
    public static final String LM_HEAD = "lm_head.weight";
    public static final String SEG_HEAD = "model.seg_head.";
    public static final String POS3D = "model.position_embedding_3d.";
    public static final String POS2D = "model.position_embedding_2d.";

    /** Older-layout prefixes and their canonical equivalents, most specific first. */
    private static final List<String[]> LEGACY = List.of(
            new String[] {"language_model.model.", TEXT},
            new String[] {"language_model.lm_head.", "lm_head."},
            new String[] {"vision_tower.", "model.vision_tower."},
            new String[] {"multi_modal_projector.", PROJECTOR},
            new String[] {"seg_head.", SEG_HEAD},
            new String[] {"position_embedding_3d.", POS3D},
            new String[] {"position_embedding_2d.", POS2D});

    private CheckpointKeys() {}

    // ---- vision tower (HF CLIPVisionModel) ----
    public static String patchEmbedding() {
        return VISION + "embeddings.patch_embedding.weight";
    }

    public static String classEmbedding() {
        return VISION + "embeddings.class_embedding";
    }

    public static String positionEmbedding() {
        return VISION + "embeddings.position_embedding.weight";
    }

    public static String preLayrnorm(String p) {
        return VISION + "pre_layrnorm." + p;
    }

    public static String postLayernorm(String p) {
        return VISION + "post_layernorm." + p;
    }

    /** {@code sub} like "self_attn.q_proj.weight", "layer_norm1.bias", "mlp.fc1.weight". */
    public static String visionLayer(int i, String sub) {
        return VISION + "encoder.layers." + i + "." + sub;
    }

    // ---- projector ----
    public static String projector(String sub) {
        return PROJECTOR + sub;
    }

    // ---- language model (HF LlamaModel) ----
    public static String embedTokens() {
        return TEXT + "embed_tokens.weight";
    }

    /** {@code sub} like "self_attn.q_proj.weight", "mlp.gate_proj.weight", "input_layernorm.weight". */
    public static String textLayer(int i, String sub) {
        return TEXT + "layers." + i + "." + sub;
    }

    public static String finalNorm() {
        return TEXT + "norm.weight";
    }

    // ---- extras of the embedded model ----
    /** Inputs per cell of the mask head's refinement layer: coarse logit, fine logit, colour distance. */
    public static final int SEG_REFINE_INPUTS = 3;

    public static String segHead(String sub) {
        return SEG_HEAD + sub;
    }

    public static String pos3d(String sub) {
        return POS3D + sub;
    }

    /** The 2D position embedding's table, {@code [patches, Dv]}: row {@code r * grid + c} for the patch in row r, column c. */
    public static String pos2d() {
        return POS2D + "weight";
    }

    /** Translates a key of either layout to the canonical one. */
    public static String canonical(String key) {
        if (key.startsWith("model.") || key.startsWith("lm_head.")) {
            return key;
        }
        for (String[] m : LEGACY) {
            if (key.startsWith(m[0])) {
                return m[1] + key.substring(m[0].length());
            }
        }
        return key;
    }

    /** Buffers some checkpoints carry that are derived, not learned; they are accepted and ignored. */
    public static boolean isIgnorableBuffer(String canonicalKey) {
        return canonicalKey.endsWith(".position_ids") || canonicalKey.endsWith("rotary_emb.inv_freq");
    }

    /** Every parameter the configuration requires, with its shape, in a stable order. */
    public static Map<String, long[]> expected(LlavaConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        ClipVisionConfig v = c.vision();
        long dv = v.hiddenSize();
        m.put(patchEmbedding(), new long[] {dv, v.numChannels(), v.patchSize(), v.patchSize()});
        m.put(classEmbedding(), new long[] {dv});
        m.put(positionEmbedding(), new long[] {v.numPatches() + 1, dv});
        m.put(preLayrnorm("weight"), new long[] {dv});
        m.put(preLayrnorm("bias"), new long[] {dv});
        for (int i = 0; i < v.numHiddenLayers(); i++) {
            for (String p : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) {
                m.put(visionLayer(i, "self_attn." + p + ".weight"), new long[] {dv, dv});
                m.put(visionLayer(i, "self_attn." + p + ".bias"), new long[] {dv});
            }
            m.put(visionLayer(i, "layer_norm1.weight"), new long[] {dv});
            m.put(visionLayer(i, "layer_norm1.bias"), new long[] {dv});
            m.put(visionLayer(i, "mlp.fc1.weight"), new long[] {v.intermediateSize(), dv});
            m.put(visionLayer(i, "mlp.fc1.bias"), new long[] {v.intermediateSize()});
            m.put(visionLayer(i, "mlp.fc2.weight"), new long[] {dv, v.intermediateSize()});
            m.put(visionLayer(i, "mlp.fc2.bias"), new long[] {dv});
            m.put(visionLayer(i, "layer_norm2.weight"), new long[] {dv});
            m.put(visionLayer(i, "layer_norm2.bias"), new long[] {dv});
        }
        m.put(postLayernorm("weight"), new long[] {dv});
        m.put(postLayernorm("bias"), new long[] {dv});

        LlamaTextConfig t = c.text();
        long d = t.hiddenSize();
        m.put(projector("linear_1.weight"), new long[] {d, c.projectorInputSize()});
        if (c.projectorBias()) {
            m.put(projector("linear_1.bias"), new long[] {d});
        }
        m.put(projector("linear_2.weight"), new long[] {d, d});
        if (c.projectorBias()) {
            m.put(projector("linear_2.bias"), new long[] {d});
        }

        m.put(embedTokens(), new long[] {t.vocabSize(), d});
        long qDim = (long) t.numAttentionHeads() * t.headDim();
        long kvDim = (long) t.numKeyValueHeads() * t.headDim();
        for (int i = 0; i < t.numHiddenLayers(); i++) {
            m.put(textLayer(i, "self_attn.q_proj.weight"), new long[] {qDim, d});
            m.put(textLayer(i, "self_attn.k_proj.weight"), new long[] {kvDim, d});
            m.put(textLayer(i, "self_attn.v_proj.weight"), new long[] {kvDim, d});
            m.put(textLayer(i, "self_attn.o_proj.weight"), new long[] {d, qDim});
            m.put(textLayer(i, "mlp.gate_proj.weight"), new long[] {t.intermediateSize(), d});
            m.put(textLayer(i, "mlp.up_proj.weight"), new long[] {t.intermediateSize(), d});
            m.put(textLayer(i, "mlp.down_proj.weight"), new long[] {d, t.intermediateSize()});
            m.put(textLayer(i, "input_layernorm.weight"), new long[] {d});
            m.put(textLayer(i, "post_attention_layernorm.weight"), new long[] {d});
        }
        m.put(finalNorm(), new long[] {d});
        if (!t.tieWordEmbeddings()) {
            m.put(LM_HEAD, new long[] {t.vocabSize(), d});
        }

        if (c.extras().hasSegHead()) {
            long h = c.extras().segHeadDim();
            m.put(segHead("text_proj.weight"), new long[] {h, d});
            m.put(segHead("text_proj.bias"), new long[] {h});
            m.put(segHead("visual_proj.weight"), new long[] {h, dv});
            m.put(segHead("visual_proj.bias"), new long[] {h});
            m.put(segHead("pixel_proj.weight"), new long[] {h, 3L * c.extras().segCell() * c.extras().segCell()});
            m.put(segHead("pixel_proj.bias"), new long[] {h});
            m.put(segHead("bias"), new long[] {1});
            int r = c.extras().segRefineHidden();
            if (r > 0) {
                m.put(segHead("refine.fc1.weight"), new long[] {r, SEG_REFINE_INPUTS});
                m.put(segHead("refine.fc1.bias"), new long[] {r});
                m.put(segHead("refine.fc2.weight"), new long[] {1, r});
                m.put(segHead("refine.fc2.bias"), new long[] {1});
            }
        }
        if (c.extras().positionEmbedding3d()) {
            m.put(pos3d("linear_1.weight"), new long[] {dv, 3});
            m.put(pos3d("linear_1.bias"), new long[] {dv});
            m.put(pos3d("norm.weight"), new long[] {dv});
            m.put(pos3d("norm.bias"), new long[] {dv});
            m.put(pos3d("linear_2.weight"), new long[] {dv, dv});
            m.put(pos3d("linear_2.bias"), new long[] {dv});
        }
        if (c.extras().positionEmbedding2d()) {
            long width = c.extras().positionEmbedding2dAfterProjector() ? c.text().hiddenSize() : dv;
            m.put(pos2d(), new long[] {v.numPatches(), width});
        }
        return m;
    }
}
