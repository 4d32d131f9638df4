package io.tokensieve.pruners;

import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.SequenceLayout;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.StepTrace;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CATP: the CPU-testable properties of catp.md section 9 and its treatment of demos vs the query. */
class CatpTest {
    @TempDir
    Path tmp;

    // ---------------------------------------------------------------- stage 1 (spec 9.1-9.7)

    @Test
    void stage1SizesAndIdentityAtRZero() {
        Random r = new Random(1);
        for (double removed : new double[] {0, 0.667, 0.778, 0.889}) {
            for (int s : new int[] {1, 5, 64, 576}) {
                int k1 = CatpMath.stage1Keep(s, 0, removed);
                assertEquals(Math.min(s, (int) Math.floor(s * (1 - removed / 2) + 1e-9)), k1);
            }
        }
        assertEquals(40, CatpMath.stage1Keep(64, 16, 0.75));
        assertEquals(64, CatpMath.stage1Keep(64, 64, 0));
        assertEquals(10, CatpMath.stage1Keep(10, 10, 0.9)); // never below the final target
        float[][] x = ZooTest.randomRows(r, 20, 6);
        double[][] w = CatpMath.similarity(x);
        double[] a = CatpMath.alignment(x, ZooTest.randomRows(r, 1, 6)[0]);
        for (int k = 0; k <= 22; k++) {
            int[] sel = CatpMath.facilityLocation(w, a, k, 0.7).selected();
            assertEquals(Math.min(k, 20), sel.length);
            assertEquals(sel.length, Arrays.stream(sel).distinct().count());
            for (int i = 1; i < sel.length; i++) {
                assertTrue(sel[i] > sel[i - 1]);
            }
        }
        assertArrayEquals(IntStream.range(0, 20).toArray(), CatpMath.facilityLocation(w, a, 20, 0.7).selected());
    }

    @Test
    void greedyGainsAreNonIncreasingAndWithinOneMinusOneOverEOfTheOptimum() {
        Random r = new Random(2);
        double bound = 1 - 1 / Math.E;
        for (int trial = 0; trial < 60; trial++) {
            int n = 3 + r.nextInt(10);
            int k = 1 + r.nextInt(Math.min(5, n));
            float[][] x = ZooTest.randomRows(r, n, 2 + r.nextInt(4));
            double[][] w = CatpMath.similarity(x);
            double[] a = CatpMath.alignment(x, ZooTest.randomRows(r, 1, x[0].length)[0]);
            double l1 = r.nextDouble() * 2;
            CatpMath.Greedy g = CatpMath.facilityLocation(w, a, k, l1);
            for (int t = 1; t < k; t++) {
                assertTrue(g.gains()[t - 1] >= g.gains()[t] - 1e-6, "trial " + trial);
            }
            double greedy = CatpMath.objective(w, a, g.order(), l1);
            double best = bruteForce(w, a, k, l1);
            assertTrue(greedy >= bound * best - 1e-6, "trial " + trial + ": " + greedy + " vs optimum " + best);
            assertEquals(Arrays.stream(g.gains()).sum(), greedy, 1e-9);
        }
    }

    private static double bruteForce(double[][] w, double[] a, int k, double l1) {
        int n = w.length;
        double best = 0;
        for (int mask = 0; mask < (1 << n); mask++) {
            if (Integer.bitCount(mask) != k) {
                continue;
            }
            int m = mask;
            int[] set = IntStream.range(0, n).filter(i -> (m >> i & 1) == 1).toArray();
            best = Math.max(best, CatpMath.objective(w, a, set, l1));
        }
        return best;
    }

    @Test
    void lambda1Limits() {
        Random r = new Random(3);
        float[][] x = ZooTest.randomRows(r, 15, 5);
        float[] v = ZooTest.randomRows(r, 1, 5)[0];
        double[][] w = CatpMath.similarity(x);
        double[] a = CatpMath.alignment(x, v);
        assertArrayEquals(CspMath.topK(a, 6), CatpMath.facilityLocation(w, a, 6, 1e6).selected());
        // pure facility location: with duplicated embeddings the first pick is the lowest index of the biggest group
        float[] p = {1, 0, 0};
        float[] q = {0, 1, 0};
        float[] o = {0, 0, 1};
        float[][] dup = {q, p, o, p, q, p, o};
        double[][] wd = CatpMath.similarity(dup);
        int first = CatpMath.facilityLocation(wd, CatpMath.alignment(dup, null), 3, 0).order()[0];
        assertEquals(1, first);
        assertArrayEquals(new double[7], CatpMath.alignment(dup, null));
    }

