package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;

/**
 * HF {@code LlavaForConditionalGeneration}: CLIP vision tower, multi-modal projector, LLaMA language
 * model and LM head, plus the embedded model's optional extras (mask head, 3D position embedding).
 * The same instance serves inference and training: its arrays are the parameters in {@link ModelWeights}.
 */
public final class LlavaForConditionalGeneration {
    private final LlavaConfig config;
    private final ModelWeights weights;
    private final ClipVisionModel visionTower;
    private final LlavaMultiModalProjector multiModalProjector;
    private final LlamaModel languageModel;
    private final NDArray lmHead; // [V, D]
    private final SegMaskHead segHead;
    private final PositionEmbedding3d positionEmbedding3d;

    public LlavaForConditionalGeneration(LlavaConfig config, ModelWeights weights) {
        this.config = config;
        this.weights = weights;
        this.visionTower = new ClipVisionModel(weights, config.vision());
        this.multiModalProjector = new LlavaMultiModalProjector(weights, config);
        this.languageModel = new LlamaModel(weights, config.text());
        this.lmHead = config.text().tieWordEmbeddings()
                ? weights.get(CheckpointKeys.embedTokens())
                : weights.get(CheckpointKeys.LM_HEAD);
        this.segHead = config.extras().hasSegHead() ? new SegMaskHead(weights, config.extras().segHeadDim(),
                config.extras().segCell(), config.vision().imageSize(), config.vision().gridSize()) : null;
        this.positionEmbedding3d = config.extras().positionEmbedding3d()
                ? new PositionEmbedding3d(weights, config.vision().layerNormEps()) : null;
    }

    /** hidden [..., D] (after the final norm) -> logits [..., V] */
    public NDArray logits(NDArray normedHidden) {
        return ai.djl.nn.core.Linear.linear(normedHidden, lmHead).head();
    }

    public LlavaConfig config() {
        return config;
    }

    public ModelWeights weights() {
        return weights;
    }

    public ClipVisionModel visionTower() {
        return visionTower;
    }

    public LlavaMultiModalProjector multiModalProjector() {
        return multiModalProjector;
    }

    public LlamaModel languageModel() {
        return languageModel;
    }

    /** The mask head, or null when the model has none. */
    public SegMaskHead segHead() {
        return segHead;
    }

    /** The 3D position embedding, or null when the model has none. */
    public PositionEmbedding3d positionEmbedding3d() {
        return positionEmbedding3d;
    }
}
