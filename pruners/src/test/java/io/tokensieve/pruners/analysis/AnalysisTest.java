package io.tokensieve.pruners.analysis;

import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.prune.SequenceLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The offline analyses on synthetic attention (adaptinfer.md section 6, adatoken-3d.md sections 10.7-10.9). */
class AnalysisTest {
    @TempDir
    Path tmp;

    /** Slots: text 0..prefix-1, visual prefix..prefix+visual-1, then text. */
    private static SequenceLayout layout(int prefix, int visual, int text) {
        int n = prefix + visual + text;
        int[] seq = new int[n];
        int[] vis = new int[n];
        long[] tok = new long[n];
        long[] pos = new long[n];
        for (int i = 0; i < n; i++) {
            seq[i] = i;
            pos[i] = i;
            vis[i] = i >= prefix && i < prefix + visual ? i - prefix : -1;
            tok[i] = vis[i] >= 0 ? 99 : i;
        }
        return new SequenceLayout(seq, vis, tok, pos, visual);
    }

    @Test
    void changePointIsTheBestLeastSquaresSplit() {
        assertEquals(3, InflectionAnalysis.changePoint(new double[] {0, 0, 0, 10, 10, 10}, 2));
        // [1,2] + [3,3,3,3] costs 0.5; [1,2,3] + [3,3,3] costs 2; [1,2,3,3] + [3,3] costs 2.75
        assertEquals(2, InflectionAnalysis.changePoint(new double[] {1, 2, 3, 3, 3, 3}, 2));
        assertEquals(-1, InflectionAnalysis.changePoint(new double[] {1, 2, 3}, 2));
        assertEquals(2, InflectionAnalysis.changePoint(new double[] {5, 5, 5, 5}, 2)); // flat: first split
        assertArrayEquals(new int[] {1, 2, 3}, InflectionAnalysis.topLayers(new int[] {0, 5, 3, 5, 0, 1}, 3));
        assertArrayEquals(new int[] {1, 3}, InflectionAnalysis.topLayers(new int[] {0, 5, 0, 5}, 3));
    }

    @Test
    void inflectionLayersOfSyntheticAttention() {
        // 6 layers; visual tokens 0..3 at slots 2..5; the text block (slots 6..8) pays attention to visual 1 only
        // in layer 3 (cumulative 0,0,0,x,x,x: split 3 -> layer 2) and to visual 3 only in layer 1 (split 2 ->
        // layer 1); visual 0 and 2 receive nothing
        SequenceLayout seq = layout(2, 4, 3);
        int layers = 6;
        float[][][] att = new float[layers][9][9];
        for (int t = 6; t < 9; t++) {
            att[3][t][3] = 0.5f; // visual 1 at slot 3
            att[1][t][5] = 0.25f; // visual 3 at slot 5
            att[0][0][0] = 1f; // prefix rows do not count
        }
        AttentionRecorder.Prefill p = new AttentionRecorder.Prefill(seq, List.of(new ImageSpan(0, 0, 4, 2, 2, 2, false)),
                2, att);
        double[][] mass = InflectionAnalysis.textToVisionMass(p);
        assertEquals(3 * 0.5 * 2, mass[3][1], 1e-6); // summed over 3 text rows and 2 heads
        assertEquals(3 * 0.25 * 2, mass[1][3], 1e-6);
        assertEquals(0, mass[3][0], 1e-9);
        InflectionAnalysis a = new InflectionAnalysis(layers, 0.5);
        a.add(p);
        a.add(p);
        assertArrayEquals(new int[] {0, 2, 2, 0, 0, 0}, a.histogram());
        assertArrayEquals(new int[] {1, 2}, a.inflectionLayers(3));
        assertEquals(2, a.samples());
        assertEquals(4, a.tokens());
        assertEquals(1.5, a.meanMassPerLayer()[1], 1e-6);
    }

    /** n = 40 slots: prefix [0,10), spatial [10,30), text [30,40); spatial rows pay {@code share} to the prefix. */
    private static float[][] spatialReadsPrefix(double share) {
        float[][] a = new float[40][40];
        for (int i = 0; i < 10; i++) {
            for (int j = 0; j <= i; j++) {
                a[i][j] = 1f / (i + 1);
            }
        }
        for (int i = 10; i < 30; i++) {
            for (int j = 0; j < 10; j++) {
                a[i][j] = (float) (share / 10);
            }
            a[i][i] = (float) (1 - share);
        }
        for (int i = 30; i < 40; i++) {
            a[i][i] = 1f;
        }
        return a;
    }

