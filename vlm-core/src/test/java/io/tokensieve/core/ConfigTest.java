package io.tokensieve.core;

import com.fasterxml.jackson.databind.JsonNode;
import io.tokensieve.core.config.ConfigException;
import io.tokensieve.core.config.Json;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.weights.CheckpointKeys;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** config.json parsing with HF defaults, as real checkpoints write it. */
class ConfigTest {
    /** The shape of llava-hf/llava-1.5-7b-hf's config.json: partial sub-configs relying on HF defaults. */
    static final String LLAVA_15_7B = """
            {"architectures": ["LlavaForConditionalGeneration"], "ignore_index": -100, "image_token_index": 32000,
             "model_type": "llava", "pad_token_id": 32001, "projector_hidden_act": "gelu",
             "text_config": {"_name_or_path": "lmsys/vicuna-7b-v1.5", "architectures": ["LlamaForCausalLM"],
               "max_position_embeddings": 4096, "model_type": "llama", "rms_norm_eps": 1e-05, "torch_dtype": "float16",
               "vocab_size": 32064},
             "tie_word_embeddings": false, "torch_dtype": "float16", "vision_config": {"hidden_size": 1024,
               "image_size": 336, "intermediate_size": 4096, "model_type": "clip_vision_model", "num_attention_heads": 16,
               "num_hidden_layers": 24, "patch_size": 14, "projection_dim": 768, "vocab_size": 32000},
             "vision_feature_layer": -2, "vision_feature_select_strategy": "default", "vocab_size": 32064}
            """;

    @Test
    void llava15SevenBDefaults() throws Exception {
        LlavaConfig c = LlavaConfig.parse(Json.MAPPER.readTree(LLAVA_15_7B));
        assertEquals(576, c.tokensPerImage());
        assertEquals(4096, c.text().hiddenSize());
        assertEquals(32, c.text().numHiddenLayers());
        assertEquals(32, c.text().numKeyValueHeads());
        assertEquals(128, c.text().headDim());
        assertEquals(11008, c.text().intermediateSize());
        assertEquals(10000.0, c.text().ropeTheta());
        assertEquals("quick_gelu", c.vision().hiddenAct());
        assertArrayEquals(new int[] {23}, c.resolvedFeatureLayers());
        assertFalse(c.text().tieWordEmbeddings());
        assertEquals(1024, c.projectorInputSize());
        long expected = CheckpointKeys.expected(c).values().stream().mapToLong(s -> {
            long n = 1;
            for (long d : s) {
                n *= d;
            }
            return n;
        }).sum();
        // 7.06 B parameters in llava-1.5-7b-hf
        assertTrue(expected > 7_000_000_000L && expected < 7_100_000_000L, "parameters " + expected);
    }

    @Test
    void featureLayerListsGqaAndErrors() throws Exception {
        JsonNode n = Json.MAPPER.readTree("""
                {"vision_feature_layer": [-2, -5, 3], "vision_feature_select_strategy": "full",
                 "vision_config": {"hidden_size": 64, "num_hidden_layers": 6, "num_attention_heads": 4,
                   "image_size": 56, "patch_size": 14},
                 "text_config": {"hidden_size": 128, "num_attention_heads": 8, "num_key_value_heads": 2,
                   "num_hidden_layers": 2, "intermediate_size": 256, "vocab_size": 50, "rope_theta": 500000}}
                """);
        LlavaConfig c = LlavaConfig.parse(n);
        assertArrayEquals(new int[] {5, 2, 3}, c.resolvedFeatureLayers());
        assertEquals(192, c.projectorInputSize());
        assertEquals(17, c.tokensPerImage());
        assertEquals(4, c.text().groupSize());
        assertEquals(500000.0, c.text().ropeTheta());

        ConfigException e = assertThrows(ConfigException.class, () -> LlavaConfig.parse(Json.MAPPER.readTree(
                "{\"architectures\": [\"Qwen2VLForConditionalGeneration\"]}")));
        assertTrue(e.getMessage().contains("Qwen2VLForConditionalGeneration"));
        e = assertThrows(ConfigException.class, () -> LlavaConfig.parse(Json.MAPPER.readTree(
                "{\"vision_feature_layer\": -40}")));
        assertTrue(e.getMessage().contains("-40"));
        e = assertThrows(ConfigException.class, () -> LlavaConfig.parse(Json.MAPPER.readTree(
                "{\"text_config\": {\"num_attention_heads\": 6, \"num_key_value_heads\": 4}}")));
        assertTrue(e.getMessage().contains("num_key_value_heads"));
    }