    @Test
    void scalingAndPermutationInvariance() {
        Random r = new Random(4);
        float[][] x = ZooTest.randomRows(r, 14, 5);
        float[] v = ZooTest.randomRows(r, 1, 5)[0];
        int[] base = CatpMath.facilityLocation(CatpMath.similarity(x), CatpMath.alignment(x, v), 6, 0.7).selected();
        float[][] xs = new float[14][];
        for (int i = 0; i < 14; i++) {
            xs[i] = x[i].clone();
            for (int k = 0; k < 5; k++) {
                xs[i][k] *= 0.5f + i;
            }
        }
        float[] vs = v.clone();
        for (int k = 0; k < 5; k++) {
            vs[k] *= 7;
        }
        assertArrayEquals(base, CatpMath.facilityLocation(CatpMath.similarity(xs), CatpMath.alignment(xs, vs), 6, 0.7)
                .selected());
        int[] perm = {3, 13, 0, 7, 1, 12, 5, 9, 2, 11, 4, 10, 6, 8};
        float[][] xp = new float[14][];
        for (int i = 0; i < 14; i++) {
            xp[i] = x[perm[i]];
        }
        int[] permuted = CatpMath.facilityLocation(CatpMath.similarity(xp), CatpMath.alignment(xp, v), 6, 0.7).selected();
        int[] mapped = Arrays.stream(permuted).map(i -> perm[i]).sorted().toArray();
        assertArrayEquals(base, mapped);
    }

    // ---------------------------------------------------------------- stage 2 scores (spec 9.10-9.11)

    @Test
    void contextScores() {
        double[] cos = {0.3, -0.2, 0.9, 0.1};
        double[] same = {0.1, 0.2, 0.3, 0.4};
        double[] s = CatpMath.contextScores(same, same, cos, 0.6, false);
        assertArrayEquals(CspMath.topK(cos, 2), CspMath.topK(s, 2));
        double[] k = {0.5, 0.1, 0.0, 0.9};
        double[] km1 = {0.1, 0.3, 0.0, 0.2};
        double[] s2 = CatpMath.contextScores(k, km1, cos, 0.6, false);
        assertArrayEquals(new double[] {0.4 + 0.18, 0 - 0.12, 0 + 0.54, 0.7 + 0.06}, s2, 1e-12); // growth >= 0
        assertArrayEquals(CspMath.topK(cos, 2), CspMath.topK(CatpMath.contextScores(k, km1, cos, 1e6, false), 2));
        double[] norm = CatpMath.contextScores(k, km1, cos, 1, true);
        assertEquals(0.4 / 0.7 + (0.3 + 0.2) / 1.1, norm[0], 1e-12);
        assertArrayEquals(new int[] {0, 3}, CatpMath.topKWithFloor(new double[] {5, 1, 2, 4}, new int[] {0, 0, 1, 1}, 2, 0));
        assertArrayEquals(new int[] {0, 2}, CatpMath.topKWithFloor(new double[] {5, 4, 2, 1}, new int[] {0, 0, 1, 1}, 2, 1));
    }

    @Test
    void avgRelReproducesThePapersRows() {
        double[] vanilla7b = {56.7, 40.2, 47.6, 65.7, 66.8, 37.5, 34.2, 26.8};
        double[] catp7b = {56.8, 40.0, 47.8, 65.9, 66.7, 37.2, 34.4, 27.0};
        assertEquals(100.1, CatpMath.avgRel(catp7b, vanilla7b), 0.05);
        double[] vanillaIvl = {66.3, 55.7, 60.2, 70.9, 73.2, 57.4, 64.9, 41.5};
        double[] catpIvl = {66.0, 56.0, 60.4, 80.3, 73.7, 57.9, 64.5, 41.7};
        assertEquals(101.9, CatpMath.avgRel(catpIvl, vanillaIvl), 0.05);
    }

    // ---------------------------------------------------------------- schedule and layout

    @Test
    void layerKMapsByDepthAndStaysValid() {
        assertEquals(1, CatpPruner.layerK(4, true, -1));
        assertEquals(2, CatpPruner.layerK(8, true, -1));
        assertEquals(6, CatpPruner.layerK(32, true, -1));
        assertEquals(10, CatpPruner.layerK(40, true, 10));
        assertEquals(2, CatpPruner.layerK(4, false, 2));
        assertThrows(PruneException.class, () -> CatpPruner.layerK(4, true, 2));
        assertThrows(PruneException.class, () -> CatpPruner.layerK(3, true, -1));
        ModelShape eight = new ModelShape(8, 8, 2, 32, 256, 512, 4, 128, 4, 4, 64);
        List<ImageSpan> three = List.of(span(0, 0, 1), span(1, 64, 66), span(2, 128, 131));
        List<PruneStep> steps = Runs.pruner("catp").pruner().schedule(eight, three,
                new Budget(0.25, true, Budget.Scope.IMAGE).resolve(new int[] {64, 64, 64}));
        assertEquals(List.of(HookPoint.PROJECTED, HookPoint.beforeLayer(3), HookPoint.beforeLayer(4)),
                steps.stream().map(PruneStep::hook).toList());
        assertEquals(List.of(1, 2), steps.get(1).attentionLayers());
        assertTrue(Runs.pruner("catp").pruner().schedule(eight, three,
                Budget.ALL.resolve(new int[] {64, 64, 64})).isEmpty());
        assertEquals(2, Runs.pruner("catp").pruner().schedule(eight, List.of(span(0, 0, 1)),
                new Budget(0.25, true, Budget.Scope.IMAGE).resolve(new int[] {64})).size());
    }

