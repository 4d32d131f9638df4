package io.tokensieve.pruners;

import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DART: baselines.md section 5's counts and quota rules, and its pivots on a tiny model. */
class DartTest {
    @TempDir
    Path tmp;

    @Test
    void referenceCountsExceedTheLabelAndExactQuotasMeetIt() {
        assertEquals(68, DartPruner.referenceCount(64, 4, 8));
        assertEquals(132, DartPruner.referenceCount(128, 4, 8));
        assertEquals(196, DartPruner.referenceCount(192, 4, 8));
        int[] q = DartPruner.exactQuotas(64, 4, 8);
        assertArrayEquals(new int[] {8, 8, 8, 8, 7, 7, 7, 7}, q); // 60 picks: 7 each, the remainder to the first four
        assertEquals(60, Arrays.stream(q).sum());
        assertArrayEquals(new int[] {1, 1, 1, 0, 0, 0, 0, 0}, DartPruner.exactQuotas(7, 4, 8));
        assertArrayEquals(new int[] {0, 0, 0}, DartPruner.exactQuotas(3, 3, 3)); // budget below the pivots
    }

    @Test
    void referenceModeAcceptsOnlyTheCountsTheReferenceKeeps() {
        assertArrayEquals(new int[] {8, 8, 8, 8, 8, 8, 8, 8}, DartPruner.referenceQuotas("dart", 68, 4, 8));
        PruneException e = assertThrows(PruneException.class, () -> DartPruner.referenceQuotas("dart", 64, 4, 8));
        assertTrue(e.getMessage().contains("keep=60") && e.getMessage().contains("keep=68"), e.getMessage());
        assertTrue(e.getMessage().contains("M = 64..71"), e.getMessage());
        assertThrows(PruneException.class, () -> DartPruner.referenceQuotas("dart", 3, 4, 8));
    }

    @Test
    void eachPivotTakesTheLeastDuplicatedTokens() {
        double[] cos = {0.5, -0.2, 0.9, -0.2, 0.1};
        assertArrayEquals(new int[] {1, 3}, DartPruner.leastDuplicated(cos, 2));
        assertArrayEquals(new int[] {1, 3, 4}, DartPruner.leastDuplicated(cos, 3));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, DartPruner.leastDuplicated(cos, 9));
        // L1 norm over kv heads and channels, keys laid out [H, T, hd]
        float[] keys = {1, -2, 0.5f, 0.5f, -3, 0, 1, 1};
        assertArrayEquals(new float[] {6, 3}, DartPruner.l1PerToken(keys, 2, 2, 2));
    }

    private static GenerationResult ask(VlmModel m, VisualInput img, ConfiguredPruner p) {
        return m.generate(List.of(VlmRequest.of(m.promptIds("what color is the circle ?", 1), List.of(img), p)),
                GenerationConfig.greedy(1)).get(0);
    }

    @Test
    void imagePivotsAreKeptFromLayerKOn() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 80, 80, 8));
        PrunerRegistry reg = PrunerRegistry.defaultRegistry();
        GenerationResult r = ask(m, img, reg.create("dart:keep=16"));
        assertArrayEquals(new int[] {64, 64, 16, 16}, r.visualTokensPerLayer());
        assertEquals("BEFORE_LAYER(2)", r.steps().get(0).hook());
        float[] kappa = r.steps().get(0).scores();
        int[] kept = r.steps().get(0).kept();
        int[] all = java.util.stream.IntStream.range(0, 64).toArray();
        for (int v : Select.topK(kappa, all, 4)) {
            assertTrue(Arrays.binarySearch(kept, v) >= 0, "image pivot " + v + " was dropped");
        }
        // duplication, not importance: the kept set is not the key-norm top-16
        assertFalse(Arrays.equals(Select.topK(kappa, all, 16), kept));
        // reference mode: 4 pivots + 8 q; keep=12 is the reference's M = 8..15
        assertEquals(12, ask(m, img, reg.create("dart:keep=12,mode=reference")).visualTokensPerLayer()[3]);
        PruneException e = assertThrows(PruneException.class, () -> ask(m, img, reg.create("dart:keep=16,mode=reference")));
        assertTrue(e.getMessage().contains("keep=12") && e.getMessage().contains("keep=20"), e.getMessage());
        // original positions by default: renumbering changes the logits, not the kept set
        GenerationResult ren = ask(m, img, reg.create("dart:keep=16,position=renumber"));
        assertArrayEquals(kept, ren.steps().get(0).kept());
        assertFalse(Arrays.equals(r.firstTokenLogits(), ren.firstTokenLogits()));
        assertThrows(PruneException.class, () -> ask(m, img, reg.create("dart:layer=4")));
        assertArrayEquals(new int[] {64, 16, 16, 16}, ask(m, img, reg.create("dart:keep=16,layer=1")).visualTokensPerLayer());
    }
}