    @Test
    void flowOfSpatialQueriesReadingOnlyThePrefix() {
        // section 10.7: I = 0 and X = 100 * 0.7 * (pooled block mass): two 10x10 blocks with mean 0.1 each
        double[][] pooled = InformationFlowAnalysis.pool(spatialReadsPrefix(1.0), 10);
        assertEquals(4, pooled.length);
        assertEquals(0.1, pooled[1][0], 1e-6);
        double[] f = InformationFlowAnalysis.flow(pooled, 1, 3, InformationFlowAnalysis.DEFAULTS);
        assertEquals(0, f[0], 1e-9);
        assertEquals(100 * 0.7 * 0.2, f[1], 1e-4);
        // the running-sum mixing: I = 1, 2, 3 and X = 0, 10, 20 give C_1 = 0.4*2 + 0.3*10 + 0.3*(1 + 0.73*2), ...
        double[] c = InformationFlowAnalysis.mix(new double[] {1, 2, 3}, new double[] {0, 10, 20},
                InformationFlowAnalysis.DEFAULTS);
        assertArrayEquals(new double[] {0.8 + 3 + 0.3 * 2.46, 1.2 + 6 + 0.3 * (2.46 + 0.73 * 3)}, c, 1e-9);
        // over layers with a growing prefix share, the normalised curve runs from 0 to 1
        int layers = 5;
        float[][][] att = new float[layers][][];
        for (int l = 0; l < layers; l++) {
            att[l] = spatialReadsPrefix(0.2 * l);
        }
        InformationFlowAnalysis a = new InformationFlowAnalysis(layers, InformationFlowAnalysis.DEFAULTS);
        a.add(new AttentionRecorder.Prefill(layout(10, 20, 10), List.of(new ImageSpan(0, 0, 20, 4, 5, 10, false)), 2, att));
        double[] y = a.curve();
        assertEquals(layers - 1, y.length);
        assertEquals(0, y[0], 1e-9);
        assertEquals(100, y[layers - 2], 1e-9);
        for (int i = 1; i < y.length; i++) {
            assertTrue(y[i] > y[i - 1]);
        }
    }

    @Test
    void theReferenceIndexingReadsOnlyZerosUnderCausalAttention() {
        // section 10.8: literal mode gives I = X = 0 for any causal attention
        Random r = new Random(5);
        float[][] a = new float[50][50];
        for (int i = 0; i < 50; i++) {
            float sum = 0;
            for (int j = 0; j <= i; j++) {
                a[i][j] = r.nextFloat();
                sum += a[i][j];
            }
            for (int j = 0; j <= i; j++) {
                a[i][j] /= sum;
            }
        }
        InformationFlowAnalysis.Settings literal = new InformationFlowAnalysis.Settings(10, 0.7, 0.3, 0.73, 0.4, 0.3, 0.3,
                true, false);
        double[][] p = InformationFlowAnalysis.pool(a, 10);
        assertArrayEquals(new double[] {0, 0}, InformationFlowAnalysis.flow(p, 1, 3, literal), 1e-12);
        double[] transposed = InformationFlowAnalysis.flow(p, 1, 3, InformationFlowAnalysis.DEFAULTS);
        assertTrue(transposed[0] > 0 && transposed[1] > 0);
        InformationFlowAnalysis.Settings diag = new InformationFlowAnalysis.Settings(10, 0.7, 0.3, 0.73, 0.4, 0.3, 0.3,
                false, true);
        assertEquals(transposed[0] + 100 * (p[1][1] + p[2][2]), InformationFlowAnalysis.flow(p, 1, 3, diag)[0], 1e-9);
    }

