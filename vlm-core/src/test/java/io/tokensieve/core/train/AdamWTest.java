package io.tokensieve.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.engine.Engine;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AdamW against a scalar reference written from the update rule (decoupled decay, bias correction, global clipping). */
class AdamWTest {
    static final float B1 = 0.9f;
    static final float B2 = 0.98f;
    static final float EPS = 1e-8f;
    static final float WD = 0.1f;

    /** Loss sum(c * w) gives gradient c exactly, so the reference knows every gradient. */
    private static void backward(Map<String, NDArray> params, Map<String, float[]> coeff, NDManager m) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = null;
            for (var e : params.entrySet()) {
                NDArray c = m.create(coeff.get(e.getKey()), e.getValue().getShape());
                NDArray term = e.getValue().mul(c).sum();
                loss = loss == null ? term : loss.add(term);
            }
            gc.backward(loss);
        }
    }

    @Test
    void twoStepsMatchTheScalarReference() {
        float[] w0 = {0.5f, -1f, 2f, 0.25f};   // a 2x2 matrix: decayed
        float[] b0 = {1f, -2f};                 // a bias: not decayed
        Map<String, float[]> g1 = Map.of("w", new float[] {3f, -4f, 0f, 12f}, "b", new float[] {1f, 2f});
        Map<String, float[]> g2 = Map.of("w", new float[] {0.1f, 0.2f, -0.3f, 0.0f}, "b", new float[] {-0.5f, 0.05f});
        float clip = 5f;
        float lr = 0.01f;
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("w", m.create(w0, new Shape(2, 2)));
            params.put("b", m.create(b0, new Shape(2)));
            params.values().forEach(p -> p.setRequiresGradient(true));
            AdamW opt = new AdamW(B1, B2, EPS, WD, clip);

            double[][] ref = {toDouble(w0), toDouble(b0)};
            double[][] mom = {new double[4], new double[2]};
            double[][] vel = {new double[4], new double[2]};
            int t = 0;
            for (Map<String, float[]> g : java.util.List.of(g1, g2)) {
                backward(params, g, m);
                double norm;
                try (NDManager scratch = m.newSubManager()) {
                    norm = opt.step(params, lr, scratch);
                }
                t++;
                double[][] grads = {toDouble(g.get("w")), toDouble(g.get("b"))};
                double sq = 0;
                for (double[] gr : grads) {
                    for (double x : gr) {
                        sq += x * x;
                    }
                }
                assertEquals(Math.sqrt(sq), norm, 1e-4, "norm before clipping");
                double scale = Math.sqrt(sq) > clip ? clip / Math.sqrt(sq) : 1;
                for (int p = 0; p < 2; p++) {
                    for (int i = 0; i < ref[p].length; i++) {
                        double gi = grads[p][i] * scale;
                        mom[p][i] = B1 * mom[p][i] + (1 - B1) * gi;
                        vel[p][i] = B2 * vel[p][i] + (1 - B2) * gi * gi;
                        double mh = mom[p][i] / (1 - Math.pow(B1, t));
                        double vh = vel[p][i] / (1 - Math.pow(B2, t));
                        double upd = mh / (Math.sqrt(vh) + EPS) + (p == 0 ? WD * ref[p][i] : 0);
                        ref[p][i] -= lr * upd;
                    }
                }
                assertClose(ref[0], params.get("w").toFloatArray(), "w after step " + t);
                assertClose(ref[1], params.get("b").toFloatArray(), "b after step " + t);
                assertArrayEquals(new float[4], params.get("w").getGradient().toFloatArray(), "gradients cleared");
            }
            assertEquals(2, opt.stepCount());
            assertTrue(opt.state().containsKey("m.w") && opt.state().containsKey("v.b"));
        }
    }

    @Test
    void aWholeKeyOverridesThePrefixesThatCoverItAndTheFirstPrefixWins() {
        AdamW opt = new AdamW(0.9f, 0.98f, 1e-8f, 0f, 0f).scaleLearningRate("a.", 2f).scaleLearningRate("a.b", 3f)
                .scaleLearningRate("a.b.c", 5f);
        assertEquals(5f, opt.learningRateScale("a.b.c"));
        assertEquals(2f, opt.learningRateScale("a.b.d"), "the first prefix given wins");
        assertEquals(1f, opt.learningRateScale("x.b.c"));
        opt.scaleLearningRate("a.b.c", 7f);
        assertEquals(7f, opt.learningRateScale("a.b.c"), "naming a key again replaces its factor");
    }

    @Test
    void aNonFiniteGradientSkipsTheStep() {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("w", m.create(new float[] {1f, 2f}, new Shape(1, 2)));
            params.get("w").setRequiresGradient(true);
            AdamW opt = new AdamW(B1, B2, EPS, WD, 1f);
            backward(params, Map.of("w", new float[] {Float.NaN, 1f}), m);
            double norm;
            try (NDManager scratch = m.newSubManager()) {
                norm = opt.step(params, 0.1f, scratch);
            }
            assertFalse(Double.isFinite(norm));
            assertArrayEquals(new float[] {1f, 2f}, params.get("w").toFloatArray(), "weights untouched");
            assertEquals(0, opt.stepCount());
            assertArrayEquals(new float[2], params.get("w").getGradient().toFloatArray(), "NaN gradient cleared");
        }
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    private static void assertClose(double[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5, what + " [" + i + "]");
        }
    }
}
