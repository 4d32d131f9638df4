package io.tokensieve.pruners;

import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.StepTrace;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.PrunerRegistry;
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
 * The generic pruner contract, checked for the four layer-wise pruners on the tiny models: sorted unique
 * in-range kept sets, the layer-average budget met within one token, text never dropped, same seed same
 * decision, keep=1.0 bit-identical to the unpruned model; one image, several images, multi-view views.
 */
class LayerPrunersContractTest {
    @TempDir
    static Path shared;
    static VlmModel eight;

    @TempDir
    Path tmp;

    @BeforeAll
    static void eightLayerModel() throws Exception {
        eight = LayerRuns.eightLayers(shared.resolve("eight"));
        assertEquals(8, eight.shape().layers());
    }

    @AfterAll
    static void close() {
        eight.close();
    }

    private static void checkRun(GenerationResult base, GenerationResult r, double target, String what) {
        assertEquals(target, r.equivalentAverageTokens(), 1.0 + 1e-9, what + ": layer average "
                + Arrays.toString(r.visualTokensPerLayer()));
        int text = base.promptTokens() - base.visualTokens();
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

    private void contract(VlmModel m, List<VisualInput> images, String id, String label) {
        GenerationResult base = LayerRuns.run(m, images, null, 2);
        GenerationResult all = LayerRuns.run(m, images, id + ":keep=1.0", 2);
        assertArrayEquals(base.firstTokenLogits(), all.firstTokenLogits(), label + ": keep=1.0 changed the logits");
        assertArrayEquals(base.outputIds(), all.outputIds());
        GenerationResult q = LayerRuns.run(m, images, id + ":keep=0.25,seed=3", 2);
        checkRun(base, q, 16.0 * images.size(), label + " keep=0.25");
        assertTrue(q.visualTokensPerLayer()[m.shape().layers() - 1] < 64 * images.size(), label + ": nothing pruned");
        GenerationResult again = LayerRuns.run(m, images, id + ":keep=0.25,seed=3", 2);
        assertEquals(q.steps().size(), again.steps().size());
        for (int i = 0; i < q.steps().size(); i++) {
            assertArrayEquals(q.steps().get(i).kept(), again.steps().get(i).kept(), label + ": not deterministic");
        }
        assertArrayEquals(q.firstTokenLogits(), again.firstTokenLogits());
    }

    @ParameterizedTest
    @ValueSource(strings = {"adaptinfer", "adatoken3d", "pdrop", "sparsevlm"})
    void contractOnOneImageSeveralImagesAndViews(String id) {
        VlmModel tiny = TestModels.tiny();
        contract(tiny, List.of(LayerRuns.image(tiny, tmp, 1)), id, id + " one image");
        contract(tiny, List.of(LayerRuns.image(tiny, tmp, 2), LayerRuns.image(tiny, tmp, 3)), id, id + " two images");
        VlmModel extras = TestModels.extras();
        contract(extras, LayerRuns.views(extras, tmp, 3), id, id + " three views");
    }

    @ParameterizedTest
    @ValueSource(strings = {"adaptinfer", "adatoken3d", "pdrop", "sparsevlm"})
    void anyBudgetIsMet(String id) {
        VlmModel tiny = TestModels.tiny();
        List<VisualInput> one = List.of(LayerRuns.image(tiny, tmp, 4));
        GenerationResult base = LayerRuns.run(tiny, one, null, 1);
        for (String keep : new String[] {"1", "0.11", "63", "64"}) {
            GenerationResult r = LayerRuns.run(tiny, one, id + ":keep=" + keep, 1);
            double target = keep.contains(".") ? Math.round(Double.parseDouble(keep) * 64) : Integer.parseInt(keep);
            checkRun(base, r, target, id + " keep=" + keep);
        }
        List<VisualInput> two = List.of(LayerRuns.image(tiny, tmp, 5), LayerRuns.image(tiny, tmp, 6));
        GenerationResult b2 = LayerRuns.run(tiny, two, null, 1);
        checkRun(b2, LayerRuns.run(tiny, two, id + ":keep=0.2,scope=request", 1), 26, id + " scope=request");
    }

    @ParameterizedTest
    @ValueSource(strings = {"adaptinfer", "adatoken3d", "pdrop", "sparsevlm"})
    void aBatchDecidesLikeSingleRequests(String id) {
        VlmModel tiny = TestModels.tiny();
        List<VisualInput> a = List.of(LayerRuns.image(tiny, tmp, 8));
        List<VisualInput> b = List.of(LayerRuns.image(tiny, tmp, 9), LayerRuns.image(tiny, tmp, 10));
        String spec = id + ":keep=0.25";
        List<GenerationResult> batch = tiny.generate(List.of(
                VlmRequest.of(tiny.promptIds("what is left of the red circle ?", 1), a,
                        PrunerRegistry.defaultRegistry().create(spec)),
                VlmRequest.of(tiny.promptIds("what is left of the red circle ?", 2), b,
                        PrunerRegistry.defaultRegistry().create(spec))), GenerationConfig.greedy(1));
        GenerationResult[] single = {LayerRuns.run(tiny, a, spec, 1), LayerRuns.run(tiny, b, spec, 1)};
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(single[i].visualTokensPerLayer(), batch.get(i).visualTokensPerLayer());
            for (int k = 0; k < single[i].steps().size(); k++) {
                assertArrayEquals(single[i].steps().get(k).kept(), batch.get(i).steps().get(k).kept(), id + " sample " + i);
            }
            assertArrayEquals(single[i].firstTokenLogits(), batch.get(i).firstTokenLogits(), 1e-4f);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"adaptinfer", "adatoken3d", "pdrop", "sparsevlm"})
    void eightLayersLikeSieveTiny(String id) {
        List<VisualInput> views = LayerRuns.views(eight, tmp, 3);
        contract(eight, views, id, id + " 8 layers, three views");
        List<VisualInput> one = List.of(LayerRuns.image(eight, tmp, 7));
        GenerationResult base = LayerRuns.run(eight, one, null, 1);
        for (String keep : new String[] {"0.11", "0.5"}) {
            GenerationResult r = LayerRuns.run(eight, one, id + ":keep=" + keep, 1);
            checkRun(base, r, Math.round(Double.parseDouble(keep) * 64), id + " 8 layers keep=" + keep);
            int[] planned = PrunerRegistry.defaultRegistry().create(id + ":keep=" + keep).pruner().plannedCounts(
                    eight.shape(), List.of(new io.tokensieve.core.prune.ImageSpan(0, 0, 64, 8, 8, 0, false)),
                    Budget.parse(keep, Budget.Scope.IMAGE).resolve(new int[] {64}));
            assertArrayEquals(planned, r.visualTokensPerLayer(), id + " keep=" + keep);
        }
    }
}
