package io.tokensieve.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.config.SieveExtras;
import io.tokensieve.core.model.SegMaskHead;
import io.tokensieve.core.runtime.RandomCheckpoint;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;
import io.tokensieve.core.weights.WeightsException;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mask head against a plain-Java reference written from its definition (loops over cells, no shared code):
 * coarse term bilinearly upsampled from the patch grid, fine term per pixel cell, and the optional per-cell
 * refinement over the coarse logit, the fine logit and the colour distance to the first-pass mask's mean colour.
 */
class SegMaskHeadTest {
    private static final int DIM = 16;
    private static final int CELL = 4;

    private static LlavaConfig config(int refine) {
        return RandomCheckpoint.tinyConfig(40, 4, new SieveExtras(5, DIM, CELL, false, refine));
    }

    @Test
    void matchesTheReferenceWithAndWithoutRefinement() {
        for (int refine : new int[] {0, 6}) {
            LlavaConfig c = config(refine);
            int size = c.vision().imageSize(); // 112
            int grid = size / c.vision().patchSize(); // 8
            int dv = c.vision().hiddenSize();
            int d = c.text().hiddenSize();
            try (ModelWeights w = ModelWeights.random(c, 3 + refine, 0.3f, NDManager.newBaseManager());
                 NDManager m = NDManager.newBaseManager()) {
                Random r = new Random(5);
                float[] seg = gauss(r, 2 * d);
                float[] feats = gauss(r, 2 * grid * grid * dv);
                float[] px = gauss(r, 2 * 3 * size * size);
                SegMaskHead head = new SegMaskHead(w, DIM, CELL, size, grid);
                float[] got = head.forward(m.create(seg, new Shape(2, d)), m.create(feats, new Shape(2, grid * grid, dv)),
                        m.create(px, new Shape(2, 3, size, size))).toFloatArray();
                int cells = size / CELL;
                assertEquals(2 * cells * cells, got.length);
                for (int b = 0; b < 2; b++) {
                    double[] want = reference(w, refine, b, seg, feats, px, d, dv, grid, size);
                    for (int k = 0; k < want.length; k++) {
                        assertEquals(want[k], got[b * cells * cells + k], 1e-3 * (1 + Math.abs(want[k])),
                                "refine " + refine + ", image " + b + ", cell " + k);
                    }
                }
            }
        }
    }

    @Test
    void aZeroOutputLayerLeavesThePlainHeadsMasks() {
        LlavaConfig plain = config(0);
        LlavaConfig refined = config(6);
        try (NDManager m = NDManager.newBaseManager()) {
            ModelWeights base = ModelWeights.random(plain, 4, 0.3f, NDManager.newBaseManager());
            float[] before = CheckpointKeys.expected(plain).keySet().stream().map(k -> base.get(k).toFloatArray())
                    .reduce(new float[0], SegMaskHeadTest::concat);
            try (ModelWeights grown = base.extendedTo(refined, 9, CheckpointKeys.segHead("refine.fc2"))) {
                assertEquals(CheckpointKeys.expected(refined).keySet(), grown.all().keySet());
                float[] after = CheckpointKeys.expected(plain).keySet().stream().map(k -> grown.get(k).toFloatArray())
                        .reduce(new float[0], SegMaskHeadTest::concat);
                assertArrayEquals(before, after, "the parameters it had are kept");
                assertTrue(allZero(grown.get(CheckpointKeys.segHead("refine.fc2.weight")).toFloatArray()));
                assertFalse(allZero(grown.get(CheckpointKeys.segHead("refine.fc1.weight")).toFloatArray()));
                int size = plain.vision().imageSize();
                int grid = size / plain.vision().patchSize();
                Random r = new Random(6);
                NDArray seg = m.create(gauss(r, plain.text().hiddenSize()), new Shape(1, plain.text().hiddenSize()));
                NDArray f = m.create(gauss(r, grid * grid * plain.vision().hiddenSize()),
                        new Shape(1, grid * grid, plain.vision().hiddenSize()));
                NDArray px = m.create(gauss(r, 3 * size * size), new Shape(1, 3, size, size));
                float[] a = new SegMaskHead(grown, DIM, CELL, size, grid).forward(seg, f, px).toFloatArray();
                ModelWeights plainView = ModelWeights.random(plain, 0, 0.3f, NDManager.newBaseManager());
                for (String k : CheckpointKeys.expected(plain).keySet()) {
                    plainView.get(k).set(grown.get(k).toFloatArray());
                }
                float[] b = new SegMaskHead(plainView, DIM, CELL, size, grid).forward(seg, f, px).toFloatArray();
                plainView.close();
                assertArrayEquals(b, a, 1e-5f);
            }
        }
    }

    @Test
    void extendingRefusesParametersTheConfigurationLacks() {
        try (ModelWeights w = ModelWeights.random(config(6), 4, 0.3f, NDManager.newBaseManager())) {
            WeightsException e = assertThrows(WeightsException.class,
                    () -> w.extendedTo(config(0), 1, CheckpointKeys.segHead("refine.fc2")));
            assertTrue(e.getMessage().contains("refine.fc1.weight"), e.getMessage());
        }
    }