    @Test
    void decayFitHoldsTheConstraintsAndRecoversAKnownCurve() {
        // section 10.9, on a curve with known parameters: B = 0.15 and B = -0.08 (the concave shape), 32 layers
        for (double b : new double[] {0.15, -0.08}) {
            double[] y = new double[31];
            for (int i = 0; i < y.length; i++) {
                y[i] = DecayFit.value(i + 1, b, 100, 10, 32);
            }
            DecayFit.Curve f = DecayFit.fit(y, 100, 32, 10);
            assertEquals(b, f.b(), 1e-6);
            assertEquals(0, f.objective(), 1e-9);
            assertEquals(100, f.a() * Math.exp(-f.b() * (1 - f.c())) + f.d(), 1e-3);
            assertEquals(10, f.a() * Math.exp(-f.b() * (32 - f.c())) + f.d(), 1e-3);
            if (f.a() * f.b() > 0) {
                for (int x = 2; x <= 32; x++) {
                    assertTrue(f.at(x) < f.at(x - 1));
                }
            }
        }
        // noisy data: the constraints stay exact, the fit stays close
        Random r = new Random(3);
        double[] y = new double[31];
        for (int i = 0; i < y.length; i++) {
            y[i] = DecayFit.value(i + 1, 0.1, 100, 10, 32) + r.nextGaussian();
        }
        DecayFit.Curve f = DecayFit.fit(y, 100, 32, 10);
        assertEquals(100, f.at(1), 1e-9);
        assertEquals(10, f.at(32), 1e-9);
        assertEquals(0.1, f.b(), 0.02);
        assertArrayEquals(new double[] {1, 0, -1, -1.5, -2}, DecayFit.gradient(new double[] {0, 1, 0, -1, -3}), 1e-12);
        // ratios: f(b) / 100 clamped to [rhoMin, 1] and non-increasing
        assertArrayEquals(new double[] {f.at(8) / 100, f.at(16) / 100, 0.12},
                InformationFlowAnalysis.ratios(f, new int[] {8, 16, 40}, 0.12), 1e-12);
    }

    private static ModelShape shape(int layers) {
        return new ModelShape(layers, 4, 2, 16, 64, 128, 2, 32, 2, -2, 64);
    }

    @Test
    void scheduleFilesRoundTripIntoThePruners() throws Exception {
        Path ai = tmp.resolve("adaptinfer.json");
        ScheduleFile.write(ai, Map.of("method", "adaptinfer", "layers", 8, "stage_layers", new int[] {1, 3, 5}));
        assertArrayEquals(new int[] {1, 3, 5}, ScheduleFile.readAdaptInfer(ai).stageLayers());
        List<ImageSpan> img = List.of(new ImageSpan(0, 0, 64, 8, 8, 5, false));
        List<PruneStep> steps = PrunerRegistry.defaultRegistry().create("adaptinfer:schedule=" + ai).pruner()
                .schedule(shape(8), img);
        assertEquals(List.of("BEFORE_LAYER(0)", "BEFORE_LAYER(2)", "BEFORE_LAYER(4)", "BEFORE_LAYER(6)"),
                steps.stream().map(s -> s.hook().toString()).toList());
        Path at = tmp.resolve("adatoken.json");
        ScheduleFile.write(at, Map.of("method", "adatoken3d", "layers", 8, "boundaries", new int[] {3, 6},
                "ratios", new double[] {0.6, 0.3}));
        List<PruneStep> gate = PrunerRegistry.defaultRegistry().create("adatoken3d:schedule=" + at).pruner()
                .schedule(shape(16), img);
        assertEquals(List.of("BEFORE_LAYER(0)", "BEFORE_LAYER(6)", "BEFORE_LAYER(12)"),
                gate.stream().map(s -> s.hook().toString()).toList());
        PruneException wrong = assertThrows(PruneException.class,
                () -> PrunerRegistry.defaultRegistry().create("adaptinfer:schedule=" + at));
        assertTrue(wrong.getMessage().contains("not adaptinfer"), wrong.getMessage());
        Files.writeString(tmp.resolve("bad.json"), "{\"method\":\"adatoken3d\",\"layers\":8,\"boundaries\":[3],"
                + "\"ratios\":[1.5]}");
        PruneException bad = assertThrows(PruneException.class,
                () -> PrunerRegistry.defaultRegistry().create("adatoken3d:schedule=" + tmp.resolve("bad.json")));
        assertTrue(bad.getMessage().contains("ratios"), bad.getMessage());
    }
}
