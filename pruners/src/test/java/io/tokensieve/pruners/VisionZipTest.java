package io.tokensieve.pruners;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PrunerRegistry;
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
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** VisionZip: baselines.md section 1's algorithm and invariants, and its merges on a tiny model. */
class VisionZipTest {
    @TempDir
    Path tmp;

    @Test
    void budgetSplitFollowsTheReferenceSettings() {
        assertEquals(10, VisionZipPruner.contextualCount(64, 54, 10));
        assertEquals(20, VisionZipPruner.contextualCount(128, 54, 10));
        assertEquals(30, VisionZipPruner.contextualCount(192, 54, 10));
        assertEquals(3, VisionZipPruner.contextualCount(16, 54, 10)); // 2.5 rounds up
        assertEquals(1, VisionZipPruner.contextualCount(7, 54, 10));
        assertEquals(0, VisionZipPruner.contextualCount(1, 54, 10));
        assertEquals(0, VisionZipPruner.contextualCount(64, 54, 0));
    }

    @Test
    void handWorkedZip() {
        float[] s = {0.1f, 0.9f, 0.2f, 0.8f, 0.3f, 0.05f, 0.4f, 0.6f};
        float[][] keys = {{1, 0}, {5, 5}, {0.9f, 0.1f}, {5, 5}, {0, 1}, {0.2f, 1}, {1, 1}, {5, 5}};
        VisionZipPruner.Zip z = VisionZipPruner.zip(s, new boolean[8], keys, 3, 2);
        assertArrayEquals(new int[] {1, 3, 7}, z.dominant()); // the D highest s
        assertArrayEquals(new int[] {0, 2, 4, 5, 6}, z.remainder());
        assertArrayEquals(new int[] {0, 4}, z.targets()); // step = floor(5 / 2) = 2: remainder positions 0 and 2
        // 2 -> target 0 (key (0.9, 0.1)), 5 -> target 4, 6 ties between both and joins the first
        assertArrayEquals(new int[] {-1, 0, -1, 1, 0}, z.assignment());
        float[] ctx = VisionZipPruner.contextual(new float[] {1, 1}, List.of(new float[] {2, 0}, new float[] {4, 2}));
        assertArrayEquals(new float[] {4, 2}, ctx); // X_t + mean, the target itself not inside the mean
    }

    @Test
    void oneTargetTakesEverythingAndNoContextIsTopK() {
        float[] s = {0.3f, 0.1f, 0.5f, 0.2f, 0.4f};
        float[][] keys = {{1, 0}, {0, 1}, {1, 1}, {-1, 0}, {0, -1}};
        VisionZipPruner.Zip one = VisionZipPruner.zip(s, new boolean[5], keys, 2, 1);
        assertArrayEquals(new int[] {2, 4}, one.dominant());
        assertArrayEquals(new int[] {0}, one.targets());
        assertArrayEquals(new int[] {-1, 0, 0}, one.assignment());
        VisionZipPruner.Zip none = VisionZipPruner.zip(s, new boolean[5], keys, 3, 0);
        assertArrayEquals(new int[] {0, 2, 4}, none.dominant());
        assertEquals(0, none.targets().length);
        // a forced CLS counts inside D
        boolean[] cls = {true, false, false, false, false};
        assertArrayEquals(new int[] {0, 2}, VisionZipPruner.zip(s, cls, keys, 2, 1).dominant());
    }

    @Test
    void clsAttentionSumsHeadsAndKeysAverageThem() {
        try (NDManager m = NDManager.newBaseManager()) {
            // 2 heads, 3 tokens; row 0 of each head is CLS's attention
            float[] a = {0.2f, 0.5f, 0.3f, 0, 0, 0, 0, 0, 0, 0.6f, 0.1f, 0.3f, 0, 0, 0, 0, 0, 0};
            NDArray att = m.create(a, new Shape(2, 3, 3));
            assertArrayEquals(new float[] {0.8f, 0.6f, 0.6f}, VisionZipPruner.clsAttention(att), 1e-6f);
        }
        float[][] mean = VisionZipPruner.headMeanKeys(new float[][] {{1, 2, 3, 4}}, 2);
        assertArrayEquals(new float[] {2, 3}, mean[0]);
    }

    private static GenerationResult ask(VlmModel m, VisualInput img, ConfiguredPruner p) {
        return m.generate(List.of(VlmRequest.of(m.promptIds("what color is the circle ?", 1), List.of(img), p)),
                GenerationConfig.greedy(1)).get(0);
    }

    @Test
    void contextualTokensAreMergesAndDominantTokensTheTopByClsAttention() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 80, 80, 6));
        PrunerRegistry reg = PrunerRegistry.defaultRegistry();
        GenerationResult zip = ask(m, img, reg.create("visionzip:keep=16"));
        GenerationResult top = ask(m, img, reg.create("visionzip:keep=16,contextual=0"));
        float[] s = zip.steps().get(0).scores();
        int[] all = java.util.stream.IntStream.range(0, 64).toArray();
        assertEquals("VISION", zip.steps().get(0).hook());
        assertArrayEquals(Select.topK(s, all, 16), top.steps().get(0).kept());
        int[] kept = zip.steps().get(0).kept();
        assertEquals(16, kept.length);
        int[] dominant = Select.topK(s, all, 13); // 16 = 13 dominant + 3 contextual
        assertTrue(Arrays.stream(dominant).allMatch(v -> Arrays.binarySearch(kept, v) >= 0));
        // without merges it is plain top-k; with them, the contextual rows are no longer the targets' own
        GenerationResult plainTop = ask(m, img, TestPruners.fixed(HookPoint.VISION, top.steps().get(0).kept(),
                PositionPolicy.RENUMBER));
        assertArrayEquals(plainTop.firstTokenLogits(), top.firstTokenLogits());
        GenerationResult plainZip = ask(m, img, TestPruners.fixed(HookPoint.VISION, kept, PositionPolicy.RENUMBER));
        assertFalse(Arrays.equals(plainZip.firstTokenLogits(), zip.firstTokenLogits()), "contextual tokens were not merges");
        // text-agnostic: another question, the same tokens
        GenerationResult other = m.generate(List.of(VlmRequest.of(m.promptIds("how many objects are there ?", 1),
                List.of(img), reg.create("visionzip:keep=16"))), GenerationConfig.greedy(1)).get(0);
        assertArrayEquals(kept, other.steps().get(0).kept());
        assertThrows(PruneException.class, () -> reg.create("visionzip:dominant=0,contextual=0"));
    }
}
