package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.config.ClipVisionConfig;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;

import java.util.ArrayList;
import java.util.List;

/**
 * HF {@code CLIPVisionModel} with an explicit features-at-layer API. Hidden-state index 0 is the
 * pre-LN'd embedding output and index i the output of encoder layer i-1, as in HF's
 * {@code output_hidden_states}; LLaVA's {@code vision_feature_layer = -2} is index {@code numLayers - 1}.
 * The post-layernorm is loaded (checkpoints carry it) but LLaVA never applies it.
 */
public final class ClipVisionModel {
    private final ClipVisionConfig config;
    private final ClipVisionEmbeddings embeddings;
    private final LayerNorm preLayrnorm;
    private final List<ClipEncoderLayer> layers = new ArrayList<>();

    public ClipVisionModel(ModelWeights w, ClipVisionConfig config) {
        this.config = config;
        this.embeddings = new ClipVisionEmbeddings(w, config);
        this.preLayrnorm = new LayerNorm(w, CheckpointKeys.preLayrnorm(""), config.layerNormEps());
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            layers.add(new ClipEncoderLayer(w, config, i));
        }
    }

    /** Hidden states 0..upTo (inclusive): each [B, 1+N, Dv]. Layers after {@code upTo} are not run. */
    public List<NDArray> hiddenStates(NDArray pixels, int upTo) {
        List<NDArray> hs = new ArrayList<>(upTo + 1);
        NDArray x = preLayrnorm.forward(embeddings.forward(pixels)); // [B, 1+N, Dv]
        hs.add(x);
        for (int i = 0; i < upTo; i++) {
            x = layers.get(i).forward(x); // [B, 1+N, Dv]
            hs.add(x);
        }
        return hs;
    }

    /** Features at the given hidden-state indices, concatenated on channels: [B, 1+N, Dv * layers]. */
    public static NDArray select(List<NDArray> hiddenStates, int[] layerIndices) {
        NDArray f = hiddenStates.get(layerIndices[0]);
        for (int i = 1; i < layerIndices.length; i++) {
            f = f.concat(hiddenStates.get(layerIndices[i]), -1);
        }
        return f;
    }

    /** Encoder layer {@code i} (0-based); its input is hidden state i. */
    public ClipEncoderLayer layer(int i) {
        return layers.get(i);
    }

    public ClipVisionConfig config() {
        return config;
    }
}
