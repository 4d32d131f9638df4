package io.tokensieve.pruners;

import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.StepTrace;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generic pruner contract for zoo, catp and lvlm-csp: valid kept sets, the budget met by each method's
 * convention, text never dropped, seeded determinism, keep=1.0 bit-identical to unpruned, on one image,
 * several images and multi-view (xyz) inputs.
 */
class MainPrunersContractTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"zoo", "catp", "lvlm-csp"})
    void contract(String id) {
        VlmModel m = TestModels.tiny();
        List<VisualInput> three = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            three.add(m.image(TestModels.rgbPng(tmp, id + i + ".png", 70 + 10 * i, 80, 40 + i)));
        }
        List<VisualInput> one = three.subList(0, 1);
        BudgetConvention conv = PrunerRegistry.defaultRegistry().provider(id).budgetConvention();

        GenerationResult base = Runs.ask(m, one, "what color is the circle ?", null, null, 3);
        GenerationResult all = Runs.ask(m, one, "what color is the circle ?", Runs.pruner(id + ":keep=1.0"), null, 3);
        assertArrayEquals(base.firstTokenLogits(), all.firstTokenLogits(), id + ": keep=1.0 changes the logits");
        assertArrayEquals(base.outputIds(), all.outputIds());

        GenerationResult a = check(m, one, id + ":keep=0.25", 16, conv);
        GenerationResult b = check(m, one, id + ":keep=0.25", 16, conv);
        assertEquals(a.steps().size(), b.steps().size());
        for (int i = 0; i < a.steps().size(); i++) {
            assertArrayEquals(a.steps().get(i).kept(), b.steps().get(i).kept(), id + ": same seed, same decision");
        }
        assertArrayEquals(a.firstTokenLogits(), b.firstTokenLogits());
        assertFalse(Arrays.equals(base.firstTokenLogits(), a.firstTokenLogits()), id + ": pruning changes nothing");
        check(m, one, id + ":keep=0.11", 7, conv);
        check(m, one, id + ":keep=1", 1, conv);

        check(m, three, id + ":keep=0.25", 48, conv);
        check(m, three, id + ":keep=20,scope=request", 20, conv);

        GenerationResult noImage = Runs.ask(m, List.of(), id + ":keep=0.25");
        assertTrue(noImage.steps().isEmpty(), id + ": no image, no steps");
        assertArrayEquals(Runs.ask(m, List.of(), null).firstTokenLogits(), noImage.firstTokenLogits());

        VlmModel x = TestModels.extras();
        List<VisualInput> views = new ArrayList<>();
        for (int v = 0; v < 3; v++) {
            VisualInput img = x.image(TestModels.rgbPng(tmp, id + "v" + v + ".png", 80, 80, 50 + v));
            float[][] xyz = new float[64][];
            for (int p = 0; p < 64; p++) {
                xyz[p] = new float[] {p % 8 + v, p / 8, 1.5f + 0.1f * v};
            }
            views.add(new VisualInput("view" + v, img.pixels(), xyz));
        }
        check(x, views, id + ":keep=0.25", 48, conv);
        GenerationResult baseViews = Runs.ask(x, views, null);
        assertArrayEquals(baseViews.firstTokenLogits(), Runs.ask(x, views, id + ":keep=1.0").firstTokenLogits());
    }

    private static GenerationResult check(VlmModel m, List<VisualInput> images, String spec, int total,
                                          BudgetConvention conv) {
        GenerationResult r = Runs.ask(m, images, spec);
        int n = r.visualTokens();
        assertEquals(64 * images.size(), n);
        assertFalse(r.steps().isEmpty(), spec);
        for (StepTrace t : r.steps()) {
            int[] k = t.kept();
            for (int i = 0; i < k.length; i++) {
                assertTrue(k[i] >= 0 && k[i] < n, spec + " " + t.name() + ": index in range");
                assertTrue(i == 0 || k[i] > k[i - 1], spec + " " + t.name() + ": sorted and unique");
            }
            assertTrue(t.scores() == null || t.scores().length == n);
        }
        int[] per = r.visualTokensPerLayer();
        switch (conv) {
            case ENTERING_LLM -> assertEquals(total, per[0], spec);
            case FINAL -> assertEquals(total, per[per.length - 1], spec);
            case LAYER_AVERAGE -> assertTrue(Math.abs(r.equivalentAverageTokens() - total) <= 1.0,
                    spec + ": average " + r.equivalentAverageTokens());
        }
        int text = r.promptTokens() - n;
        for (int l = 0; l < per.length; l++) {
            assertEquals(text, r.tokensPerLayer()[l] - per[l], spec + ": text tokens in layer " + l);
        }
        return r;
    }
}
