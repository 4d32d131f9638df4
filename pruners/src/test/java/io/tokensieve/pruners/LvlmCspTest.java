package io.tokensieve.pruners;

import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.SequenceLayout;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.StepTrace;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.testing.TestModels;
import io.tokensieve.core.testing.TestPruners;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LVLM_CSP: the properties of lvlm-csp.md section 9, the budget mapping, and scattering on a tiny model. */
class LvlmCspTest {
    @TempDir
    Path tmp;

    // ---------------------------------------------------------------- selection functions (spec 9.1-9.5)

    @Test
    void uniformIsTheRasterStride() {
        assertArrayEquals(IntStream.range(0, 64).map(i -> 4 * i).toArray(), CspMath.uniform(256, 64));
        assertArrayEquals(new int[] {0, 2, 4, 6, 8}, CspMath.uniform(10, 5));
        assertArrayEquals(new int[] {0, 3, 6}, CspMath.uniform(10, 3));
        assertArrayEquals(new int[0], CspMath.uniform(10, 0));
        // the 2-D lattice: stride 2 in both axes for 256 -> 64 on a 16x16 grid
        int[] lattice = CspMath.uniform2d(16, 16, 64);
        assertEquals(64, lattice.length);
        assertTrue(Arrays.stream(lattice).allMatch(v -> (v / 16) % 2 == 0 && (v % 16) % 2 == 0));
        for (int k = 1; k <= 64; k++) {
            int[] u = CspMath.uniform2d(8, 8, k);
            assertEquals(k, Arrays.stream(u).distinct().count());
            assertTrue(Arrays.stream(u).allMatch(v -> v >= 0 && v < 64));
        }
    }

    @Test
    void randomIsSeededDistinctAndSorted() {
        int[] a = CspMath.random(new Random(7), 64, 20);
        assertArrayEquals(a, CspMath.random(new Random(7), 64, 20));
        assertFalse(Arrays.equals(a, CspMath.random(new Random(8), 64, 20)));
        assertEquals(20, Arrays.stream(a).distinct().count());
        for (int i = 1; i < a.length; i++) {
            assertTrue(a[i] > a[i - 1]);
        }
    }

    @Test
    void clsAttentionTopKIsInvariantToALogitShiftAndRaisingOneTokenKeepsIt() {
        double[] logits = {0.3, 2.0, -1.0, 2.0, 0.5, 1.9};
        double[] shifted = Arrays.stream(logits).map(v -> v + 5).toArray();
        assertArrayEquals(CspMath.topK(softmax(logits), 3), CspMath.topK(softmax(shifted), 3));
        assertArrayEquals(new int[] {1, 3, 5}, CspMath.topK(softmax(logits), 3));
        assertArrayEquals(new int[] {1}, CspMath.topK(new double[] {0, 1, 0, 1}, 1)); // ties: lower index
        double[] seg = {0.1, 0.05, 0.3, 0.2, 0.01};
        seg[4] = 0.3;
        assertTrue(Arrays.binarySearch(CspMath.topK(seg, 2), 4) >= 0);
    }

    private static double[] softmax(double[] x) {
        double max = Arrays.stream(x).max().orElseThrow();
        double[] e = Arrays.stream(x).map(v -> Math.exp(v - max)).toArray();
        double s = Arrays.stream(e).sum();
        return Arrays.stream(e).map(v -> v / s).toArray();
    }

