package io.tokensieve.pruners;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.StepTrace;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.testing.TestModels;
import io.tokensieve.core.weights.CheckpointKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ZOO-Prune: the spec's hand-built cases and properties (section 6) and its behaviour on a tiny model. */
class ZooTest {
    @TempDir
    Path tmp;

    // ---------------------------------------------------------------- SADS selection (spec 6.1-6.8)

    @Test
    void caseATieGoesToTheLowerIndex() {
        float[][] z = {{1, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
        double[] s = {4, 3, 2, 1};
        assertArrayEquals(new int[] {0, 2, 1}, ZooMath.sadsOrder(z, s, 3, 0));
        assertArrayEquals(new int[] {0, 1, 2}, ZooMath.sadsSelect(z, s, 3, 0));
        assertArrayEquals(new int[] {0, 2}, ZooMath.sadsSelect(z, s, 2, 0));
        double[] sh = ZooMath.normalise(s, 0);
        assertArrayEquals(new double[] {1, 2.0 / 3, 1.0 / 3, 0}, sh, 1e-8);
    }

    @Test
    void caseBConstantSensitivityIsPureMaxMinDiversitySeededAtZero() {
        float[][] z = {{1, 0}, {0.8f, 0.6f}, {0, 1}, {-1, 0}};
        double[] s = {5, 5, 5, 5};
        assertArrayEquals(new int[] {0, 3, 2}, ZooMath.sadsOrder(z, s, 3, 0));
        assertArrayEquals(new int[] {0, 2, 3}, ZooMath.sadsSelect(z, s, 3, 0));
        assertArrayEquals(new double[] {1, 1, 1, 1}, ZooMath.normalise(s, 0));
    }

    @Test
    void sizesClampsAndFirstPick() {
        Random r = new Random(1);
        float[][] z = randomRows(r, 10, 5);
        double[] s = r.doubles(10).toArray();
        for (int k = 0; k <= 12; k++) {
            int[] sel = ZooMath.sadsSelect(z, s, k, 0);
            assertEquals(Math.min(k, 10), sel.length);
            for (int i = 1; i < sel.length; i++) {
                assertTrue(sel[i] > sel[i - 1]);
            }
            assertTrue(Arrays.stream(sel).allMatch(v -> v >= 0 && v < 10));
        }
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, ZooMath.sadsSelect(z, s, 10, 0));
        int argmax = 0;
        for (int i = 1; i < 10; i++) {
            argmax = s[i] > s[argmax] ? i : argmax;
        }
        assertArrayEquals(new int[] {argmax}, ZooMath.sadsSelect(z, s, 1, 0));
        assertEquals(argmax, ZooMath.sadsOrder(z, s, 5, 0)[0]);
        double[] tie = {1, 3, 3, 0, 0, 0, 0, 0, 0, 0};
        assertArrayEquals(new int[] {1}, ZooMath.sadsSelect(z, tie, 1, 0));
    }

    @Test
    void invariantToAffineSensitivityAndRowScaling() {
        Random r = new Random(2);
        float[][] z = randomRows(r, 16, 6);
        double[] s = r.doubles(16).toArray();
        int[] base = ZooMath.sadsOrder(z, s, 7, 0);
        double[] affine = Arrays.stream(s).map(v -> 3.5 * v - 2).toArray();
        assertArrayEquals(base, ZooMath.sadsOrder(z, affine, 7, 0));
        float[][] scaled = new float[16][];
        for (int i = 0; i < 16; i++) {
            float f = 0.25f + i;
            scaled[i] = new float[6];
            for (int k = 0; k < 6; k++) {
                scaled[i][k] = z[i][k] * f;
            }
        }
        assertArrayEquals(base, ZooMath.sadsOrder(scaled, s, 7, 0));
    }

    @Test
    void permutationEquivariance() {
        Random r = new Random(3);
        float[][] z = randomRows(r, 12, 4);
        double[] s = r.doubles(12).toArray();
        int[] perm = {5, 2, 11, 0, 7, 9, 1, 3, 10, 4, 8, 6}; // new position p holds old token perm[p]
        float[][] zp = new float[12][];
        double[] sp = new double[12];
        for (int p = 0; p < 12; p++) {
            zp[p] = z[perm[p]];
            sp[p] = s[perm[p]];
        }
        int[] base = ZooMath.sadsOrder(z, s, 6, 0);
        int[] permuted = ZooMath.sadsOrder(zp, sp, 6, 0);
        for (int t = 0; t < 6; t++) {
            assertEquals(base[t], perm[permuted[t]]);
        }
    }

    @Test
    void matchesTheNaiveReferenceOnRandomInputs() {
        Random r = new Random(4);
        for (int trial = 0; trial < 40; trial++) {
            int n = 2 + r.nextInt(31);
            float[][] z = randomRows(r, n, 1 + r.nextInt(8));
            double[] s = r.doubles(n).toArray();
            int k = r.nextInt(n + 1);
            assertArrayEquals(naiveOrder(z, s, k), ZooMath.sadsOrder(z, s, k, 0), "trial " + trial);
        }
    }

    /** Recomputes min over the chosen set from scratch at every step (the reference code's way). */
    private static int[] naiveOrder(float[][] z, double[] s, int k) {
        double[] sh = ZooMath.normalise(s, 0);
        double[][] zn = ZooMath.unitRows(z);
        List<Integer> chosen = new ArrayList<>();
        for (int t = 0; t < k; t++) {
            double best = Double.NEGATIVE_INFINITY;
            int bi = -1;
            for (int i = 0; i < z.length; i++) {
                if (chosen.contains(i)) {
                    continue;
                }
                double sc;
                if (chosen.isEmpty()) {
                    sc = sh[i];
                } else {
                    double div = Double.POSITIVE_INFINITY;
                    for (int j : chosen) {
                        div = Math.min(div, 1 - ZooMath.dot(zn[i], zn[j]));
                    }
                    sc = sh[i] * div;
                }
                if (bi < 0 || sc > best) {
                    best = sc;
                    bi = i;
                }
            }
            chosen.add(bi);
        }
        return chosen.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void degenerateTolTreatsNearlyConstantSensitivityAsConstant() {
        double[] s = {1.0, 1.0 + 1e-4, 1.0 - 1e-4};
        assertArrayEquals(new double[] {0.5, 1, 0}, ZooMath.normalise(s, 0), 1e-3); // the exact test stretches noise
        assertArrayEquals(new double[] {1, 1, 1}, ZooMath.normalise(s, 1e-3));
    }

    // ---------------------------------------------------------------- sensitivity (spec 6.9-6.14)

    @Test
    void linearProjectorGivesTheSameSensitivityForEveryTokenIndependentOfXAndH() {
        Random r = new Random(5);
        double[][] w = new double[3][4];
        for (double[] row : w) {
            for (int k = 0; k < 4; k++) {
                row[k] = r.nextGaussian();
            }
        }
        UnaryOperator<double[][]> lin = rows -> {
            double[][] out = new double[rows.length][3];
            for (int i = 0; i < rows.length; i++) {
                for (int o = 0; o < 3; o++) {
                    out[i][o] = 0.3 * o;
                    for (int k = 0; k < 4; k++) {
                        out[i][o] += w[o][k] * rows[i][k];
                    }
                }
            }
            return out;
        };
        float[][][] u = ZooMath.directions(new Random(9), 16, 5, 4, false);
        double expected = 0;
        for (float[][] uj : u) {
            double ss = 0;
            for (int o = 0; o < 3; o++) {
                double d = 0;
                for (int k = 0; k < 4; k++) {
                    d += w[o][k] * uj[0][k];
                }
                ss += d * d;
            }
            expected += Math.sqrt(ss) / 16;
        }
        double[][] x = new double[5][4];
        for (int i = 0; i < 5; i++) {
            for (int k = 0; k < 4; k++) {
                x[i][k] = 10 * r.nextGaussian();
            }
        }
        for (double h : new double[] {0.01, 0.5}) {
            double[] s = ZooMath.sensitivity(x, lin, u, h, 8, false);
            for (double v : s) {
                assertEquals(expected, v, 1e-5 * expected);
            }
        }
    }

    @Test
    void reluCase() {
        UnaryOperator<double[][]> relu = rows -> Arrays.stream(rows)
                .map(row -> Arrays.stream(row).map(v -> Math.max(0, v)).toArray()).toArray(double[][]::new);
        double[][] x = {{5, 5}, {-5, -5}, {5, -5}};
        float[][][] u = ZooMath.directions(new Random(11), 64, 3, 2, false);
        double meanAbs0 = Arrays.stream(u).mapToDouble(uj -> Math.abs(uj[0][0])).average().orElseThrow();
        for (double h : new double[] {0.01, 0.1, 1.0}) { // piecewise linear away from kinks: no dependence on h
            double[] s = ZooMath.sensitivity(x, relu, u, h, 8, false);
            assertEquals(1.0, s[0], 1e-7); // directions are stored in float32
            assertEquals(0.0, s[1], 0.0);
            assertEquals(meanAbs0, s[2], 1e-9);
            assertTrue(s[0] > s[2] && s[2] > s[1] && s[2] > 0 && s[2] < 1);
        }
    }

    @Test
    void agreesWithTheExactJacobianToOrderHSquared() {
        Random r = new Random(12);
        int dv = 5;
        int hid = 7;
        int dl = 4;
        double[][] w1 = gaussian(r, hid, dv);
        double[] b1 = gaussian(r, 1, hid)[0];
        double[][] w2 = gaussian(r, dl, hid);
        UnaryOperator<double[][]> mlp = rows -> {
            double[][] out = new double[rows.length][];
            for (int i = 0; i < rows.length; i++) {
                out[i] = matVec(w2, Arrays.stream(add(matVec(w1, rows[i]), b1)).map(Math::tanh).toArray());
            }
            return out;
        };
        double[][] x = gaussian(r, 6, dv);
        float[][][] u = ZooMath.directions(new Random(13), 32, 6, dv, false);
        double[] s = ZooMath.sensitivity(x, mlp, u, 1e-3, 8, false);
        for (int i = 0; i < x.length; i++) {
            double[] pre = add(matVec(w1, x[i]), b1);
            double exact = 0;
            for (float[][] uj : u) {
                double[] du = new double[dv];
                for (int k = 0; k < dv; k++) {
                    du[k] = uj[0][k];
                }
                double[] inner = matVec(w1, du);
                for (int q = 0; q < hid; q++) {
                    double t = Math.tanh(pre[q]);
                    inner[q] *= 1 - t * t;
                }
                exact += norm(matVec(w2, inner)) / u.length;
            }
            assertEquals(exact, s[i], 1e-4 * exact, "token " + i);
        }
    }

    @Test
    void chunkingDoesNotChangeTheSensitivityAndTheSeedDoes() {
        Random r = new Random(14);
        double[][] w = gaussian(r, 3, 3);
        UnaryOperator<double[][]> m = rows -> Arrays.stream(rows)
                .map(row -> Arrays.stream(matVec(w, row)).map(v -> v * v).toArray()).toArray(double[][]::new);
        double[][] x = gaussian(r, 9, 3);
        float[][][] u = ZooMath.directions(new Random(15), 64, 9, 3, false);
        double[] s1 = ZooMath.sensitivity(x, m, u, 0.01, 1, false);
        for (int chunk : new int[] {8, 64, 100}) {
            assertArrayEquals(s1, ZooMath.sensitivity(x, m, u, 0.01, chunk, false), 1e-12);
        }
        float[][][] again = ZooMath.directions(new Random(15), 64, 9, 3, false);
        assertTrue(Arrays.deepEquals(u, again));
        assertFalse(Arrays.deepEquals(u, ZooMath.directions(new Random(16), 64, 9, 3, false)));
        float[][][] perToken = ZooMath.directions(new Random(15), 64, 9, 3, true);
        assertEquals(9, perToken[0].length);
        assertFalse(Arrays.equals(ZooMath.sensitivity(x, m, perToken, 0.01, 8, false), s1));
        for (float[] dir : perToken[3]) {
            assertEquals(1.0, Math.sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]), 1e-6);
        }
    }

