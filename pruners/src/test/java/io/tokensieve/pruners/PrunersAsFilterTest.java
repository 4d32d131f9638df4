package io.tokensieve.pruners;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.filter.FilterInput;
import io.tokensieve.core.filter.FilterResult;
import io.tokensieve.core.filter.ImageTokens;
import io.tokensieve.core.filter.VisualTokenFilter;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.Need;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.prune.VisionView;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.StepTrace;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import io.tokensieve.core.testing.TestPruners;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The registered pre-LLM pruners through {@link VisualTokenFilter}: on the arrays the runtime computes for an
 * image of the tiny model they decide exactly as inside the runtime; in-LLM methods fail with a clear error.
 */
class PrunersAsFilterTest {
    private static final String Q = "what color is the circle ?";

    /** What the runtime computes for one image before the LLM, as plain arrays. */
    private record Inputs(float[] features, float[] projected, float[] cls, float[] keys, int dv, int d, int hd) {}

    private static VlmModel model;
    private static VisualInput image;
    private static Inputs inputs;

    @BeforeAll
    static void capture(@TempDir Path tmp) {
        model = TestModels.tiny();
        image = model.image(TestModels.rgbPng(tmp, "a.png", 96, 80, 31));
        AtomicReference<Inputs> out = new AtomicReference<>();
        ConfiguredPruner p = TestPruners.of("capture", List.of(PruneStep.of("capture", HookPoint.VISION,
                Need.HIDDEN_STATES, Need.PROJECTOR, Need.VISION_INTERNALS)), List.of(ctx -> {
                    VisionView v = ctx.vision();
                    int layer = v.featureLayer() - 1;
                    float[] cls = VisionZipPruner.clsAttention(v.attention(0, layer)); // [1+n]
                    float[][] keys = VisionZipPruner.headMeanKeys(BaselineMath.rows(v.keys(0, layer)), v.heads());
                    int hd = keys[0].length;
                    float[] k = new float[(keys.length - 1) * hd];
                    for (int t = 1; t < keys.length; t++) { // CLS (row 0) is not a visual token of this model
                        System.arraycopy(keys[t], 0, k, (t - 1) * hd, hd);
                    }
                    NDArray f = ctx.features();
                    NDArray z = ctx.projected();
                    out.set(new Inputs(f.toFloatArray(), z.toFloatArray(), Arrays.copyOfRange(cls, 1, cls.length), k,
                            (int) f.getShape().get(1), (int) z.getShape().get(1), hd));
                    return PruneDecision.keepAll(ctx);
                }), PositionPolicy.KEEP);
        model.generate(List.of(VlmRequest.of(model.promptIds(Q, 1), List.of(image), p)), GenerationConfig.greedy(0));
        inputs = out.get();
    }

    private static StepTrace runtime(String spec) {
        GenerationResult r = model.generate(List.of(VlmRequest.of(model.promptIds(Q, 1), List.of(image),
                PrunerRegistry.defaultRegistry().create(spec))), GenerationConfig.greedy(0)).get(0);
        assertEquals(1, r.steps().size(), spec);
        return r.steps().get(0);
    }

    private static ImageTokens tokens(NDManager m) {
        return ImageTokens.grid(m.create(inputs.projected(), new Shape(64, inputs.d())), 8, 8);
    }

    private static NDArray features(NDManager m) {
        return m.create(inputs.features(), new Shape(64, inputs.dv()));
    }

    private static void assertSameDecision(StepTrace expected, FilterResult r) {
        assertArrayEquals(expected.kept(), r.kept());
        assertArrayEquals(expected.kept(), r.keptPerImage().get(0));
        if (expected.scores() != null) {
            assertArrayEquals(expected.scores(), r.scores(), 1e-5f);
        }
    }

