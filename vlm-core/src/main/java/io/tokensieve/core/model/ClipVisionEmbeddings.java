package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import io.tokensieve.core.config.ClipVisionConfig;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;

/** HF {@code CLIPVisionEmbeddings}: patch "convolution" (stride = kernel, no bias), class token, positions. */
public final class ClipVisionEmbeddings {
    private final ClipVisionConfig config;
    private final NDArray patchEmbedding; // [Dv, C, p, p]
    private final NDArray classEmbedding; // [Dv]
    private final NDArray positionEmbedding; // [1+N, Dv]

    public ClipVisionEmbeddings(ModelWeights w, ClipVisionConfig config) {
        this.config = config;
        this.patchEmbedding = w.get(CheckpointKeys.patchEmbedding());
        this.classEmbedding = w.get(CheckpointKeys.classEmbedding());
        this.positionEmbedding = w.get(CheckpointKeys.positionEmbedding());
    }

    /** pixels [B, C, H, W] -> [B, 1+N, Dv] */
    public NDArray forward(NDArray pixels) {
        long b = pixels.getShape().get(0);
        int p = config.patchSize();
        int dv = config.hiddenSize();
        NDArray x = Conv2d.conv2d(pixels, patchEmbedding, null, new Shape(p, p)).head(); // [B, Dv, g, g]
        x = x.reshape(b, dv, -1).transpose(0, 2, 1); // [B, N, Dv], patches in raster order
        NDArray cls = pixels.getManager().zeros(new Shape(b, 1, dv)).add(classEmbedding); // [B, 1, Dv]
        return cls.concat(x, 1).add(positionEmbedding); // [B, 1+N, Dv]
    }
}
