package io.tokensieve.pruners;

import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PrunerProvider;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.StepTrace;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract every registered pruner meets, run over {@link PrunerRegistry#defaultRegistry()} so that
 * providers added later are covered without touching this class. For each provider, on one image, two
 * images, three multi-view images with xyz origins and a segmentation request ending in [SEG]:
 * kept sets sorted, unique and in range at every step; the budget met by the provider's convention at
 * keep=0.25, at keep=7 and, with several images, at keep=2 per request (one image gets none); text tokens
 * never dropped; the same seed gives identical traces and outputs;
 * keep=1.0 gives logits and tokens bit-identical to the unpruned run. A provider that schedules no step
 * at all (the unpruned reference) must instead refuse a budget below 1.0. Nothing is skipped: a provider
 * that cannot run a case fails it.
 */
class PrunerContractTest {
    private static final GenerationConfig GEN = GenerationConfig.greedy(2);
    private static final int COUNT = 7;

    @TempDir
    static Path tmp;

    /** One request shape; the model, images and unpruned result are built once and shared by all providers. */
    private static final class Case {
        final String name;
        final boolean extras;
        final String question;
        final int images;
        final boolean multiView;
        final boolean seg;
        private VlmModel model;
        private List<VisualInput> inputs;
        private GenerationResult base;

        Case(String name, boolean extras, String question, int images, boolean multiView, boolean seg) {
            this.name = name;
            this.extras = extras;
            this.question = question;
            this.images = images;
            this.multiView = multiView;
            this.seg = seg;
        }

        synchronized VlmModel model() {
            if (model == null) {
                model = extras ? TestModels.extras() : TestModels.tiny();
                inputs = new ArrayList<>();
                for (int i = 0; i < images; i++) {
                    VisualInput v = model.image(TestModels.rgbPng(tmp, name.replace(' ', '-') + i + ".png", 90, 70,
                            31 + i));
                    inputs.add(multiView ? new VisualInput(v.name(), v.pixels(), xyz(i)) : v);
                }
            }
            return model;
        }

        GenerationResult run(ConfiguredPruner p) {
            VlmModel m = model();
            long[] prefix = seg ? new long[] {m.segTokenId()} : null;
            return m.generate(List.of(new VlmRequest(m.promptIds(question, images), inputs, p, prefix)), GEN).get(0);
        }

        synchronized GenerationResult base() {
            if (base == null) {
                base = run(null);
            }
            return base;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static final List<Case> CASES = List.of(
            new Case("one image", false, "what color is the circle ?", 1, false, false),
            new Case("two images", false, "which image has more objects ?", 2, false, false),
            new Case("three views", true, "how many objects are there ?", 3, true, false),
            new Case("segmentation", true, "segment the square", 1, false, true));

    /** Per-patch scene coordinates of view {@code view} (an 8 x 8 grid on a plane that moves with the view). */
    private static float[][] xyz(int view) {
        float[][] out = new float[64][];
        for (int p = 0; p < 64; p++) {
            out[p] = new float[] {p % 8 * 0.25f + view, p / 8 * 0.25f, 1.5f + 0.5f * view};
        }
        return out;
    }

    @TestFactory
    Stream<DynamicContainer> everyRegisteredProvider() {
        List<PrunerProvider> providers = PrunerRegistry.defaultRegistry().providers();
        Set<String> ids = providers.stream().map(PrunerProvider::id).collect(Collectors.toSet());
        assertTrue(ids.containsAll(Set.of("none", "random", "fastv", "pool", "visionzip", "divprune", "dart", "prumerge")),
                "registered: " + ids);
        return providers.stream().map(p -> DynamicContainer.dynamicContainer(p.id(),
                CASES.stream().map(c -> DynamicTest.dynamicTest(c.name, () -> contract(p, c)))));
    }

    private static ConfiguredPruner create(PrunerProvider p, String keep) {
        return PrunerRegistry.defaultRegistry().create(p.id() + ":keep=" + keep + ",seed=3");
    }

    private static void contract(PrunerProvider p, Case c) {
        GenerationResult base = c.base();
        int perImage = base.visualTokens() / c.images;

        // keep=1.0 is the unpruned model, bit for bit
        GenerationResult all = c.run(create(p, "1.0"));
        assertArrayEquals(base.firstTokenLogits(), all.firstTokenLogits(), p.id() + ": keep=1.0 changed the logits");
        assertArrayEquals(base.outputIds(), all.outputIds(), p.id() + ": keep=1.0 changed the answer");
        wellFormed(p, c, all, base);

        if (all.steps().isEmpty()) {
            // nothing scheduled at keep=1.0: either the pruner elides a no-op step, or it is the unpruned
            // reference, which must refuse a real budget rather than ignore it
            GenerationResult probe;
            try {
                probe = c.run(create(p, "0.25"));
            } catch (PruneException e) {
                assertTrue(e.getMessage().contains("budget"), e.getMessage());
                return;
            }
            assertFalse(probe.steps().isEmpty(), p.id() + " accepted keep=0.25 without pruning");
        }

        // keep=0.25: budget, text, well-formedness; twice with the same seed
        ConfiguredPruner quarter = create(p, "0.25");
        GenerationResult a = c.run(quarter);
        GenerationResult b = c.run(create(p, "0.25"));
        int target = c.images * (int) Math.round(0.25 * perImage);
        wellFormed(p, c, a, base);
        budgetMet(p, quarter.convention(), a, target);
        sameTrace(p, a, b);

        // a second, small absolute budget
        ConfiguredPruner seven = create(p, String.valueOf(COUNT));
        GenerationResult s = c.run(seven);
        wellFormed(p, c, s, base);
        budgetMet(p, seven.convention(), s, c.images * COUNT);
        assertFalse(Arrays.equals(s.visualTokensPerLayer(), all.visualTokensPerLayer()), p.id() + ": keep=7 pruned nothing");

        // a request-scope total smaller than the images leaves the last image without tokens
        if (c.images > 1) {
            ConfiguredPruner two = PrunerRegistry.defaultRegistry().create(p.id() + ":keep=2,scope=request,seed=3");
            GenerationResult t;
            try {
                t = c.run(two);
            } catch (PruneException e) {
                // a layer-average method that keeps every token in its first layers cannot reach such a total:
                // it must say so (never run off budget)
                assertEquals(BudgetConvention.LAYER_AVERAGE, two.convention(), p.id() + ": " + e.getMessage());
                assertTrue(e.getMessage().contains("cannot be reached"), e.getMessage());
                return;
            }
            wellFormed(p, c, t, base);
            budgetMet(p, two.convention(), t, 2);
        }
    }

    /** Every step's kept set is strictly ascending and in range; text survives at every layer. */
    private static void wellFormed(PrunerProvider p, Case c, GenerationResult r, GenerationResult base) {
        String who = p.id() + " on " + c.name;
        assertEquals(base.promptTokens(), r.promptTokens(), who);
        assertEquals(base.visualTokens(), r.visualTokens(), who);
        for (StepTrace st : r.steps()) {
            int[] kept = st.kept();
            for (int i = 0; i < kept.length; i++) {
                assertTrue(kept[i] >= 0 && kept[i] < r.visualTokens(), who + " step " + st.name() + ": index " + kept[i]
                        + " out of range");
                assertTrue(i == 0 || kept[i] > kept[i - 1], who + " step " + st.name() + ": kept not sorted/unique at " + i);
            }
            if (st.scores() != null) {
                assertEquals(r.visualTokens(), st.scores().length, who + " step " + st.name() + ": scores length");
            }
        }
        int text = r.promptTokens() - r.visualTokens();
        int[] vis = r.visualTokensPerLayer();
        int[] tok = r.tokensPerLayer();
        assertEquals(vis.length, tok.length, who);
        for (int l = 0; l < vis.length; l++) {
            assertEquals(text, tok[l] - vis[l], who + ": text tokens entering layer " + l);
            assertTrue(vis[l] >= 0 && vis[l] <= r.visualTokens(), who + ": visual tokens entering layer " + l);
        }
        if (c.seg) {
            assertNotNull(r.maskLogits(), who + ": the [SEG] token gave no mask");
        }
    }

    private static void budgetMet(PrunerProvider p, BudgetConvention convention, GenerationResult r, int target) {
        int[] vis = r.visualTokensPerLayer();
        String who = p.id() + " (" + convention.label() + "), per layer " + Arrays.toString(vis) + ", budget " + target;
        switch (convention) {
            case ENTERING_LLM -> assertEquals(target, vis[0], who);
            case FINAL -> assertEquals(target, vis[vis.length - 1], who);
            case LAYER_AVERAGE -> assertTrue(Math.abs(r.equivalentAverageTokens() - target) <= 1.0, who);
        }
    }

    private static void sameTrace(PrunerProvider p, GenerationResult a, GenerationResult b) {
        assertEquals(a.steps().size(), b.steps().size(), p.id() + ": steps differ between runs");
        for (int i = 0; i < a.steps().size(); i++) {
            StepTrace x = a.steps().get(i);
            StepTrace y = b.steps().get(i);
            String who = p.id() + " step " + x.name() + ": same seed, different ";
            assertEquals(x.hook(), y.hook(), who + "hook");
            assertEquals(x.name(), y.name(), who + "name");
            assertEquals(x.liveBefore(), y.liveBefore(), who + "live count");
            assertArrayEquals(x.kept(), y.kept(), who + "kept set");
            assertArrayEquals(x.reactivated(), y.reactivated(), who + "reactivated set");
            assertArrayEquals(x.scores(), y.scores(), who + "scores");
        }
        assertArrayEquals(a.visualTokensPerLayer(), b.visualTokensPerLayer(), p.id() + ": same seed, different counts");
        assertArrayEquals(a.firstTokenLogits(), b.firstTokenLogits(), p.id() + ": same seed, different logits");
        assertArrayEquals(a.outputIds(), b.outputIds(), p.id() + ": same seed, different answer");
    }
}
