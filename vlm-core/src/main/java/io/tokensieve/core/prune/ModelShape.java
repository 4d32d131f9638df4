package io.tokensieve.core.prune;

/** The dimensions of the model a pruner runs on, for mapping schedules and for cost accounting. */
public record ModelShape(
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int hidden,
        int intermediate,
        int visionLayers,
        int visionHidden,
        int visionHeads,
        int featureLayer,
        int tokensPerImage) {

    /** A layer index given for a 32-layer LLaVA-1.5-7B mapped to this depth by relative position. */
    public int scaleLayer(int layerOf32) {
        if (layers == 32) {
            return layerOf32;
        }
        return Math.max(0, Math.min(layers - 1, (int) Math.round(layerOf32 * layers / 32.0)));
    }
}