    private static ImageSpan span(int image, int first, int seqStart) {
        return new ImageSpan(image, first, 64, 8, 8, seqStart, false);
    }

    @Test
    void pairedTextIsTheTextUpToTheNextImageMinusTemplateIds() {
        VlmModel m = TestModels.tiny();
        long[] ids = m.promptIdsForContent("<image>\nquestion : what color ?\nanswer : red\n\n<image>\nquestion : "
                + "which shape ?");
        long q = m.tokenizer().tokenId("question");
        long colon = m.tokenizer().tokenId(":");
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 60, 60, 5));
        List<SequenceLayout> seen = new ArrayList<>();
        List<List<ImageSpan>> spans = new ArrayList<>();
        m.generate(List.of(VlmRequest.of(ids, List.of(img, img), Runs.watched("catp:keep=0.5", (ctx, d) -> {
            seen.add(ctx.prompt());
            spans.add(ctx.images());
        }))), GenerationConfig.greedy(1));
        SequenceLayout prompt = seen.get(0);
        CatpPruner.Segments all = CatpPruner.Segments.of(prompt, spans.get(0), Set.of());
        CatpPruner.Segments trimmed = CatpPruner.Segments.of(prompt, spans.get(0), Set.of(q, colon));
        // "question : what color ? answer : red" after image 0; "question : which shape ? assistant :" after image 1
        assertEquals(8, all.text(0).length);
        assertEquals(spans.get(0).get(0).sequenceStart() + 64, all.text(0)[0]);
        assertEquals(spans.get(0).get(1).sequenceStart() - 1, all.text(0)[7]);
        assertEquals(prompt.size() - 1, all.text(1)[all.text(1).length - 1]);
        assertEquals(5, trimmed.text(0).length); // what color ? answer red
        assertEquals(all.text(1).length - 3, trimmed.text(1).length);
        for (int seq : all.text(0)) {
            assertFalse(prompt.isVisual(seq));
        }
    }

    // ---------------------------------------------------------------- on the tiny model (spec 9.8-9.9, 9.12)

    @Test
    void demosArePrunedJointlyAtKPlusOneAndTheQueryAtKPlusTwo() {
        VlmModel m = TestModels.tiny();
        List<VisualInput> imgs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            imgs.add(m.image(TestModels.rgbPng(tmp, "i" + i + ".png", 90, 90, 10 + i)));
        }
        GenerationResult base = Runs.ask(m, imgs, null);
        GenerationResult r = Runs.ask(m, imgs, "catp:keep=0.25");
        int text = base.promptTokens() - base.visualTokens();
        // stage 1 keeps floor(64 (1 - 0.75/2)) = 40 per image; context pruned to 2 x 16 = 32 entering layer 2
        // (K = 1: "after layer K"); the query from 40 to 16 entering layer 3
        assertArrayEquals(new int[] {120, 120, 72, 48}, r.visualTokensPerLayer());
        for (int l = 0; l < 4; l++) {
            assertEquals(text, r.tokensPerLayer()[l] - r.visualTokensPerLayer()[l], "text kept in layer " + l);
        }
        assertEquals(List.of("stage1", "stage2-context", "stage2-query"), r.steps().stream().map(StepTrace::name).toList());
        StepTrace s1 = r.steps().get(0);
        for (int img = 0; img < 3; img++) {
            int i0 = img;
            assertEquals(40, Arrays.stream(s1.kept()).filter(v -> v / 64 == i0).count());
        }
        StepTrace ctx = r.steps().get(1);
        assertEquals("BEFORE_LAYER(2)", ctx.hook());
        assertEquals(32, Arrays.stream(ctx.kept()).filter(v -> v < 128).count());
        int[] queryBefore = Arrays.stream(s1.kept()).filter(v -> v >= 128).toArray();
        assertArrayEquals(queryBefore, Arrays.stream(ctx.kept()).filter(v -> v >= 128).toArray(), "query untouched at K+1");
        // joint ranking over both demos: every kept context token outscores every dropped one, and no query token is scored
        float minKept = Float.MAX_VALUE;
        float maxDropped = -Float.MAX_VALUE;
        int[] before = Arrays.stream(s1.kept()).filter(v -> v < 128).toArray();
        for (int v : before) {
            boolean kept = Arrays.binarySearch(ctx.kept(), v) >= 0;
            if (kept) {
                minKept = Math.min(minKept, ctx.scores()[v]);
            } else {
                maxDropped = Math.max(maxDropped, ctx.scores()[v]);
            }
        }
        assertTrue(minKept >= maxDropped);
        assertTrue(Arrays.stream(queryBefore).allMatch(v -> Float.isNaN(ctx.scores()[v])));
        long demo0 = Arrays.stream(ctx.kept()).filter(v -> v < 64).count();
        // per-demo counts are free, only their sum is fixed: here the demos keep 2 and 30, not 16 each
        assertEquals(2, demo0);
        StepTrace q = r.steps().get(2);
        assertEquals("BEFORE_LAYER(3)", q.hook());
        assertArrayEquals(Arrays.stream(ctx.kept()).filter(v -> v < 128).toArray(),
                Arrays.stream(q.kept()).filter(v -> v < 128).toArray(), "context untouched at K+2");
        assertEquals(16, Arrays.stream(q.kept()).filter(v -> v >= 128).count());
        assertTrue(Arrays.stream(ctx.kept()).filter(v -> v < 128).allMatch(v -> Float.isNaN(q.scores()[v])));
        // the same tokens with the query first: each image is treated by its role, not its pixels
        List<VisualInput> swapped = List.of(imgs.get(2), imgs.get(1), imgs.get(0));
        GenerationResult rs = Runs.ask(m, swapped, "catp:keep=0.25");
        assertArrayEquals(new int[] {120, 120, 72, 48}, rs.visualTokensPerLayer());
        assertEquals(16, Arrays.stream(rs.steps().get(2).kept()).filter(v -> v >= 128).count());
    }

    @Test
    void singleImageIsPrunedAtKPlusOneWithTheQueryScore() {
        VlmModel m = TestModels.tiny();
        VisualInput a = m.image(TestModels.rgbPng(tmp, "a.png", 90, 90, 20));
        GenerationResult r = Runs.ask(m, List.of(a), "catp:keep=0.25");
        assertArrayEquals(new int[] {40, 40, 16, 16}, r.visualTokensPerLayer());
        assertEquals(List.of("stage1", "stage2-query"), r.steps().stream().map(StepTrace::name).toList());
        GenerationResult small = Runs.ask(m, List.of(a), "catp:keep=1");
        assertArrayEquals(new int[] {32, 32, 1, 1}, small.visualTokensPerLayer());
        GenerationResult other = Runs.ask(m, List.of(a), "catp:keep=0.25,lambda2=100,lastToken=question");
        assertEquals(16, other.visualTokensPerLayer()[3]);
    }

    @Test
    void scopeRequestAndParameterChecks() {
        VlmModel m = TestModels.tiny();
        VisualInput a = m.image(TestModels.rgbPng(tmp, "a.png", 80, 80, 30));
        VisualInput b = m.image(TestModels.rgbPng(tmp, "b.png", 80, 80, 31));
        GenerationResult r = Runs.ask(m, List.of(a, b), "catp:keep=20,scope=request,minKeepPerImage=3");
        assertEquals(20, r.visualTokensPerLayer()[3]);
        assertTrue(Arrays.stream(r.steps().get(1).kept()).filter(v -> v < 64).count() >= 3);
        GenerationResult pool = Runs.ask(m, List.of(a, b), "catp:keep=0.25,contextPool=images,normalizeStage2Terms=true");
        assertEquals(32, pool.visualTokensPerLayer()[3]);
        for (String bad : List.of("catp:layer=0", "catp:lambda1=-1", "catp:minKeepPerImage=-2", "catp:templateIds=a",
                "catp:lastToken=first")) {
            PruneException e = assertThrows(PruneException.class, () -> Runs.pruner(bad));
            assertTrue(e.getMessage().contains("catp"), e.getMessage());
        }
        PruneException e = assertThrows(PruneException.class, () -> Runs.ask(m, List.of(a, b), "catp:layer=2,keep=0.5"));
        assertTrue(e.getMessage().contains("layer=2"), e.getMessage());
        Runs.pruner("catp:layer=auto,templateIds=3/4");
        Runs.pruner("catp:layer=auto,templateIds=none");
    }
}
