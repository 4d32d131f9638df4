package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;

/**
 * LISA-style mask head, an extra of the embedded model: the last-layer hidden state of the {@code [SEG]}
 * token is projected into a small space and compared with the projected vision features of every patch
 * of the full (unpruned) image; the per-patch logits are upsampled to a mask by the caller.
 */
public final class SegMaskHead {
    private final Linear textProj;
    private final Linear visualProj;
    private final NDArray bias; // [1]
    private final float scale;

    public SegMaskHead(ModelWeights w, int dim) {
        this.textProj = new Linear(w, CheckpointKeys.segHead("text_proj.weight"), CheckpointKeys.segHead("text_proj.bias"));
        this.visualProj = new Linear(w, CheckpointKeys.segHead("visual_proj.weight"), CheckpointKeys.segHead("visual_proj.bias"));
        this.bias = w.get(CheckpointKeys.segHead("bias"));
        this.scale = (float) (1 / Math.sqrt(dim));
    }

    /** segHidden [B, D], patchFeatures [B, N, Dv] -> per-patch mask logits [B, N] */
    public NDArray forward(NDArray segHidden, NDArray patchFeatures) {
        NDArray t = textProj.forward(segHidden).expandDims(2); // [B, h, 1]
        NDArray v = visualProj.forward(patchFeatures); // [B, N, h]
        return v.matMul(t).squeeze(2).mul(scale).add(bias); // [B, N]
    }
}