    /** A small configuration with {@code top} (top-level entries, each ending in a comma) and these {@code sieve_extras}. */
    private static LlavaConfig small(String top, String extras) throws Exception {
        return LlavaConfig.parse(Json.MAPPER.readTree("""
                {"vision_config": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "image_size": 56,
                   "patch_size": 14},
                 "text_config": {"hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 50},
                 %s"sieve_extras": {%s}}
                """.formatted(top, extras)));
    }

    @Test
    void maskHeadRefinementIsOptionalAndChecked() throws Exception {
        String head = "\"seg_token_index\": 7, \"seg_head_dim\": 16";
        LlavaConfig plain = small("", head);
        assertEquals(0, plain.extras().segRefineHidden(), "configurations written before the refinement read as without it");
        assertFalse(plain.toJson().get("sieve_extras").has("seg_refine_hidden"), "nor do they gain the key when saved");
        assertFalse(CheckpointKeys.expected(plain).containsKey(CheckpointKeys.segHead("refine.fc1.weight")));

        LlavaConfig refined = small("", head + ", \"seg_refine_hidden\": 8");
        assertEquals(8, refined.extras().segRefineHidden());
        assertEquals(refined, LlavaConfig.parse(refined.toJson()));
        assertArrayEquals(new long[] {8, CheckpointKeys.SEG_REFINE_INPUTS},
                CheckpointKeys.expected(refined).get(CheckpointKeys.segHead("refine.fc1.weight")));
        assertArrayEquals(new long[] {1, 8}, CheckpointKeys.expected(refined).get(CheckpointKeys.segHead("refine.fc2.weight")));
        assertEquals(plain, refined.withExtras(plain.extras()));

        ConfigException e = assertThrows(ConfigException.class,
                () -> small("", head + ", \"seg_refine_hidden\": -1"));
        assertTrue(e.getMessage().contains("seg_refine_hidden") && e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> LlavaConfig.parse(Json.MAPPER.readTree(
                "{\"sieve_extras\": {\"seg_refine_hidden\": 4}}")));
        assertTrue(e.getMessage().contains("mask head"), e.getMessage());
    }

    @Test
    void theTwoDPositionEmbeddingIsOptionalAndChecked() throws Exception {
        LlavaConfig plain = small("", "\"position_embedding_3d\": true");
        assertFalse(plain.extras().positionEmbedding2d(), "configurations written before it read as without it");
        assertFalse(plain.toJson().get("sieve_extras").has("position_embedding_2d"), "nor do they gain the key when saved");
        assertFalse(CheckpointKeys.expected(plain).containsKey(CheckpointKeys.pos2d()));

        LlavaConfig with = small("", "\"position_embedding_3d\": true, \"position_embedding_2d\": true");
        assertTrue(with.extras().positionEmbedding2d());
        assertEquals(with, LlavaConfig.parse(with.toJson()));
        assertArrayEquals(new long[] {16, 64}, CheckpointKeys.expected(with).get(CheckpointKeys.pos2d())); // 4x4 cells
        assertEquals(CheckpointKeys.pos2d(), CheckpointKeys.canonical("position_embedding_2d.weight"), "older key layout");
        assertFalse(with.extras().positionEmbedding2dAfterProjector(), "before the projector unless it says after");
        assertFalse(with.toJson().get("sieve_extras").has("position_embedding_2d_after_projector"));

        LlavaConfig after = small("", "\"position_embedding_2d\": true, \"position_embedding_2d_after_projector\": true");
        assertTrue(after.extras().positionEmbedding2dAfterProjector());
        assertEquals(after, LlavaConfig.parse(after.toJson()));

        ConfigException e = assertThrows(ConfigException.class,
                () -> small("\"vision_feature_layer\": [-1, -2], ", "\"position_embedding_2d\": true"));
        assertTrue(e.getMessage().contains("2D position embedding needs a single vision_feature_layer"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> small("", "\"position_embedding_2d_after_projector\": true"));
        assertTrue(e.getMessage().contains("position_embedding_2d_after_projector needs position_embedding_2d"),
                e.getMessage());
    }
}
