package io.tokensieve.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The patch-label head's loss against a plain-Java cross-entropy, with unlabelled images and left-out patches. */
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
            double want = 0;
            for (int k = 0; k < classes.length; k++) {
                float[] w = head.parameters().get("aux." + k + ".weight").toFloatArray(); // [C, Dv]
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
                        for (int j = 0; j < DV; j++) {
                            logit[c] += w[c * DV + j] * feats[p * DV + j];
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
            assertEquals(want, got, 1e-4);
            // nothing labelled at all: zero, not a division by zero
            int[][] none = {{-1, -1, -1, -1, -1, -1, -1, -1}, {-1, -1, -1, -1, -1, -1, -1, -1}};
            assertEquals(0f, head.loss(m.create(feats, new Shape(IMAGES, N, DV)), none, mask).getFloat());
        }
    }
}