    @Test
    void djlSensitivityOnTheModelsProjectorMatchesThePureJavaPath() {
        VlmModel m = TestModels.tiny();
        float[] w1 = m.weights().get(CheckpointKeys.projector("linear_1.weight")).toFloatArray();
        float[] b1 = m.weights().get(CheckpointKeys.projector("linear_1.bias")).toFloatArray();
        float[] w2 = m.weights().get(CheckpointKeys.projector("linear_2.weight")).toFloatArray();
        float[] b2 = m.weights().get(CheckpointKeys.projector("linear_2.bias")).toFloatArray();
        int d = b2.length;
        int hid = b1.length;
        int dv = w1.length / hid;
        assertEquals("gelu", m.config().projectorHiddenAct());
        UnaryOperator<double[][]> java = rows -> {
            double[][] out = new double[rows.length][d];
            for (int i = 0; i < rows.length; i++) {
                double[] a = new double[hid];
                for (int o = 0; o < hid; o++) {
                    double v = b1[o];
                    for (int k = 0; k < dv; k++) {
                        v += w1[o * dv + k] * rows[i][k];
                    }
                    a[o] = 0.5 * v * (1 + erf(v / Math.sqrt(2)));
                }
                for (int o = 0; o < d; o++) {
                    double v = b2[o];
                    for (int k = 0; k < hid; k++) {
                        v += w2[o * hid + k] * a[k];
                    }
                    out[i][o] = v;
                }
            }
            return out;
        };
        Random r = new Random(21);
        int n = 12;
        float[] flat = new float[n * dv];
        double[][] x = new double[n][dv];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < dv; k++) {
                flat[i * dv + k] = (float) r.nextGaussian();
                x[i][k] = flat[i * dv + k];
            }
        }
        for (boolean perToken : new boolean[] {false, true}) {
            for (boolean fp16 : new boolean[] {false, true}) {
                float[][][] u = ZooMath.directions(new Random(22), 16, n, dv, perToken);
                double[] expected = ZooMath.sensitivity(x, java, u, 0.01, 16, fp16);
                try (NDManager mgr = NDManager.newBaseManager(m.device())) {
                    NDArray xs = mgr.create(flat, new Shape(n, dv));
                    double[] got = ZooPruner.sensitivity(xs, v -> m.model().multiModalProjector().forward(v), u, 0.01, 3,
                            fp16, mgr);
                    for (int i = 0; i < n; i++) {
                        assertEquals(expected[i], got[i], 2e-3 * expected[i], "perToken " + perToken + " fp16 " + fp16);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- on the tiny model

    @Test
    void picksTheMostSensitiveTokenFirstThenDiverseOnes() {
        VlmModel m = TestModels.tiny();
        VisualInput a = m.image(TestModels.rgbPng(tmp, "a.png", 90, 70, 1));
        VisualInput b = m.image(TestModels.rgbPng(tmp, "b.png", 70, 90, 2));
        List<float[][]> z = new ArrayList<>();
        GenerationResult r = Runs.ask(m, List.of(a, b), "what is this ?",
                Runs.watched("zoo:keep=6", (ctx, d) -> z.add(Runs.rows(ctx.projected()))), null, 1);
        StepTrace t = r.steps().get(0);
        assertEquals("sads", t.name());
        assertEquals(12, t.kept().length);
        float[] s = t.scores();
        for (int img = 0; img < 2; img++) {
            int first = img * 64;
            float[][] zi = Arrays.copyOfRange(z.get(0), first, first + 64);
            double[] si = new double[64];
            for (int j = 0; j < 64; j++) {
                si[j] = s[first + j];
            }
            int[] order = ZooMath.sadsOrder(zi, si, 6, 0);
            int argmax = 0;
            for (int j = 1; j < 64; j++) {
                argmax = si[j] > si[argmax] ? j : argmax;
            }
            assertEquals(argmax, order[0], "the most sensitive token comes first");
            int[] kept = Arrays.stream(t.kept()).filter(v -> v >= first && v < first + 64).map(v -> v - first).toArray();
            int[] sorted = order.clone();
            Arrays.sort(sorted);
            assertArrayEquals(sorted, kept);
            // later picks are not simply the next most sensitive ones: diversity changes the order
            int[] bySensitivity = Select.topK(toFloat(si), java.util.stream.IntStream.range(0, 64).toArray(), 6);
            assertFalse(Arrays.equals(bySensitivity, kept), "image " + img);
        }
        GenerationResult one = Runs.ask(m, List.of(a), "zoo:keep=1");
        float[] s1 = one.steps().get(0).scores();
        int best = 0;
        for (int j = 1; j < 64; j++) {
            best = s1[j] > s1[best] ? j : best;
        }
        assertArrayEquals(new int[] {best}, one.steps().get(0).kept());
    }

    @Test
    void budgetScopesPositionsAndParameters() {
        VlmModel m = TestModels.tiny();
        VisualInput a = m.image(TestModels.rgbPng(tmp, "a.png", 80, 80, 3));
        VisualInput b = m.image(TestModels.rgbPng(tmp, "b.png", 80, 80, 4));
        GenerationResult req = Runs.ask(m, List.of(a, b), "zoo:keep=10,scope=request");
        assertEquals(10, req.visualTokensPerLayer()[0]);
        GenerationResult per = Runs.ask(m, List.of(a, b), "zoo:keep=0.11");
        assertArrayEquals(new int[] {14, 14, 14, 14}, per.visualTokensPerLayer());
        assertEquals(7, Arrays.stream(per.steps().get(0).kept()).filter(v -> v < 64).count());
        GenerationResult ren = Runs.ask(m, List.of(a), "zoo:keep=0.25");
        GenerationResult keep = Runs.ask(m, List.of(a), "zoo:keep=0.25,position=keep");
        assertArrayEquals(ren.steps().get(0).kept(), keep.steps().get(0).kept());
        assertFalse(Arrays.equals(ren.firstTokenLogits(), keep.firstTokenLogits()), "renumbering is the default");
        GenerationResult fp16 = Runs.ask(m, List.of(a), "zoo:keep=0.25,precision=fp16-inputs");
        assertFalse(Arrays.equals(ren.steps().get(0).scores(), fp16.steps().get(0).scores()));
        GenerationResult seed = Runs.ask(m, List.of(a), "zoo:keep=0.25,seed=5");
        assertFalse(Arrays.equals(ren.steps().get(0).scores(), seed.steps().get(0).scores()));
        for (String bad : List.of("zoo:perturbations=0", "zoo:step=0", "zoo:chunk=0", "zoo:degenerateTol=-1",
                "zoo:precision=fp8")) {
            Exception e = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class, () -> Runs.pruner(bad));
            assertTrue(e.getMessage().contains("zoo"), e.getMessage());
        }
        assertNotNull(Runs.pruner("zoo:perturbations=16,step=0.001,chunk=4,directions=per-token,degenerateTol=1e-6"));
    }

    // ---------------------------------------------------------------- helpers

    static float[][] randomRows(Random r, int n, int d) {
        float[][] z = new float[n][d];
        for (float[] row : z) {
            for (int k = 0; k < d; k++) {
                row[k] = (float) r.nextGaussian();
            }
        }
        return z;
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    private static double[][] gaussian(Random r, int rows, int cols) {
        double[][] a = new double[rows][cols];
        for (double[] row : a) {
            for (int k = 0; k < cols; k++) {
                row[k] = r.nextGaussian();
            }
        }
        return a;
    }

    private static double[] matVec(double[][] w, double[] x) {
        double[] y = new double[w.length];
        for (int o = 0; o < w.length; o++) {
            for (int k = 0; k < x.length; k++) {
                y[o] += w[o][k] * x[k];
            }
        }
        return y;
    }

    private static double[] add(double[] a, double[] b) {
        double[] c = a.clone();
        for (int i = 0; i < c.length; i++) {
            c[i] += b[i];
        }
        return c;
    }

    private static double norm(double[] a) {
        return Math.sqrt(ZooMath.dot(a, a));
    }

    /** erf to double precision: Taylor series below 3, Lentz continued fraction of erfc above. */
    static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 3) {
            double term = ax;
            double sum = ax;
            for (int n = 1; n < 200 && Math.abs(term) > 1e-18; n++) {
                term *= -ax * ax / n;
                sum += term / (2 * n + 1);
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            double f = ax;
            double c = ax;
            double d = 0;
            for (int n = 1; n < 200; n++) {
                double an = n / 2.0;
                d = ax + an * d;
                d = 1 / d;
                c = ax + an / c;
                double delta = c * d;
                f *= delta;
                if (Math.abs(delta - 1) < 1e-16) {
                    break;
                }
            }
            r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }
}
