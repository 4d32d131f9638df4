package io.tokensieve.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.model.LlamaRotaryEmbedding;
import io.tokensieve.datasets.shapes.ShapesBench;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lookup probe against keys whose content is known: keys that carry their patch's colour in slowly turning
 * dimensions are found by colour whether rotated or not, keys that carry shape only in fast-turning dimensions are
 * found by shape unrotated but not once the rotary embedding turns them, and the rotation it applies is the
 * runtime's (query at one position, key at another: the same score).
 */
class LookupProbeTest {
    private static final int HD = 16;
    private static final int N = 64;
    private static final double THETA = 10000;

    @Test
    void theRotationMatchesTheRuntimesRotaryEmbedding() {
        Random rng = new Random(3);
        float[] q = new float[HD];
        float[] k = new float[N * HD];
        for (int c = 0; c < HD; c++) {
            q[c] = (float) rng.nextGaussian();
        }
        for (int x = 0; x < k.length; x++) {
            k[x] = (float) rng.nextGaussian();
        }
        int queryAt = 90;
        int firstKey = 7; // key j at position 7 + j
        LlamaRotaryEmbedding rope = new LlamaRotaryEmbedding(HD, THETA);
        float[] expected = new float[N];
        try (NDManager m = NDManager.newBaseManager()) {
            long[][] keyPos = new long[1][N];
            for (int j = 0; j < N; j++) {
                keyPos[0][j] = firstKey + j;
            }
            NDArray kr = rope.forPositions(m, keyPos).apply(m.create(k, new Shape(1, 1, N, HD))); // [1, 1, N, hd]
            NDArray qr = rope.forPositions(m, new long[][] {{queryAt}}).apply(m.create(q, new Shape(1, 1, 1, HD)));
            expected = kr.reshape(N, HD).matMul(qr.reshape(HD, 1)).toFloatArray();
        }
        float[] rotated = LookupProbe.rotate(k, HD, invFreq(), firstKey - queryAt);
        for (int j = 0; j < N; j++) {
            double dot = 0;
            for (int c = 0; c < HD; c++) {
                dot += q[c] * rotated[j * HD + c];
            }
            assertEquals(expected[j], dot, 1e-3 * (1 + Math.abs(expected[j])), "key " + j);
        }
    }

    @Test
    void contentInSlowDimensionsSurvivesTheRotationAndContentInFastOnesDoesNot() {
        Random rng = new Random(11);
        int images = 40;
        // per value a random direction: colour in the slowest pair's half of the dimensions, shape in the fastest
        double[][] colourDir = directions(rng, 6, HD / 2 - 3, HD / 2); // pairs 5..7 (and their partners): slow
        double[][] shapeDir = directions(rng, 6, 0, 3); // pairs 0..2: fast
        List<int[][]> labels = new ArrayList<>();
        float[][] plain = new float[images][];
        float[][] rotated = new float[images][];
        for (int i = 0; i < images; i++) {
            int[][] l = LookupProbe.labels(ShapesBench.vqa(777, i * ShapesBench.VQA_QUESTIONS_PER_IMAGE).scene(), 8);
            labels.add(l);
            float[] k = new float[N * HD];
            for (int j = 0; j < N; j++) {
                for (int c = 0; c < HD; c++) {
                    double v = 0.3 * rng.nextGaussian();
                    v += l[0][j] > 0 ? 3 * colourDir[l[0][j] - 1][c] : 0;
                    v += l[1][j] > 0 ? 3 * shapeDir[l[1][j] - 1][c] : 0;
                    k[j * HD + c] = (float) v;
                }
            }
            plain[i] = LookupProbe.scaled(new float[][] {k}, HD)[0];
            rotated[i] = LookupProbe.rotate(plain[i], HD, invFreq(), -(80 + rng.nextInt(10)));
        }
        double colourRotated = LookupProbe.measure(rotated, labels, 0, HD)[0];
        double shapePlain = LookupProbe.measure(plain, labels, 1, HD)[0];
        double[] shapeRotated = LookupProbe.measure(rotated, labels, 1, HD);
        double sizeRotated = LookupProbe.measure(rotated, labels, 2, HD)[0];
        assertTrue(colourRotated > 60, "colour in slow dimensions: " + colourRotated);
        assertTrue(shapePlain > 60, "shape unrotated: " + shapePlain);
        assertTrue(shapeRotated[0] < shapePlain / 2, "shape in fast dimensions, rotated: " + shapeRotated[0]);
        assertTrue(shapeRotated[1] > 0 && shapeRotated[1] < 20, "share of shape targets: " + shapeRotated[1]);
        // size is in no dimension (only what colour and shape give away about large objects)
        assertTrue(sizeRotated < colourRotated / 2, "size: " + sizeRotated);
    }

    @Test
    void theGradientOfTheLogMassMatchesFiniteDifferences() {
        Random rng = new Random(2);
        float[] k = new float[N * HD];
        for (int x = 0; x < k.length; x++) {
            k[x] = (float) rng.nextGaussian();
        }
        int[] label = new int[N];
        for (int j = 0; j < N; j += 5) {
            label[j] = 2;
        }
        double[] q = new double[HD];
        for (int c = 0; c < HD; c++) {
            q[c] = 0.3 * rng.nextGaussian();
        }
        double[] grad = new double[HD];
        LookupProbe.targetMass(q, k, label, 2, HD, grad);
        for (int c = 0; c < HD; c++) {
            double[] up = q.clone();
            double[] down = q.clone();
            up[c] += 1e-5;
            down[c] -= 1e-5;
            double numeric = (Math.log(LookupProbe.targetMass(up, k, label, 2, HD, null))
                    - Math.log(LookupProbe.targetMass(down, k, label, 2, HD, null))) / 2e-5;
            assertEquals(numeric, grad[c], 1e-4, "dimension " + c);
        }
    }

    /** {@code n} random unit directions in dimension pairs {@code from..to-1} (and their rotary partners). */
    private static double[][] directions(Random rng, int n, int from, int to) {
        double[][] out = new double[n][HD];
        for (int v = 0; v < n; v++) {
            double norm = 0;
            for (int p = from; p < to; p++) {
                for (int c : new int[] {p, p + HD / 2}) {
                    out[v][c] = rng.nextGaussian();
                    norm += out[v][c] * out[v][c];
                }
            }
            for (int c = 0; c < HD; c++) {
                out[v][c] /= Math.sqrt(norm);
            }
        }
        return out;
    }

    private static float[] invFreq() {
        float[] f = new float[HD / 2];
        for (int c = 0; c < f.length; c++) {
            f[c] = (float) (1.0 / Math.pow(THETA, (float) (2 * c) / HD));
        }
        return f;
    }
}
