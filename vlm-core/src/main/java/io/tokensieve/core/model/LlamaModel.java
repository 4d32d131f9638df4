package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.config.LlamaTextConfig;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;

import java.util.ArrayList;
import java.util.List;

/**
 * HF {@code LlamaModel}: token embeddings, decoder layers and the final norm. The layer loop itself lives
 * with the caller (inference runtime or trainer), so no layer knows that pruning exists.
 */
public final class LlamaModel {
    private final LlamaTextConfig config;
    private final NDArray embedTokens; // [V, D]
    private final List<LlamaDecoderLayer> layers = new ArrayList<>();
    private final LlamaRmsNorm norm;
    private final LlamaRotaryEmbedding rotary;

    public LlamaModel(ModelWeights w, LlamaTextConfig config) {
        this.config = config;
        this.embedTokens = w.get(CheckpointKeys.embedTokens());
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            layers.add(new LlamaDecoderLayer(w, config, i));
        }
        this.norm = new LlamaRmsNorm(w.get(CheckpointKeys.finalNorm()), config.rmsNormEps());
        this.rotary = new LlamaRotaryEmbedding(config.headDim(), config.ropeTheta());
    }

    /** ids [..] (int64) -> [.., D], created in ids' manager */
    public NDArray embed(NDArray ids) {
        return embedTokens.get(ids.getManager(), new NDIndex("{}", ids.flatten()))
                .reshape(ids.getShape().addAll(new Shape(config.hiddenSize())));
    }

    public NDArray embedTokens() {
        return embedTokens;
    }

    public List<LlamaDecoderLayer> layers() {
        return layers;
    }

    public LlamaDecoderLayer layer(int i) {
        return layers.get(i);
    }

    public LlamaRmsNorm norm() {
        return norm;
    }

    public LlamaRotaryEmbedding rotary() {
        return rotary;
    }

    public LlamaTextConfig config() {
        return config;
    }
}