    @Test
    void segFirstQuotasFillAndTrim() {
        assertArrayEquals(new int[] {6, 2}, CspMath.quotas(new int[] {30, 10}, 8)); // areas 3:1
        assertArrayEquals(new int[] {3, 1}, CspMath.quotas(new int[] {3, 1}, 8)); // capped at the instance's tokens
        assertArrayEquals(new int[] {1, 1, 1}, CspMath.quotas(new int[] {10, 1, 1}, 2)); // every instance gets >= 1
        // two instances of 12 and 4 tokens on 64: quotas 6 and 2
        int[] big = IntStream.range(0, 12).map(i -> 8 * (i / 4) + i % 4).toArray();
        int[] small = {44, 45, 52, 53};
        int[] sel = CspMath.segFirst(List.of(big, small), 64, 8);
        assertEquals(8, sel.length);
        assertEquals(6, Arrays.stream(sel).filter(v -> Arrays.binarySearch(big, v) >= 0).count());
        assertEquals(2, Arrays.stream(sel).filter(v -> Arrays.binarySearch(small, v) >= 0).count());
        // more room than instance tokens: the rest comes from the background, evenly
        int[] filled = CspMath.segFirst(List.of(small), 64, 10);
        assertEquals(10, filled.length);
        assertEquals(4, Arrays.stream(filled).filter(v -> Arrays.binarySearch(small, v) >= 0).count());
        // more instances than picks: trimmed to exactly k
        List<int[]> many = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            many.add(new int[] {2 * i, 2 * i + 1});
        }
        int[] trimmed = CspMath.segFirst(many, 64, 4);
        assertEquals(4, trimmed.length);
        assertEquals(4, Arrays.stream(trimmed).distinct().count());
        assertArrayEquals(CspMath.uniform(64, 5), CspMath.segFirst(List.of(), 64, 5));
        for (int k = 1; k <= 64; k++) {
            assertEquals(k, CspMath.segFirst(List.of(big, small), 64, k).length, "k = " + k);
        }
    }

    @Test
    void featureRegionsFindAFlatObjectOnAVariedBackground() {
        Random r = new Random(9);
        float[][] x = new float[64][];
        int[] object = {18, 19, 20, 26, 27, 28, 34, 35, 36};
        for (int v = 0; v < 64; v++) {
            x[v] = new float[] {10, (float) r.nextGaussian() * 0.3f, (float) r.nextGaussian() * 0.3f, 0};
        }
        for (int v : object) {
            x[v] = new float[] {0, 0, 0, 10};
        }
        List<int[]> inst = CspMath.featureRegions(x, 8, 8, 0.85);
        assertEquals(1, inst.size());
        assertArrayEquals(object, inst.get(0));
    }

    // ---------------------------------------------------------------- the budget mapping (spec 6, 9.11)

    @Test
    void rhoClosedFormAndThePresetsOn32Layers() {
        assertEquals(0.65625, CspMath.rho(32, 8, 16, 256, 64, 16), 1e-12);
        assertEquals(0.34375, CspMath.Preset.CSP65.keep(), 1e-12);
        assertEquals(0.296875, CspMath.Preset.CSP70.keep(), 1e-12);
        CspMath.Plan p65 = CspMath.plan(32, 256, 88, 1, CspMath.Preset.CSP65, -1, -1);
        assertEquals(new CspMath.Plan(32, 256, 8, 16, 64, 16), p65);
        assertEquals(0.65625, p65.rho(), 1e-12);
        assertEquals(88.0, p65.average(), 1e-12);
        CspMath.Plan p70 = CspMath.plan(32, 256, 76, 1, CspMath.Preset.CSP70, -1, -1);
        assertEquals(new CspMath.Plan(32, 256, 10, 16, 64, 16), p70);
        assertEquals(1 - 76.0 / 256, p70.rho(), 1e-12);
        assertEquals(new CspMath.Plan(4, 64, 1, 2, 16, 4), CspMath.plan(4, 64, 22, 1, CspMath.Preset.CSP65, -1, -1));
        assertEquals(new CspMath.Plan(8, 64, 2, 4, 16, 4), CspMath.plan(8, 64, 22, 1, CspMath.Preset.CSP65, -1, -1));
        assertArrayEquals(new int[] {16, 16, 64, 64, 4, 4, 4, 4}, CspMath.plan(8, 64, 22, 1, CspMath.Preset.CSP65, -1, -1)
                .counts());
    }

    @Test
    void everyBudgetIsReachedWithinOneTokenWithValidBoundaries() {
        for (CspMath.Preset preset : CspMath.Preset.values()) {
            for (int layers : new int[] {4, 8, 32}) {
                for (int images : new int[] {1, 2, 3}) {
                    int n = 64 * images;
                    for (int t = images; t <= n; t++) {
                        CspMath.Plan p = CspMath.plan(layers, n, t, images, preset, -1, -1);
                        String at = preset + " L=" + layers + " N=" + n + " T=" + t + ": " + p;
                        assertTrue(Math.abs(p.average() - t) < 1.0, at);
                        if (p.clusters()) {
                            assertTrue(p.clusterLayer() >= 1 && p.clusterTokens() >= images, at);
                        }
                        if (p.prunes()) {
                            assertTrue(p.pruneLayer() >= 1 && p.pruneLayer() <= layers - 1 && p.pruneTokens() >= images, at);
                        }
                        assertTrue(p.pruneLayer() >= p.clusterLayer(), at);
                    }
                }
            }
        }
        // low budgets on 4 layers: one full scattering layer would average more than the budget, so no scattering
        CspMath.Plan low = CspMath.plan(4, 64, 7, 1, CspMath.Preset.CSP65, -1, -1);
        assertFalse(low.scatters());
        assertArrayEquals(new int[] {19, 3, 3, 3}, low.counts());
        // the window narrows with the budget on 8 layers
        assertArrayEquals(new int[] {21, 21, 64, 4, 4, 4, 4, 4}, CspMath.plan(8, 64, 16, 1, CspMath.Preset.CSP65, -1, -1)
                .counts());
        // fixed boundaries are honoured or the budget fails with a clear message
        assertEquals(new CspMath.Plan(4, 64, 0, 4, 64, 64), CspMath.plan(4, 64, 64, 1, CspMath.Preset.CSP65, 0, 4));
        PruneException e = assertThrows(PruneException.class,
                () -> CspMath.plan(4, 64, 32, 1, CspMath.Preset.CSP65, 0, 4));
        assertTrue(e.getMessage().contains("cannot be reached"), e.getMessage());
        assertEquals(3, CspMath.plan(8, 64, 40, 1, CspMath.Preset.CSP65, 1, 3).pruneLayer());
    }

    @Test
    void nearestRepresentativeTiesGoToTheLowerIndex() {
        double[][] sim = {
                {1, 0.5, 0.5, 0.1},
                {0.5, 1, 0.2, 0.2},
                {0.5, 0.2, 1, 0.9},
                {0.1, 0.2, 0.9, 1}};
        assertArrayEquals(new int[] {1, 1, 2, 2}, CspMath.nearestRepresentative(sim, new int[] {1, 2}));
        assertArrayEquals(new int[] {0, 0, 0, 0}, CspMath.nearestRepresentative(sim, new int[] {0}));
    }

    // ---------------------------------------------------------------- on the tiny models (spec 9.6-9.10, 9.12)

    @Test
    void droppedTokensComeBackAtTheScatteringStep() {
        VlmModel m = TestModels.extras();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 90, 90, 1));
        long[] seg = {m.segTokenId(), m.tokenizer().tokenId(".")}; // LISA's teacher-forced answer "[SEG]." 
        GenerationResult base = Runs.ask(m, List.of(img), "segment the square", null, seg, 0);
        GenerationResult r = Runs.ask(m, List.of(img), "segment the square", Runs.pruner("lvlm-csp:keep=0.4"), seg, 0);
        // keep 0.4 -> 26 tokens on average: L_c = 1, L_p = 2, N_c = 27, N_p = 7 -> (27 + 64 + 2 * 7) / 4 = 26.25
        assertArrayEquals(new int[] {27, 64, 7, 7}, r.visualTokensPerLayer());
        int text = base.promptTokens() - base.visualTokens();
        for (int l = 0; l < 4; l++) {
            assertEquals(text, r.tokensPerLayer()[l] - r.visualTokensPerLayer()[l], "text and [SEG] kept in layer " + l);
        }
        StepTrace cluster = Runs.step(r, "cluster");
        assertArrayEquals(CspMath.uniform(64, 27), cluster.kept());
        StepTrace scatter = Runs.step(r, "scatter");
        assertEquals("BEFORE_LAYER(1)", scatter.hook());
        assertArrayEquals(IntStream.range(0, 64).toArray(), scatter.kept());
        int[] dropped = IntStream.range(0, 64).filter(v -> Arrays.binarySearch(cluster.kept(), v) < 0).toArray();
        assertArrayEquals(dropped, scatter.reactivated(), "every dropped token comes back");
        StepTrace prune = Runs.step(r, "prune");
        assertEquals("BEFORE_LAYER(2)", prune.hook());
        float[] s = prune.scores();
        assertArrayEquals(Select.topK(s, IntStream.range(0, 64).toArray(), 7), prune.kept());
        assertTrue(r.maskLogits() != null);
        // the [SEG] row ranks the tokens: the last prompt token (".") ranks them differently
        GenerationResult last = Runs.ask(m, List.of(img), "segment the square", Runs.pruner("lvlm-csp:keep=0.4,query=last"),
                seg, 0);
        assertFalse(Arrays.equals(s, Runs.step(last, "prune").scores()));
        // without [SEG] in the prompt (generation mode) the last prompt token is the query
        GenerationResult gen = Runs.ask(m, List.of(img), "segment the square", Runs.pruner("lvlm-csp:keep=0.4"), null, 1);
        GenerationResult genLast = Runs.ask(m, List.of(img), "segment the square",
                Runs.pruner("lvlm-csp:keep=0.4,query=last"), null, 1);
        assertArrayEquals(Runs.step(genLast, "prune").scores(), Runs.step(gen, "prune").scores());
    }

    @Test
    void reinsertIsTheCoresReinsertionOfProjectedEmbeddings() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 90, 90, 2));
        GenerationResult r = Runs.ask(m, List.of(img), "lvlm-csp");
        assertArrayEquals(new int[] {16, 64, 4, 4}, r.visualTokensPerLayer()); // csp65 at its own average, 22
        int[] reps = Runs.step(r, "cluster").kept();
        int[] all = IntStream.range(0, 64).toArray();
        int[] last = Runs.step(r, "prune").kept();
        ConfiguredPruner same = TestPruners.of("by-hand",
                List.of(PruneStep.of("c", HookPoint.PROJECTED), PruneStep.of("s", HookPoint.beforeLayer(1)).withReactivation(),
                        PruneStep.of("p", HookPoint.beforeLayer(2))),
                List.of(ctx -> PruneDecision.keep(reps), ctx -> PruneDecision.keep(all), ctx -> PruneDecision.keep(last)),
                PositionPolicy.KEEP, BudgetConvention.FINAL, new io.tokensieve.core.prune.Budget(4, false,
                        io.tokensieve.core.prune.Budget.Scope.IMAGE));
        GenerationResult byHand = Runs.ask(m, List.of(img), "what color is the circle ?", same, null, 1);
        assertArrayEquals(byHand.firstTokenLogits(), r.firstTokenLogits());
        assertTrue(Runs.step(r, "scatter").reactivated().length == 48);
    }

    @Test
    void residualBroadcastCopiesTheRepresentativesUpdate() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 90, 90, 3));
        List<float[][]> x = new ArrayList<>();
        List<float[][]> h = new ArrayList<>();
        List<float[][]> rows = new ArrayList<>();
        List<int[]> replaced = new ArrayList<>();
        List<int[]> reps = new ArrayList<>();
        List<SequenceLayout> seqs = new ArrayList<>();
        GenerationResult r = Runs.ask(m, List.of(img), "what is this ?",
                Runs.watched("lvlm-csp:scatterMode=residual-broadcast", (ctx, d) -> {
                    if (ctx.step().name().equals("scatter")) {
                        x.add(Runs.rows(ctx.projected()));
                        h.add(Runs.rows(ctx.hidden()));
                        rows.add(Runs.rows(d.replacements()));
                        replaced.add(d.replaced());
                        reps.add(ctx.live());
                        seqs.add(ctx.sequence());
                    }
                }), null, 1);
        int[] rep = reps.get(0);
        StepTrace scatter = Runs.step(r, "scatter");
        assertArrayEquals(scatter.reactivated(), replaced.get(0), "members get rows, representatives keep their state");
        double[][] sim = new double[64][64];
        for (int i = 0; i < 64; i++) {
            for (int j = 0; j < 64; j++) {
                sim[i][j] = CatpMath.cos(x.get(0)[i], x.get(0)[j]);
            }
        }
        int[] owner = CspMath.nearestRepresentative(sim, rep);
        for (int t = 0; t < replaced.get(0).length; t++) {
            int k = replaced.get(0)[t];
            int own = owner[k];
            float[] hr = h.get(0)[seqs.get(0).slotOfVisual(own)];
            for (int c = 0; c < hr.length; c++) {
                float expected = hr[c] - x.get(0)[own][c];
                assertEquals(expected, rows.get(0)[t][c] - x.get(0)[k][c], 1e-4, "token " + k + " dim " + c);
            }
        }
        GenerationResult reinsert = Runs.ask(m, List.of(img), "what is this ?", Runs.pruner("lvlm-csp"), null, 1);
        assertArrayEquals(reinsert.visualTokensPerLayer(), r.visualTokensPerLayer());
        assertFalse(Arrays.equals(reinsert.firstTokenLogits(), r.firstTokenLogits()));
    }

    @Test
    void clusterModesAndScoreLayers() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 90, 90, 4));
        GenerationResult cls = Runs.ask(m, List.of(img), "lvlm-csp:clusterMode=cls-attn");
        StepTrace c = Runs.step(cls, "cluster");
        assertEquals(16, c.kept().length);
        assertArrayEquals(Select.topK(c.scores(), IntStream.range(0, 64).toArray(), 16), c.kept());
        for (String mode : List.of("uniform-2d", "random", "seg-first")) {
            GenerationResult r = Runs.ask(m, List.of(img), "lvlm-csp:clusterMode=" + mode);
            assertArrayEquals(new int[] {16, 64, 4, 4}, r.visualTokensPerLayer(), mode);
        }
        int[] twoRandom = Runs.step(Runs.ask(m, List.of(img, img), "lvlm-csp:clusterMode=random"), "cluster").kept();
        assertEquals(32, twoRandom.length);
        assertFalse(Arrays.equals(Arrays.copyOfRange(twoRandom, 0, 16),
                Arrays.stream(twoRandom, 16, 32).map(v -> v - 64).toArray()), "each image draws its own representatives");
        assertArrayEquals(CspMath.uniform2d(8, 8, 16),
                Runs.step(Runs.ask(m, List.of(img), "lvlm-csp:clusterMode=uniform-2d"), "cluster").kept());
        GenerationResult mean = Runs.ask(m, List.of(img), "lvlm-csp:keep=0.6,segScore=mean,clusterLayer=1,pruneLayer=3");
        assertArrayEquals(new int[] {1, 2}, IntStream.range(0, 4).filter(l -> mean.visualTokensPerLayer()[l] == 64)
                .toArray());
        GenerationResult low = Runs.ask(m, List.of(img), "lvlm-csp:keep=0.11");
        assertArrayEquals(new int[] {19, 3, 3, 3}, low.visualTokensPerLayer());
        assertEquals(List.of("cluster", "prune"), low.steps().stream().map(StepTrace::name).toList());
        // the identity configuration: no clustering, no pruning
        GenerationResult base = Runs.ask(m, List.of(img), null);
        GenerationResult id = Runs.ask(m, List.of(img), "lvlm-csp:keep=1.0,clusterLayer=0,pruneLayer=4");
        assertArrayEquals(base.firstTokenLogits(), id.firstTokenLogits());
        PruneException e = assertThrows(PruneException.class,
                () -> Runs.ask(m, List.of(img), "lvlm-csp:keep=0.5,clusterLayer=0,pruneLayer=4"));
        assertTrue(e.getMessage().contains("lvlm-csp"), e.getMessage());
        for (String bad : List.of("lvlm-csp:clusterLayer=-1", "lvlm-csp:pruneLayer=0", "lvlm-csp:clusterLayer=3,pruneLayer=2",
                "lvlm-csp:segJoin=2", "lvlm-csp:clusterMode=kmeans", "lvlm-csp:preset=csp80")) {
            PruneException b = assertThrows(PruneException.class, () -> Runs.pruner(bad));
            assertTrue(b.getMessage().contains("lvlm-csp"), b.getMessage());
        }
    }
}
