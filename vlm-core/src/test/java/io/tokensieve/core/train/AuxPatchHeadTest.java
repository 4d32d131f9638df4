package io.tokensieve.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The patch-label head's loss against a plain-Java cross-entropy, with unlabelled images and left-out patches, and
 * with kinds that read the projected tokens.
 */
class AuxPatchHeadTest {
    private static final int IMAGES = 2;
    private static final int N = 4;
    private static final int DV = 3;

    @Test
    void lossIsTheSumOverKindsOfTheMeanCrossEntropyOfLabelledPatches() {
        int[] classes = {3, 2};
        int[][] labels = {
            {0, 1, 2, 1, 2, 0, 1, 1},
            {1, -1, 0, -1, -1, 1, -1, 0}, // -1: the patch is left out of this kind only
        };
        float[] mask = {1, 1, 1, 1, 0, 0, 0, 0}; // the second image has no labels
        Random rng = new Random(4);
        float[] feats = new float[IMAGES * N * DV];
        for (int i = 0; i < feats.length; i++) {
            feats[i] = (float) rng.nextGaussian();
        }
        try (NDManager m = NDManager.newBaseManager()) {
            AuxPatchHead head = new AuxPatchHead(m, DV, classes, 7);
            for (NDArray p : head.parameters().values()) { // weights far from zero, so classes differ
                float[] v = p.toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) rng.nextGaussian();
                }
                p.set(v);
            }
            float got = head.loss(m.create(feats, new Shape(IMAGES, N, DV)), labels, mask).getFloat();
            assertEquals(reference(head, classes, labels, mask, feats, DV, null, 0), got, 1e-4);
            // nothing labelled at all: zero, not a division by zero
            int[][] none = {{-1, -1, -1, -1, -1, -1, -1, -1}, {-1, -1, -1, -1, -1, -1, -1, -1}};
            assertEquals(0f, head.loss(m.create(feats, new Shape(IMAGES, N, DV)), none, mask).getFloat());
        }
    }

    @Test
    void kindsFromTokenKindsFromReadTheProjectedTokens() {
        int dt = 5; // tokens wider than the features, so a kind reading the wrong input cannot even run
        int[] classes = {3, 2, 4};
        int[][] labels = {
            {0, 1, 2, 1, 2, 0, 1, 1},
            {1, -1, 0, -1, -1, 1, -1, 0},
            {3, 0, -1, 2, 1, -1, 0, 3},
        };
        float[] mask = {1, 1, 1, 1, 1, 1, 0, 0};
        Random rng = new Random(9);
        float[] feats = new float[IMAGES * N * DV];
        float[] tokens = new float[IMAGES * N * dt];
        for (int i = 0; i < feats.length; i++) {
            feats[i] = (float) rng.nextGaussian();
        }
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = (float) (rng.nextGaussian() * (1 + i % 7)); // rows of different scales
        }
        try (NDManager m = NDManager.newBaseManager()) {
            AuxPatchHead head = new AuxPatchHead(m, DV, classes, 1, dt, 7);
            assertEquals(1, head.tokenKindsFrom());
            assertEquals(new Shape(2, dt), head.parameters().get("aux.1.weight").getShape());
            assertEquals(new Shape(3, DV), head.parameters().get("aux.0.weight").getShape());
            for (NDArray p : head.parameters().values()) {
                float[] v = p.toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) rng.nextGaussian();
                }
                p.set(v);
            }
            NDArray f = m.create(feats, new Shape(IMAGES, N, DV));
            // the tokens as the full recipe holds them, flat [I*N, D]
            float got = head.loss(f, m.create(tokens, new Shape(IMAGES * N, dt)), labels, mask).getFloat();
            assertEquals(reference(head, classes, labels, mask, feats, DV, tokens, dt), got, 1e-4);
            assertThrows(IllegalArgumentException.class, () -> head.loss(f, labels, mask));
            assertThrows(IllegalArgumentException.class, () -> new AuxPatchHead(m, DV, classes, 4, dt, 7));
        }
    }

    /** Each row of {@code x} ({@code d} wide) divided by its root mean square. */
    private static float[] rms(float[] x, int d) {
        float[] out = new float[x.length];
        for (int r = 0; r < x.length / d; r++) {
            double ms = 0;
            for (int j = 0; j < d; j++) {
                ms += x[r * d + j] * x[r * d + j] / (double) d;
            }
            for (int j = 0; j < d; j++) {
                out[r * d + j] = (float) (x[r * d + j] / Math.sqrt(ms + 1e-6));
            }
        }
        return out;
    }

    /**
     * Sum over kinds of the mean cross-entropy of labelled patches, in plain Java: kinds below the head's
     * {@code tokenKindsFrom} read {@code feats} ({@code dv} wide), the others {@code tokens} ({@code dt} wide), each row divided by its root mean square.
     */
    private static double reference(AuxPatchHead head, int[] classes, int[][] labels, float[] mask, float[] feats, int dv,
                                    float[] tokens, int dt) {
        double want = 0;
        for (int k = 0; k < classes.length; k++) {
            boolean onTokens = k >= head.tokenKindsFrom();
            float[] x = onTokens ? rms(tokens, dt) : feats;
            int d = onTokens ? dt : dv;
            float[] w = head.parameters().get("aux." + k + ".weight").toFloatArray(); // [C, d]
            float[] b = head.parameters().get("aux." + k + ".bias").toFloatArray();
            double sum = 0;
            int count = 0;
            for (int p = 0; p < IMAGES * N; p++) {
                if (mask[p] == 0 || labels[k][p] < 0) {
                    continue;
                }
                double[] logit = new double[classes[k]];
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < classes[k]; c++) {
                    logit[c] = b[c];
                    for (int j = 0; j < d; j++) {
                        logit[c] += w[c * d + j] * x[p * d + j];
                    }
                    max = Math.max(max, logit[c]);
                }
                double z = 0;
                for (double l : logit) {
                    z += Math.exp(l - max);
                }
                sum += -(logit[labels[k][p]] - max - Math.log(z));
                count++;
            }
            want += sum / count;
        }
        return want;
    }
}
