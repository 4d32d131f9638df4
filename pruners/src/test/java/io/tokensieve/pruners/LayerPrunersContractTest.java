package io.tokensieve.pruners;

import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.StepTrace;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generic pruner contract, checked for the four layer-wise pruners: sorted unique in-range kept sets,
 * the layer-average budget met within one token, text never dropped, same seed same decision, a batch
 * decides like single requests, keep=1.0 bit-identical to the unpruned model; one image, several images
 * and multi-view views on the 4-layer test models and on an 8-layer one (the depth of sieve-tiny).
 */
class LayerPrunersContractTest {
    private static final String Q = "what is left of the red circle ?";

    @TempDir
    static Path shared;
    static VlmModel eight;
    static List<VisualInput> one;
    static List<VisualInput> two;
    static List<VisualInput> views;
    static List<VisualInput> eightViews;
    static GenerationResult[] bases;

    @BeforeAll
    static void inputs() throws Exception {
        VlmModel tiny = TestModels.tiny();
        VlmModel extras = TestModels.extras();
        eight = LayerRuns.eightLayers(shared.resolve("eight"));
        assertEquals(8, eight.shape().layers());
        one = List.of(LayerRuns.image(tiny, shared, 1));
        two = List.of(LayerRuns.image(tiny, shared, 2), LayerRuns.image(tiny, shared, 3));
        views = LayerRuns.views(extras, shared, 3);
        eightViews = LayerRuns.views(eight, shared, 3);
        bases = new GenerationResult[] {LayerRuns.run(tiny, one, null, 1), LayerRuns.run(tiny, two, null, 1),
            LayerRuns.run(extras, views, null, 1), LayerRuns.run(eight, eightViews, null, 1)};
    }

    @AfterAll
    static void close() {
        eight.close();
    }

    private static void checkRun(GenerationResult r, double target, String what) {
        assertEquals(target, r.equivalentAverageTokens(), 1.0 + 1e-9, what + ": layer average "
                + Arrays.toString(r.visualTokensPerLayer()));
        int text = r.promptTokens() - r.visualTokens();
        for (int t : LayerRuns.textPerLayer(r)) {
            assertEquals(text, t, what + ": text tokens dropped");
        }
        for (StepTrace s : r.steps()) {
            int[] k = s.kept();
            for (int i = 0; i < k.length; i++) {
                assertTrue(k[i] >= 0 && k[i] < r.visualTokens(), what + ": index out of range");
                assertTrue(i == 0 || k[i] > k[i - 1], what + ": kept not sorted unique");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"adaptinfer", "adatoken3d", "pdrop", "sparsevlm"})
    void contractOnOneImageSeveralImagesAndViews(String id) {
        VlmModel[] models = {TestModels.tiny(), TestModels.tiny(), TestModels.extras(), eight};
        List<List<VisualInput>> inputs = List.of(one, two, views, eightViews);
        String[] labels = {"one image", "two images", "three views", "three views, 8 layers"};
        GenerationResult[] quarter = new GenerationResult[4];
        for (int i = 0; i < 4; i++) {
            String what = id + " " + labels[i];
            GenerationResult all = LayerRuns.run(models[i], inputs.get(i), id + ":keep=1.0", 1);
            assertArrayEquals(bases[i].firstTokenLogits(), all.firstTokenLogits(), what + ": keep=1.0 changed the logits");
            assertArrayEquals(bases[i].outputIds(), all.outputIds());
            quarter[i] = LayerRuns.run(models[i], inputs.get(i), id + ":keep=0.25,seed=3", 1);
            checkRun(quarter[i], 16.0 * inputs.get(i).size(), what + " keep=0.25");
            int last = models[i].shape().layers() - 1;
            assertTrue(quarter[i].visualTokensPerLayer()[last] < 64 * inputs.get(i).size(), what + ": nothing pruned");
        }
        // same seed, same decision; and a batch of the first two requests decides like each alone
        GenerationResult again = LayerRuns.run(models[1], two, id + ":keep=0.25,seed=3", 1);
        List<GenerationResult> batch = TestModels.tiny().generate(List.of(
                VlmRequest.of(TestModels.tiny().promptIds(Q, 1), one, PrunerRegistry.defaultRegistry().create(id
                        + ":keep=0.25,seed=3")),
                VlmRequest.of(TestModels.tiny().promptIds(Q, 2), two, PrunerRegistry.defaultRegistry().create(id
                        + ":keep=0.25,seed=3"))), GenerationConfig.greedy(1));
        GenerationResult[][] pairs = {{quarter[1], again}, {quarter[0], batch.get(0)}, {quarter[1], batch.get(1)}};
        for (GenerationResult[] p : pairs) {
            assertEquals(p[0].steps().size(), p[1].steps().size());
            for (int k = 0; k < p[0].steps().size(); k++) {
                assertArrayEquals(p[0].steps().get(k).kept(), p[1].steps().get(k).kept(), id + ": decisions differ");
            }
            assertArrayEquals(p[0].visualTokensPerLayer(), p[1].visualTokensPerLayer());
            assertArrayEquals(p[0].firstTokenLogits(), p[1].firstTokenLogits(), 1e-4f);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"adaptinfer", "adatoken3d", "pdrop", "sparsevlm"})
    void anyBudgetIsMet(String id) {
        VlmModel tiny = TestModels.tiny();
        for (String keep : new String[] {"1", "0.11", "63"}) {
            GenerationResult r = LayerRuns.run(tiny, one, id + ":keep=" + keep, 1);
            double target = keep.contains(".") ? Math.round(Double.parseDouble(keep) * 64) : Integer.parseInt(keep);
            checkRun(r, target, id + " keep=" + keep);
        }
        checkRun(LayerRuns.run(tiny, two, id + ":keep=0.2,scope=request", 1), 26, id + " scope=request");
        // 8 layers: a small budget, and the per-layer counts the pruner plans
        List<VisualInput> single = List.of(eightViews.get(0));
        GenerationResult r = LayerRuns.run(eight, single, id + ":keep=0.11", 1);
        checkRun(r, 7, id + " 8 layers keep=0.11");
        int[] planned = PrunerRegistry.defaultRegistry().create(id + ":keep=0.11").pruner().plannedCounts(
                eight.shape(), List.of(new ImageSpan(0, 0, 64, 8, 8, 0, true)),
                Budget.parse("0.11", Budget.Scope.IMAGE).resolve(new int[] {64}));
        assertArrayEquals(planned, r.visualTokensPerLayer(), id + " keep=0.11");
    }
}