    // ---- reference ----

    private static double[] reference(ModelWeights w, int refine, int b, float[] seg, float[] feats, float[] px, int d,
                                      int dv, int grid, int size) {
        double[] t = linear(w, "text_proj", seg, b * d, d); // [h]
        double scale = 1 / Math.sqrt(DIM);
        double[] patch = new double[grid * grid];
        for (int n = 0; n < grid * grid; n++) {
            patch[n] = dot(linear(w, "visual_proj", feats, (b * grid * grid + n) * dv, dv), t);
        }
        int cells = size / CELL;
        double[] coarse = new double[cells * cells];
        double[] fine = new double[cells * cells];
        double[][] colour = new double[cells * cells][3];
        for (int cy = 0; cy < cells; cy++) {
            for (int cx = 0; cx < cells; cx++) {
                int k = cy * cells + cx;
                coarse[k] = bilinearAt(patch, grid, (cy + 0.5) * grid / cells - 0.5, (cx + 0.5) * grid / cells - 0.5);
                float[] v = new float[3 * CELL * CELL]; // channel-major inside the cell
                for (int ch = 0; ch < 3; ch++) {
                    for (int y = 0; y < CELL; y++) {
                        for (int x = 0; x < CELL; x++) {
                            float p = px[((b * 3 + ch) * size + cy * CELL + y) * size + cx * CELL + x];
                            v[(ch * CELL + y) * CELL + x] = p;
                            colour[k][ch] += p / (CELL * CELL);
                        }
                    }
                }
                fine[k] = dot(linear(w, "pixel_proj", v, 0, v.length), t);
            }
        }
        double bias = w.get(CheckpointKeys.segHead("bias")).toFloatArray()[0];
        double[] out = new double[cells * cells];
        for (int k = 0; k < out.length; k++) {
            out[k] = scale * (coarse[k] + fine[k]) + bias;
        }
        if (refine == 0) {
            return out;
        }
        double[] proto = new double[3]; // softmax of the first-pass logits over the cells
        double max = Double.NEGATIVE_INFINITY;
        for (double v : out) {
            max = Math.max(max, v);
        }
        double mass = 0;
        for (int k = 0; k < out.length; k++) {
            double p = Math.exp(out[k] - max);
            mass += p;
            for (int ch = 0; ch < 3; ch++) {
                proto[ch] += p * colour[k][ch];
            }
        }
        float[] w1 = w.get(CheckpointKeys.segHead("refine.fc1.weight")).toFloatArray();
        float[] b1 = w.get(CheckpointKeys.segHead("refine.fc1.bias")).toFloatArray();
        float[] w2 = w.get(CheckpointKeys.segHead("refine.fc2.weight")).toFloatArray();
        float b2 = w.get(CheckpointKeys.segHead("refine.fc2.bias")).toFloatArray()[0];
        for (int k = 0; k < out.length; k++) {
            double dist = 0;
            for (int ch = 0; ch < 3; ch++) {
                double e = colour[k][ch] - proto[ch] / mass;
                dist += e * e;
            }
            double[] in = {scale * coarse[k], scale * fine[k], dist};
            double r = b2;
            for (int j = 0; j < refine; j++) {
                double h = b1[j];
                for (int i = 0; i < 3; i++) {
                    h += w1[j * 3 + i] * in[i];
                }
                r += w2[j] * Math.max(0, h);
            }
            out[k] += r;
        }
        return out;
    }

    /** Bilinear sample of a g x g grid at (sy, sx), coordinates clamped to the grid's centres. */
    private static double bilinearAt(double[] v, int g, double sy, double sx) {
        sy = Math.max(0, Math.min(g - 1, sy));
        sx = Math.max(0, Math.min(g - 1, sx));
        int y0 = (int) Math.floor(sy);
        int x0 = (int) Math.floor(sx);
        int y1 = Math.min(g - 1, y0 + 1);
        int x1 = Math.min(g - 1, x0 + 1);
        double fy = sy - y0;
        double fx = sx - x0;
        return (1 - fy) * ((1 - fx) * v[y0 * g + x0] + fx * v[y0 * g + x1]) + fy * ((1 - fx) * v[y1 * g + x0] + fx * v[y1 * g + x1]);
    }

    private static double[] linear(ModelWeights w, String name, float[] x, int off, int in) {
        float[] wt = w.get(CheckpointKeys.segHead(name + ".weight")).toFloatArray();
        float[] bias = w.get(CheckpointKeys.segHead(name + ".bias")).toFloatArray();
        double[] y = new double[bias.length];
        for (int o = 0; o < y.length; o++) {
            double s = bias[o];
            for (int i = 0; i < in; i++) {
                s += wt[o * in + i] * x[off + i];
            }
            y[o] = s;
        }
        return y;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static float[] gauss(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static boolean allZero(float[] a) {
        for (float v : a) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }
}