    @Test
    void selectionMethodsNeedNoModelAndDecideAsTheRuntime() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (String spec : List.of("divprune:keep=0.25", "random:keep=0.2,seed=3", "pool:keep=16,merge=none")) {
                FilterResult r = VisualTokenFilter.builder(spec).build().filter(FilterInput.of(tokens(m)));
                assertSameDecision(runtime(spec), r);
                assertTrue(r.merged().isEmpty(), spec);
            }
        }
    }

    @Test
    void poolMergesCellMeansOfTheEmbeddings() {
        try (NDManager m = NDManager.newBaseManager()) {
            FilterResult r = VisualTokenFilter.builder("pool:keep=16").build().filter(FilterInput.of(tokens(m)));
            assertSameDecision(runtime("pool:keep=16"), r);
            assertEquals(16, r.merged().size());
            // 8x8 grid into 16 cells: the anchor of each 2x2 block carries the block's mean
            FilterResult.Merged first = r.merged().get(0);
            int d = inputs.d();
            float[] expect = new float[d];
            for (int p : new int[] {0, 1, 8, 9}) {
                for (int c = 0; c < d; c++) {
                    expect[c] += inputs.projected()[p * d + c] / 4;
                }
            }
            assertEquals(0, first.index());
            assertArrayEquals(expect, first.embedding(), 1e-5f);
            assertEquals(FilterResult.Space.EMBEDDINGS, r.mergedSpace());
        }
    }

    @Test
    void zooWithTheModelsProjectorDecidesAsTheRuntime() {
        String spec = "zoo:keep=0.25,perturbations=8";
        try (NDManager m = NDManager.newBaseManager()) {
            FilterResult r = VisualTokenFilter.builder(spec).optModel(model).build()
                    .filter(FilterInput.of(tokens(m).optFeatures(features(m))));
            assertSameDecision(runtime(spec), r);
            assertEquals(16, r.keptCount());
            PruneException e = assertThrows(PruneException.class, () -> VisualTokenFilter.builder(spec).build()
                    .filter(FilterInput.of(tokens(m))));
            assertTrue(e.getMessage().contains("missing input: features"), e.getMessage());
        }
    }

    @Test
    void visionZipWithSuppliedClsAttentionAndKeysDecidesAsTheRuntime() {
        String spec = "visionzip:keep=0.25";
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray keys = m.create(inputs.keys(), new Shape(64, inputs.hd()));
            ImageTokens img = tokens(m).optFeatures(features(m)).optClsAttention(inputs.cls()).optKeys(keys);
            VisualTokenFilter f = VisualTokenFilter.builder(spec)
                    .optProjector(x -> model.model().multiModalProjector().forward(x)).build();
            FilterResult r = f.filter(FilterInput.of(img));
            assertSameDecision(runtime(spec), r);
            assertEquals(16, r.keptCount());
            assertFalse(r.merged().isEmpty(), "contextual tokens are merged");
            assertEquals(FilterResult.Space.EMBEDDINGS, r.mergedSpace());
            assertEquals(inputs.d(), r.merged().get(0).embedding().length);
            // keys default to the embeddings: same dominant tokens, contextual grouping may differ
            FilterResult byEmbeddings = VisualTokenFilter.builder(spec).build()
                    .filter(FilterInput.of(tokens(m).optClsAttention(inputs.cls())));
            assertEquals(16, byEmbeddings.keptCount());
            assertArrayEquals(r.scores(), byEmbeddings.scores(), 1e-6f);
            PruneException e = assertThrows(PruneException.class, () -> f.filter(FilterInput.of(tokens(m))));
            assertTrue(e.getMessage().contains("missing input: cls_attention"), e.getMessage());
        }
    }

    @Test
    void methodsActingInsideTheLlmSaySo() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (String spec : List.of("dart:keep=0.25", "fastv:layer=2,keep=0.25", "pdrop")) {
                PruneException e = assertThrows(PruneException.class, () -> VisualTokenFilter.builder(spec).optModel(model)
                        .build().filter(FilterInput.of(tokens(m))), spec);
                assertTrue(e.getMessage().contains("needs in-LLM attention")
                        && e.getMessage().contains("must run inside the runtime"), e.getMessage());
            }
        }
    }
}
