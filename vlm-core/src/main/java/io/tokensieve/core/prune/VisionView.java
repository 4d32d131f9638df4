package io.tokensieve.core.prune;

import ai.djl.ndarray.NDArray;

/**
 * Read-only view of the vision tower's internals for one sample (declare {@link Need#VISION_INTERNALS}).
 * Encoder layers are 0-based; hidden-state index 0 is the embedding output and index i the output of
 * layer i-1, as in HF. Token 0 of every per-image tensor is CLS. Arrays belong to the core; do not close them.
 */
public interface VisionView {
    /** Number of encoder layers. */
    int layers();

    /** Hidden-state index the visual features are taken from (the last one if several are concatenated). */
    int featureLayer();

    /** Hidden state {@code index} of one image, CLS included: [1+n, Dv]. */
    NDArray hidden(int image, int index);

    /** Attention probabilities of encoder layer {@code layer} for one image: [H, 1+n, 1+n]. */
    NDArray attention(int image, int layer);

    /** Query projections (unscaled, full width) of encoder layer {@code layer}: [1+n, Dv]. */
    NDArray queries(int image, int layer);

    /** Key projections (full width) of encoder layer {@code layer}: [1+n, Dv]. */
    NDArray keys(int image, int layer);

    /** Attention heads per encoder layer. */
    int heads();
}
