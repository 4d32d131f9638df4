package io.tokensieve.core;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.Need;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PruneStep;
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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The core's side of the pruner SPI: application, positions, KV cache, batches, validation, memory. */
class RuntimeTest {
    @TempDir
    Path tmp;

    private GenerationResult run(VlmModel m, VisualInput img, String q, ConfiguredPruner p, int maxNew) {
        return m.generate(List.of(VlmRequest.of(m.promptIds(q, 1), List.of(img), p)), GenerationConfig.greedy(maxNew)).get(0);
    }

    @Test
    void keepingEverythingIsBitIdenticalAtEveryHook() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 100, 80, 4));
        GenerationResult base = run(m, img, "what is this ?", null, 4);
        for (HookPoint h : List.of(HookPoint.VISION, HookPoint.PROJECTED, HookPoint.beforeLayer(0),
                HookPoint.beforeLayer(2), HookPoint.beforeLayer(3))) {
            GenerationResult r = run(m, img, "what is this ?", TestPruners.keepAll(h), 4);
            assertArrayEquals(base.firstTokenLogits(), r.firstTokenLogits(), "logits at " + h);
            assertArrayEquals(base.outputIds(), r.outputIds(), "tokens at " + h);
        }
    }

    @Test
    void layerStepShrinksLaterLayersOnlyInBothPositionModes() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 100, 80, 5));
        int[] kept = TestPruners.every(4, 64);
        GenerationResult keep = run(m, img, "what is this ?", TestPruners.fixed(HookPoint.beforeLayer(2), kept, PositionPolicy.KEEP), 1);
        GenerationResult ren = run(m, img, "what is this ?", TestPruners.fixed(HookPoint.beforeLayer(2), kept, PositionPolicy.RENUMBER), 1);
        assertArrayEquals(new int[] {64, 64, 16, 16}, keep.visualTokensPerLayer());
        assertArrayEquals(new int[] {64, 64, 16, 16}, ren.visualTokensPerLayer());
        assertArrayEquals(kept, keep.steps().get(0).kept());
        assertEquals(40.0, keep.equivalentAverageTokens(), 1e-9);
        assertFalse(Arrays.equals(keep.firstTokenLogits(), ren.firstTokenLogits()), "renumbering changes RoPE positions");
        // the KV cache of layers 2-3 holds 48 fewer tokens
        GenerationResult base = run(m, img, "what is this ?", null, 1);
        long perToken = 2L * 2 * 16 * 4;
        assertEquals(base.kvCacheBytes() - 2 * 48 * perToken, keep.kvCacheBytes());
    }

    @Test
    void greedyDecodingWithThePrunedCacheEqualsRecomputingThePrunedPrefill() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 70, 90, 6));
        int[] kept = TestPruners.every(3, 64);
        for (PositionPolicy pp : PositionPolicy.values()) {
            ConfiguredPruner p = TestPruners.fixed(HookPoint.beforeLayer(1), kept, pp);
            long[] prompt = m.promptIds("where is the red square ?", 1);
            GenerationResult cached = m.generate(List.of(VlmRequest.of(prompt, List.of(img), p)),
                    new GenerationConfig(6, 0, 1, 0)).get(0);
            List<Long> recomputed = new ArrayList<>();
            float[] lastLogits = null;
            for (int i = 0; i < cached.outputIds().length; i++) {
                long[] prefix = recomputed.stream().mapToLong(Long::longValue).toArray();
                GenerationResult r = m.generate(List.of(new VlmRequest(prompt, List.of(img), p, prefix)),
                        GenerationConfig.greedy(1)).get(0);
                recomputed.add(r.outputIds()[0]);
                lastLogits = r.firstTokenLogits();
            }
            assertArrayEquals(cached.outputIds(), recomputed.stream().mapToLong(Long::longValue).toArray(),
                    "tokens, positions " + pp);
            assertNotNull(lastLogits);
        }
    }

    @Test
    void aBatchOfTwoEqualsTwoSingleRuns() {
        VlmModel m = TestModels.tiny();
        VisualInput a = m.image(TestModels.rgbPng(tmp, "a.png", 100, 80, 7));
        VisualInput b = m.image(TestModels.rgbPng(tmp, "b.png", 60, 120, 8));
        ConfiguredPruner pa = TestPruners.fixed(HookPoint.beforeLayer(1), TestPruners.every(2, 64), PositionPolicy.KEEP);
        ConfiguredPruner pb = TestPruners.fixed(HookPoint.PROJECTED, TestPruners.every(5, 64), PositionPolicy.RENUMBER);
        VlmRequest ra = VlmRequest.of(m.promptIds("what is this ?", 1), List.of(a), pa);
        VlmRequest rb = VlmRequest.of(m.promptIds("how many red objects are there in the picture ?", 1), List.of(b), pb);
        GenerationConfig gen = GenerationConfig.greedy(5);
        List<GenerationResult> both = m.generate(List.of(ra, rb), gen);
        GenerationResult sa = m.generate(List.of(ra), gen).get(0);
        GenerationResult sb = m.generate(List.of(rb), gen).get(0);
        for (var pair : List.of(List.of(both.get(0), sa), List.of(both.get(1), sb))) {
            GenerationResult x = pair.get(0);
            GenerationResult y = pair.get(1);
            assertArrayEquals(y.outputIds(), x.outputIds());
            assertArrayEquals(y.visualTokensPerLayer(), x.visualTokensPerLayer());
            float[] lx = x.firstTokenLogits();
            float[] ly = y.firstTokenLogits();
            for (int i = 0; i < lx.length; i++) {
                assertEquals(ly[i], lx[i], 1e-4, "logit " + i);
            }
        }
    }

    @Test
    void tokensCanBeDroppedAndBroughtBackWithTheirProjectedEmbedding() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 100, 80, 9));
        int[] eight = TestPruners.every(8, 64);
        int[] all = TestPruners.every(1, 64);
        ConfiguredPruner p = TestPruners.of("csp-like",
                List.of(PruneStep.of("cluster", HookPoint.PROJECTED), PruneStep.of("scatter", HookPoint.beforeLayer(2)).withReactivation()),
                List.of(ctx -> PruneDecision.keep(eight), ctx -> PruneDecision.keep(all)), PositionPolicy.KEEP);
        GenerationResult r = run(m, img, "what is this ?", p, 1);
        assertArrayEquals(new int[] {8, 8, 64, 64}, r.visualTokensPerLayer());
        assertEquals(56, r.steps().get(1).reactivated().length);

        ConfiguredPruner undeclared = TestPruners.of("sneaky",
                List.of(PruneStep.of("cluster", HookPoint.PROJECTED), PruneStep.of("scatter", HookPoint.beforeLayer(2))),
                List.of(ctx -> PruneDecision.keep(eight), ctx -> PruneDecision.keep(all)), PositionPolicy.KEEP);
        PruneException e = assertThrows(PruneException.class, () -> run(m, img, "what is this ?", undeclared, 1));
        assertTrue(e.getMessage().contains("sneaky") && e.getMessage().contains("scatter")
                && e.getMessage().contains("reactivation"), e.getMessage());
    }

    @Test
    void replacementRowsAreUsedAndAnIdenticalReplacementChangesNothing() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 100, 80, 10));
        GenerationResult base = run(m, img, "what is this ?", null, 1);
        int[] all = TestPruners.every(1, 64);
        ConfiguredPruner same = TestPruners.of("same", List.of(PruneStep.of("merge", HookPoint.PROJECTED, Need.PROJECTOR)),
                List.of(ctx -> PruneDecision.keep(all).withReplacements(new int[] {3}, ctx.projected().get("3:4, :"))),
                PositionPolicy.KEEP);
        assertArrayEquals(base.firstTokenLogits(), run(m, img, "what is this ?", same, 1).firstTokenLogits());
        ConfiguredPruner zero = TestPruners.of("zero", List.of(PruneStep.of("merge", HookPoint.PROJECTED, Need.PROJECTOR)),
                List.of(ctx -> PruneDecision.keep(all).withReplacements(new int[] {3}, ctx.projected().get("3:4, :").zerosLike())),
                PositionPolicy.KEEP);
        assertFalse(Arrays.equals(base.firstTokenLogits(), run(m, img, "what is this ?", zero, 1).firstTokenLogits()));
    }

    @Test
    void invalidDecisionsFailNamingPrunerAndStep() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 50, 50, 11));
        record Case(String id, PruneStep step, int[] kept, String message) {}
        List<Case> cases = List.of(
                new Case("unsorted", PruneStep.of("s", HookPoint.beforeLayer(1)), new int[] {5, 3}, "strictly ascending"),
                new Case("dup", PruneStep.of("s", HookPoint.PROJECTED), new int[] {3, 3}, "strictly ascending"),
                new Case("range", PruneStep.of("s", HookPoint.VISION), new int[] {0, 64}, "outside 0..63"),
                new Case("negative", PruneStep.of("s", HookPoint.beforeLayer(2)), new int[] {-1, 2}, "outside"));
        for (Case c : cases) {
            ConfiguredPruner p = TestPruners.of(c.id(), List.of(c.step()), List.of(ctx -> PruneDecision.keep(c.kept())),
                    PositionPolicy.KEEP);
            PruneException e = assertThrows(PruneException.class, () -> run(m, img, "what is this ?", p, 1), c.id());
            assertTrue(e.getMessage().contains("pruner " + c.id()) && e.getMessage().contains("step s")
                    && e.getMessage().contains(c.message()), e.getMessage());
        }
        // reading attention without declaring it
        ConfiguredPruner sneaky = TestPruners.of("peek", List.of(PruneStep.of("s", HookPoint.beforeLayer(2))),
                List.of(ctx -> {
                    ctx.attention(1);
                    return PruneDecision.keepAll(ctx);
                }), PositionPolicy.KEEP);
        PruneException e = assertThrows(PruneException.class, () -> run(m, img, "what is this ?", sneaky, 1));
        assertTrue(e.getMessage().contains("without declaring") && e.getMessage().contains("ATTENTION"), e.getMessage());
        // a step past the last layer
        ConfiguredPruner deep = TestPruners.fixed(HookPoint.beforeLayer(9), new int[] {1}, PositionPolicy.KEEP);
        e = assertThrows(PruneException.class, () -> run(m, img, "what is this ?", deep, 1));
        assertTrue(e.getMessage().contains("4 decoder layers"), e.getMessage());
        // budget check by convention: entering the LLM
        ConfiguredPruner over = TestPruners.of("greedy", List.of(PruneStep.of("s", HookPoint.PROJECTED)),
                List.of(ctx -> PruneDecision.keep(TestPruners.every(2, 64))), PositionPolicy.KEEP,
                BudgetConvention.ENTERING_LLM, Budget.parse("16", Budget.Scope.IMAGE));
        e = assertThrows(PruneException.class, () -> run(m, img, "what is this ?", over, 1));
        assertTrue(e.getMessage().contains("kept 32") && e.getMessage().contains("16"), e.getMessage());
    }

    @Test
    void attentionOfEarlierLayersIsAvailableWhenDeclared() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 50, 50, 12));
        List<float[]> rows = new ArrayList<>();
        ConfiguredPruner p = TestPruners.of("reader", List.of(PruneStep.of("s", HookPoint.beforeLayer(3))
                        .withAttentionLayers(1, 2)),
                List.of(ctx -> {
                    NDArray a1 = ctx.attention(1); // [H, T, T]
                    NDArray a2 = ctx.attention(2);
                    assertEquals(a1.getShape(), a2.getShape());
                    assertEquals(4, a1.getShape().get(0));
                    int t = ctx.sequence().size();
                    assertEquals(t, a1.getShape().get(1));
                    // rows are probability distributions over visible keys (causal)
                    float[] last = a2.get("0, " + (t - 1) + ", :").toFloatArray();
                    rows.add(last);
                    float[] first = a2.get("0, 0, :").toFloatArray();
                    assertEquals(1.0, first[0], 1e-5);
                    NDArray row = ctx.nextLayerAttentionRow(t - 1); // layer 3's row, recomputed
                    assertEquals(4, row.getShape().get(0));
                    return PruneDecision.keepAll(ctx);
                }), PositionPolicy.KEEP);
        PruneException undeclared = assertThrows(PruneException.class, () -> run(m, img, "what is this ?", p, 1));
        assertTrue(undeclared.getMessage().contains("NEXT_LAYER_ATTENTION_ROW"), undeclared.getMessage());
        ConfiguredPruner ok = TestPruners.of("reader", List.of(new PruneStep("s", HookPoint.beforeLayer(3),
                        java.util.EnumSet.of(Need.ATTENTION, Need.NEXT_LAYER_ATTENTION_ROW), List.of(1, 2), false)),
                List.of(ctx -> {
                    NDArray a2 = ctx.attention(2);
                    int t = ctx.sequence().size();
                    rows.add(a2.get("0, " + (t - 1) + ", :").toFloatArray());
                    NDArray row = ctx.nextLayerAttentionRow(t - 1);
                    float[] r = row.sum(new int[] {1}).toFloatArray();
                    for (float v : r) {
                        assertEquals(1.0, v, 1e-5);
                    }
                    return PruneDecision.keepAll(ctx);
                }), PositionPolicy.KEEP);
        run(m, img, "what is this ?", ok, 1);
        float sum = 0;
        for (float v : rows.get(rows.size() - 1)) {
            sum += v;
        }
        assertEquals(1.0, sum, 1e-4);
    }

    @Test
    void samplingIsSeededAndGreedyIsDefault() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 50, 50, 13));
        VlmRequest r = VlmRequest.of(m.promptIds("what is this ?", 1), List.of(img), null);
        GenerationConfig s1 = new GenerationConfig(8, 1.5, 0.95, 3);
        long[] a = m.generate(List.of(r), s1).get(0).outputIds();
        long[] b = m.generate(List.of(r), s1).get(0).outputIds();
        assertArrayEquals(a, b);
        boolean anyDiffers = false;
        for (long seed = 4; seed < 10 && !anyDiffers; seed++) {
            anyDiffers = !Arrays.equals(a, m.generate(List.of(r), new GenerationConfig(8, 1.5, 0.95, seed)).get(0).outputIds());
        }
        assertTrue(anyDiffers, "different seeds should sample differently");
    }

    @Test
    void manyRequestsLeaveNoArraysBehind() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 50, 50, 14));
        ConfiguredPruner p = TestPruners.fixed(HookPoint.beforeLayer(2), TestPruners.every(3, 64), PositionPolicy.KEEP);
        int before = m.weights().manager().getManagedArrays().size();
        for (int i = 0; i < 30; i++) {
            run(m, img, "what is this ?", i % 2 == 0 ? p : null, 3);
        }
        assertEquals(before, m.weights().manager().getManagedArrays().size());
    }

    @Test
    void placeholdersMustMatchImagesAndXyzMustMatchPatches() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 50, 50, 15));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.generate(
                List.of(VlmRequest.of(m.promptIds("what is this ?", 2), List.of(img), null)), GenerationConfig.greedy(1)));
        assertTrue(e.getMessage().contains("2 image placeholder"), e.getMessage());
        VisualInput bad = new VisualInput("v.png", img.pixels(), new float[3][3]);
        e = assertThrows(IllegalArgumentException.class, () -> m.generate(
                List.of(VlmRequest.of(m.promptIds("what is this ?", 1), List.of(bad), null)), GenerationConfig.greedy(1)));
        assertTrue(e.getMessage().contains("xyz"), e.getMessage());
    }

    @Test
    void segTokenGivesAMaskAndXyzOriginsReachPruners() {
        VlmModel m = TestModels.extras();
        VisualInput plain = m.image(TestModels.rgbPng(tmp, "a.png", 50, 50, 16));
        float[][] xyz = new float[64][];
        for (int i = 0; i < 64; i++) {
            xyz[i] = new float[] {i % 8, i / 8, 1.5f};
        }
        VisualInput view = new VisualInput("view", plain.pixels(), xyz);
        List<Float> seen = new ArrayList<>();
        ConfiguredPruner p = TestPruners.of("xyz", List.of(PruneStep.of("s", HookPoint.VISION)), List.of(ctx -> {
            seen.add(ctx.origin(9).x());
            seen.add(ctx.origin(9).y());
            assertTrue(ctx.images().get(0).multiView());
            return PruneDecision.keepAll(ctx);
        }), PositionPolicy.KEEP);
        long[] ids = m.promptIds("segment the square", 1);
        GenerationResult r = m.generate(List.of(new VlmRequest(ids, List.of(view), p, new long[] {m.segTokenId()})),
                GenerationConfig.greedy(0)).get(0);
        assertEquals(List.of(1f, 1f), seen);
        assertNotNull(r.maskLogits());
        assertEquals(28 * 28, r.maskLogits().length);
        // the 3D embedding changes the features: logits differ from the same pixels without xyz
        GenerationResult flat = m.generate(List.of(new VlmRequest(ids, List.of(plain), null, new long[] {m.segTokenId()})),
                GenerationConfig.greedy(0)).get(0);
        assertFalse(Arrays.equals(r.firstTokenLogits(), flat.firstTokenLogits()));
    }
}
