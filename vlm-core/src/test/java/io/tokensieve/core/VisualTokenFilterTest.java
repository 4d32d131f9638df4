package io.tokensieve.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.filter.FilterInput;
import io.tokensieve.core.filter.FilterResult;
import io.tokensieve.core.filter.ImageTokens;
import io.tokensieve.core.filter.VisualTokenFilter;
import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.Need;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.TokenOrigin;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import io.tokensieve.core.testing.TestPruners;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The filter entry point: decisions on supplied arrays, equality with the runtime, errors, ownership. */
class VisualTokenFilterTest {
    @TempDir
    Path tmp;

    private static ConfiguredPruner oneStep(PruneStep step, Function<PruneContext, PruneDecision> decide, Budget budget) {
        return TestPruners.of("hand", List.of(step), List.of(decide), PositionPolicy.KEEP, BudgetConvention.ENTERING_LLM,
                budget);
    }

    private static float[][] rows(NDArray a) {
        int n = (int) a.getShape().get(0);
        int d = (int) a.getShape().get(1);
        float[] flat = a.toFloatArray();
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            out[i] = Arrays.copyOfRange(flat, i * d, (i + 1) * d);
        }
        return out;
    }

    private static NDArray sequential(NDManager m, int n, int d, float offset) {
        float[] v = new float[n * d];
        for (int i = 0; i < v.length; i++) {
            v[i] = offset + i * 0.5f + (i % 3);
        }
        return m.create(v, new Shape(n, d));
    }

    @Test
    void keptIndicesArePerRequestAndPerImageWithScoresAndMergedRows() {
        List<String> seen = new ArrayList<>();
        ConfiguredPruner p = oneStep(PruneStep.of("pick", HookPoint.PROJECTED, Need.HIDDEN_STATES), ctx -> {
            TokenOrigin o = ctx.origin(7);
            seen.add(ctx.images().size() + " " + o.image() + "," + o.row() + "," + o.col() + " "
                    + ctx.sequence().size() + " " + ctx.live().length);
            float[][] h = rows(ctx.hidden()); // [10, 4]
            float[] mean = new float[4];
            for (int r = 1; r <= 3; r++) {
                for (int c = 0; c < 4; c++) {
                    mean[c] += h[r][c] / 3;
                }
            }
            float[] scores = new float[10];
            for (int i = 0; i < 10; i++) {
                scores[i] = i * 0.1f;
            }
            return PruneDecision.keep(new int[] {0, 2, 5, 6, 9}).withScores(scores)
                    .withReplacements(new int[] {2}, ctx.manager().create(mean, new Shape(1, 4)));
        }, new Budget(5, false, Budget.Scope.REQUEST));
        VisualTokenFilter f = VisualTokenFilter.builder(p).build();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = sequential(m, 6, 4, 0);
            NDArray b = sequential(m, 4, 4, 100);
            NDArray text = sequential(m, 3, 4, -5);
            FilterResult r = f.filter(FilterInput.of(ImageTokens.grid(a, 2, 3), ImageTokens.grid(b, 2, 2))
                    .optTextEmbeddings(text));
            assertEquals(List.of("2 1,0,1 13 10"), seen);
            assertEquals(10, r.visualTokens());
            assertArrayEquals(new int[] {0, 2, 5, 6, 9}, r.kept());
            assertArrayEquals(new int[] {0, 2, 5}, r.keptPerImage().get(0));
            assertArrayEquals(new int[] {0, 3}, r.keptPerImage().get(1));
            assertEquals(0.9f, r.scores()[9], 1e-6);
            assertEquals(1, r.merged().size());
            assertEquals(2, r.merged().get(0).index());
            float[][] ar = rows(a);
            float[] expect = new float[4];
            for (int c = 0; c < 4; c++) {
                expect[c] = (ar[1][c] + ar[2][c] + ar[3][c]) / 3;
            }
            assertArrayEquals(expect, r.merged().get(0).embedding(), 1e-5f);
            assertEquals(FilterResult.Space.EMBEDDINGS, r.mergedSpace());
            assertEquals(1, r.steps().size());
            assertEquals("PROJECTED", r.steps().get(0).hook());
        }
    }

    @Test
    void visionStepsActOnFeaturesAndMergedRowsGoThroughTheProjector() {
        ConfiguredPruner p = oneStep(PruneStep.of("merge", HookPoint.VISION, Need.HIDDEN_STATES), ctx -> {
            NDArray h = ctx.hidden(); // [6, 3] features
            NDArray mean = h.get("0:3").mean(new int[] {0}, true); // [1, 3]
            return PruneDecision.keep(new int[] {0, 4}).withReplacements(new int[] {0}, mean);
        }, new Budget(2, false, Budget.Scope.IMAGE));
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray feats = sequential(m, 6, 3, 1);
            NDArray w = sequential(m, 3, 4, -2).div(10);
            NDArray emb = feats.matMul(w); // [6, 4]
            ImageTokens img = ImageTokens.grid(emb, 2, 3).optFeatures(feats);

            FilterResult projected = VisualTokenFilter.builder(p).optProjector(x -> x.matMul(w)).build()
                    .filter(FilterInput.of(img));
            assertArrayEquals(new int[] {0, 4}, projected.kept());
            assertEquals(FilterResult.Space.EMBEDDINGS, projected.mergedSpace());
            float[] expect = feats.get("0:3").mean(new int[] {0}, true).matMul(w).toFloatArray();
            assertArrayEquals(expect, projected.merged().get(0).embedding(), 1e-4f);

            FilterResult raw = VisualTokenFilter.builder(p).build().filter(FilterInput.of(img));
            assertEquals(FilterResult.Space.FEATURES, raw.mergedSpace());
            assertArrayEquals(feats.get("0:3").mean(new int[] {0}).toFloatArray(), raw.merged().get(0).embedding(), 1e-5f);
        }
    }

    /** What the runtime's pre-LLM context holds for one image: projector inputs, projections, text embeddings. */
    private record Captured(float[] features, float[] projected, float[] text, int dv, int d, int textTokens) {
        NDArray features(NDManager m) {
            return m.create(features, new Shape(features.length / dv, dv));
        }

        NDArray projected(NDManager m) {
            return m.create(projected, new Shape(projected.length / d, d));
        }
    }

    private static Captured capture(VlmModel m, VisualInput img, String q) {
        AtomicReference<Captured> out = new AtomicReference<>();
        ConfiguredPruner p = TestPruners.of("capture", List.of(PruneStep.of("capture", HookPoint.PROJECTED,
                Need.HIDDEN_STATES, Need.PROJECTOR, Need.TEXT_EMBEDDINGS)), List.of(ctx -> {
                    NDArray t = ctx.textEmbeddings();
                    out.set(new Captured(ctx.features().toFloatArray(), ctx.hidden().toFloatArray(), t.toFloatArray(),
                            (int) ctx.features().getShape().get(1), (int) ctx.hidden().getShape().get(1),
                            (int) t.getShape().get(0)));
                    return PruneDecision.keepAll(ctx);
                }), PositionPolicy.KEEP);
        m.generate(List.of(VlmRequest.of(m.promptIds(q, 1), List.of(img), p)), GenerationConfig.greedy(0));
        return out.get();
    }

    /** Keeps the tokens whose embedding agrees most with the mean text embedding, plus seeded noise. */
    private static PruneDecision textAndNoise(PruneContext ctx, int k) {
        float[][] h = rows(ctx.hidden());
        float[][] t = rows(ctx.textEmbeddings());
        Random rng = ctx.random();
        float[] scores = new float[h.length];
        Integer[] order = new Integer[h.length];
        for (int i = 0; i < h.length; i++) {
            double s = 0;
            for (float[] row : t) {
                for (int c = 0; c < row.length; c++) {
                    s += row[c] * h[i][c];
                }
            }
            scores[i] = (float) (s / t.length + rng.nextGaussian() * 1e-3);
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> Float.compare(scores[y], scores[x]));
        int[] kept = Arrays.stream(order).limit(k).mapToInt(Integer::intValue).sorted().toArray();
        return PruneDecision.keep(kept).withScores(scores);
    }

    @Test
    void decisionsEqualTheRuntimesForTheSameEmbeddingsTextAndSeed() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 90, 70, 21));
        String q = "what color is the square ?";
        Captured c = capture(m, img, q);
        assertEquals(64, c.projected().length / c.d());
        PruneStep step = PruneStep.of("text", HookPoint.PROJECTED, Need.HIDDEN_STATES, Need.TEXT_EMBEDDINGS);
        ConfiguredPruner p = new ConfiguredPruner("hand", "hand", oneStep(step, ctx -> textAndNoise(ctx, 11),
                new Budget(11, false, Budget.Scope.IMAGE)).pruner(), new Budget(11, false, Budget.Scope.IMAGE),
                PositionPolicy.KEEP, 5, java.util.Map.of());
        GenerationResult run = m.generate(List.of(VlmRequest.of(m.promptIds(q, 1), List.of(img), p)),
                GenerationConfig.greedy(0)).get(0);
        try (NDManager mgr = NDManager.newBaseManager()) {
            ImageTokens tokens = ImageTokens.grid(c.projected(mgr), 8, 8);
            FilterResult byQuestion = VisualTokenFilter.builder(p).optModel(m).build()
                    .filter(FilterInput.of(tokens).optQuestion(q));
            NDArray text = mgr.create(c.text(), new Shape(c.textTokens(), c.d()));
            FilterResult byText = VisualTokenFilter.builder(p).build().filter(FilterInput.of(tokens).optTextEmbeddings(text));
            assertEquals(11, run.steps().get(0).kept().length);
            assertArrayEquals(run.steps().get(0).kept(), byQuestion.kept());
            assertArrayEquals(run.steps().get(0).scores(), byQuestion.scores(), 1e-5f);
            assertArrayEquals(run.steps().get(0).kept(), byText.kept());
        }
    }

    @Test
    void stepsInsideTheLlmFailWithAClearError() {
        ConfiguredPruner p = oneStep(PruneStep.of("rank", HookPoint.beforeLayer(2), Need.ATTENTION),
                PruneDecision::keepAll, Budget.ALL);
        try (NDManager m = NDManager.newBaseManager()) {
            PruneException e = assertThrows(PruneException.class, () -> VisualTokenFilter.builder(p).build()
                    .filter(FilterInput.of(ImageTokens.grid(sequential(m, 4, 2, 0), 2, 2))));
            assertTrue(e.getMessage().contains("needs in-LLM attention") && e.getMessage().contains("ATTENTION")
                    && e.getMessage().contains("inside the runtime"), e.getMessage());
        }
    }

    @Test
    void missingInputsAreNamed() {
        try (NDManager m = NDManager.newBaseManager()) {
            ImageTokens img = ImageTokens.grid(sequential(m, 4, 2, 0), 2, 2);
            Function<Need, VisualTokenFilter> needing = need -> VisualTokenFilter.builder(
                    oneStep(PruneStep.of("s", HookPoint.PROJECTED, need), PruneDecision::keepAll, Budget.ALL)).build();
            assertMessage(() -> needing.apply(Need.PROJECTOR).filter(FilterInput.of(img)), "missing input: features");
            ImageTokens withFeatures = img.optFeatures(sequential(m, 4, 3, 0));
            assertMessage(() -> needing.apply(Need.PROJECTOR).filter(FilterInput.of(withFeatures)),
                    "missing input: a projector");
            assertMessage(() -> needing.apply(Need.TEXT_EMBEDDINGS).filter(FilterInput.of(img)),
                    "missing input: text_embeddings");
            assertMessage(() -> needing.apply(Need.FINAL_NORM).filter(FilterInput.of(img)), "missing input: a model");
            VisualTokenFilter cls = VisualTokenFilter.builder(oneStep(PruneStep.of("s", HookPoint.VISION,
                    Need.VISION_INTERNALS), PruneDecision::keepAll, Budget.ALL)).build();
            assertMessage(() -> cls.filter(FilterInput.of(img)), "image 0 has none (missing input: cls_attention");
            assertMessage(() -> needing.apply(Need.HIDDEN_STATES).filter(FilterInput.of(img).optQuestion("why?")),
                    "a question needs a model");
        }
    }

    @Test
    void badShapesValuesAndBudgetsFailWithTheirReason() {
        VisualTokenFilter f = VisualTokenFilter.builder(oneStep(PruneStep.of("s", HookPoint.PROJECTED),
                PruneDecision::keepAll, Budget.ALL)).build();
        VisualTokenFilter tooMany = VisualTokenFilter.builder(oneStep(PruneStep.of("s", HookPoint.PROJECTED),
                PruneDecision::keepAll, new Budget(9, false, Budget.Scope.IMAGE))).build();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray e = sequential(m, 6, 2, 0);
            assertMessage(() -> f.filter(FilterInput.of(ImageTokens.grid(e, 2, 2))), "grid 2x2 holds 4 tokens but the embeddings have 6 rows");
            assertMessage(() -> f.filter(FilterInput.of(ImageTokens.grid(m.create(new float[] {1, 2}), 1, 2))), "must be a 2-D array");
            NDArray nan = m.create(new float[] {1, Float.NaN, 3, 4}, new Shape(2, 2));
            assertMessage(() -> f.filter(FilterInput.of(ImageTokens.grid(nan, 1, 2))), "image 0 embeddings contain NaN");
            NDArray inf = m.create(new float[] {1, Float.POSITIVE_INFINITY, 3, 4}, new Shape(2, 2));
            assertMessage(() -> f.filter(FilterInput.of(ImageTokens.grid(inf, 1, 2))), "contain infinite values");
            assertMessage(() -> f.filter(FilterInput.of(ImageTokens.grid(e, 2, 3), ImageTokens.grid(sequential(m, 4, 3, 0), 2, 2))),
                    "image 1 embeddings are 3 wide but image 0's are 2");
            assertMessage(() -> f.filter(FilterInput.of(ImageTokens.grid(e, 2, 3).optFeatures(sequential(m, 5, 3, 0)))),
                    "image 0 features have 5 rows for 6 tokens");
            assertMessage(() -> f.filter(FilterInput.of(ImageTokens.grid(e, 2, 3).optClsAttention(new float[5]))),
                    "cls attention has 5 values for 6 tokens");
            assertMessage(() -> f.filter(FilterInput.of(ImageTokens.xyz(e, new float[4][3]))), "4 xyz origins for 6 tokens");
            assertMessage(() -> f.filter(FilterInput.of()), "no images");
            assertMessage(() -> tooMany.filter(FilterInput.of(ImageTokens.grid(e, 2, 3))), "above the 6 visual tokens");
            assertMessage(() -> VisualTokenFilter.builder("nosuch:keep=0.5").build(), "unknown pruner 'nosuch'");
        }
    }

    @Test
    void concurrentCallsAgreeAndLeaveNothingInTheCallersManager() throws Exception {
        ConfiguredPruner p = oneStep(PruneStep.of("s", HookPoint.PROJECTED, Need.HIDDEN_STATES), ctx -> {
            float[][] h = rows(ctx.hidden());
            float[] s = new float[h.length];
            for (int i = 0; i < h.length; i++) {
                s[i] = (float) Math.abs(Math.sin(h[i][0] * 7 + h[i][1]));
            }
            int[] kept = java.util.stream.IntStream.range(0, h.length).boxed()
                    .sorted((x, y) -> Float.compare(s[y], s[x])).limit(5).mapToInt(Integer::intValue).sorted().toArray();
            return PruneDecision.keep(kept).withScores(s);
        }, new Budget(5, false, Budget.Scope.IMAGE));
        VisualTokenFilter f = VisualTokenFilter.builder(p).build();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray e = sequential(m, 16, 2, 3);
            FilterInput in = FilterInput.of(ImageTokens.grid(e, 4, 4));
            int before = m.getManagedArrays().size();
            int[] expect = f.filter(in).kept();
            List<Future<int[]>> futures = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                futures.add(pool.submit(() -> f.filter(in).kept()));
            }
            for (Future<int[]> fu : futures) {
                assertArrayEquals(expect, fu.get());
            }
            assertEquals(before, m.getManagedArrays().size(), "the filter must not attach arrays to the caller's manager");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void keepingEverythingWithoutStepsReturnsEveryToken() {
        ConfiguredPruner none = TestPruners.of("none", List.of(), List.of(), PositionPolicy.KEEP);
        try (NDManager m = NDManager.newBaseManager()) {
            FilterResult r = VisualTokenFilter.builder(none).build()
                    .filter(FilterInput.of(ImageTokens.grid(sequential(m, 4, 2, 0), 2, 2)));
            assertArrayEquals(new int[] {0, 1, 2, 3}, r.kept());
            assertNull(r.scores());
            assertTrue(r.merged().isEmpty());
        }
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String part) {
        RuntimeException e = assertThrows(RuntimeException.class, call);
        assertTrue(e instanceof IllegalArgumentException || e instanceof PruneException, e.toString());
        assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
    }
}
