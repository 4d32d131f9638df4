package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * HF {@code LlamaRotaryEmbedding} (default rope type): {@code inv_freq[i] = theta^(-2i/d)}, angles
 * computed in float32 like HF, {@code cos/sin} of {@code cat(freqs, freqs)}. Positions are explicit per
 * token, so pruned sequences can keep their original positions (with gaps).
 */
public final class LlamaRotaryEmbedding {
    private final float[] invFreq;
    private final int headDim;

    public LlamaRotaryEmbedding(int headDim, double theta) {
        this.headDim = headDim;
        this.invFreq = new float[headDim / 2];
        for (int i = 0; i < invFreq.length; i++) {
            float exponent = (float) (2 * i) / headDim;
            invFreq[i] = (float) (1.0 / Math.pow(theta, exponent));
        }
    }

    /** {@code inv_freq}: the angle per position of each dimension pair (a copy). */
    public float[] inverseFrequencies() {
        return invFreq.clone();
    }

    /** cos and sin for positions [B][T], each [B, 1, T, hd], created in {@code manager}. */
    public Rope forPositions(NDManager manager, long[][] positions) {
        int b = positions.length;
        int t = positions[0].length;
        int half = headDim / 2;
        float[] cos = new float[b * t * headDim];
        float[] sin = new float[b * t * headDim];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                float pos = positions[i][j];
                int base = (i * t + j) * headDim;
                for (int k = 0; k < half; k++) {
                    float angle = pos * invFreq[k];
                    float c = (float) Math.cos(angle);
                    float s = (float) Math.sin(angle);
                    cos[base + k] = c;
                    cos[base + k + half] = c;
                    sin[base + k] = s;
                    sin[base + k + half] = s;
                }
            }
        }
        Shape shape = new Shape(b, 1, t, headDim);
        return new Rope(manager.create(cos, shape), manager.create(sin, shape));
    }

    /** Rotation tables for one forward: cos and sin, each [B, 1, T, hd]. */
    public record Rope(NDArray cos, NDArray sin) {
        /** x [B, H, T, hd] -> rotated [B, H, T, hd] */
        public NDArray apply(NDArray x) {
            long half = x.getShape().get(3) / 2;
            NDArray x1 = x.get(":, :, :, :{}", half);
            NDArray x2 = x.get(":, :, :, {}:", half);
            NDArray rotated = x2.neg().concat(x1, -1); // rotate_half
            return x.mul(cos).add(rotated.mul(sin));
        }
    }
}
