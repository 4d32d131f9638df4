package io.tokensieve.pruners;

import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.PositionPolicy;
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
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PruMerge: baselines.md section 6's IQR rule, merge and summary token, and both modes on a tiny model. */
class PruMergeTest {
    @TempDir
    Path tmp;

    @Test
    void quartilesInterpolateAndTheIqrRuleCountsOutliers() {
        float[] a = {4, 1, 3, 2};
        assertEquals(1.75, PruMergePruner.quantile(a, 0.25), 1e-12);
        assertEquals(3.25, PruMergePruner.quantile(a, 0.75), 1e-12);
        assertEquals(3.25 + 1.5 * 1.5, PruMergePruner.iqrThreshold(a), 1e-12);
        assertEquals(0, PruMergePruner.iqrCount(a));
        float[] spike = {1, 1, 1, 10, 1, 1, 1, 1};
        assertEquals(1, PruMergePruner.iqrCount(spike)); // Q1 = Q3 = 1: everything above 1 is an outlier
        float[] two = {0.01f, 0.02f, 0.015f, 0.3f, 0.012f, 0.018f, 0.25f, 0.011f, 0.014f};
        assertEquals(2, PruMergePruner.iqrCount(two));
        float[] shuffled = {0.25f, 0.011f, 0.3f, 0.014f, 0.01f, 0.018f, 0.02f, 0.012f, 0.015f};
        assertEquals(2, PruMergePruner.iqrCount(shuffled)); // invariant to permuting the patches
    }

    @Test
    void clsAttentionIsOneFullWidthHead() {
        float[] a = PruMergePruner.clsAttention(new float[] {1, 0}, new float[][] {{1, 0}, {0, 0}, {2, 0}});
        double s = Math.sqrt(2);
        double z = Math.exp(1 / s) + 1 + Math.exp(2 / s);
        assertArrayEquals(new float[] {(float) (Math.exp(1 / s) / z), (float) (1 / z), (float) (Math.exp(2 / s) / z)}, a, 1e-6f);
        assertEquals(1, PruMergePruner.qkLayer(1, 2)); // tiny: features at -2, the last layer reads them
        assertEquals(23, PruMergePruner.qkLayer(23, 24)); // LLaVA: layer 23 as in the reference
        assertEquals(3, PruMergePruner.qkLayer(4, 4)); // sieve-tiny: features from the last layer
    }

    @Test
    void keptPatchesFoldInTheirKeyNeighboursAndZSummarisesTheRest() {
        float[][] kn = {{1, 0}, {0.9f, 0.436f}, {0, 1}, {-1, 0}};
        for (int i = 0; i < kn.length; i++) {
            kn[i] = BaselineMath.normalized(kn[i]);
        }
        assertArrayEquals(new int[] {1, 2}, PruMergePruner.neighbours(kn, 0, 2));
        assertArrayEquals(new int[] {1, 2, 3}, PruMergePruner.neighbours(kn, 0, 32)); // fewer than 32: all others
        float[][] x = {{1, 0}, {0, 1}, {2, 2}, {4, 0}};
        float[] a = {0.4f, 0.3f, 0.2f, 0.1f};
        // y_0 = x_0 + a_1 x_1 + a_2 x_2: a non-negative combination of other patches on top of x_0
        assertArrayEquals(new float[] {1 + 0.4f, 0.3f + 0.4f}, PruMergePruner.merged(x, a, kn, 0, 2), 1e-6f);
        // z over the patches not kept (1 and 3)
        assertArrayEquals(new float[] {0.4f, 0.3f}, PruMergePruner.summary(x, a, new int[] {0, 2}), 1e-6f);
        // z goes into the first slot of the image that no kept patch holds (CLS's slot when CLS is a token)
        assertEquals(12, PruMergePruner.firstDropped(10, 10, new int[] {0, 1, 3}));
        assertEquals(10, PruMergePruner.firstDropped(10, 10, new int[] {1, 2}));
        assertEquals(10, PruMergePruner.firstDropped(10, 11, new int[] {0, 1, 2}));
    }

    @Test
    void uniformExtrasFollowPruMergePlusStride() {
        // 3 outliers on 64 patches: step floor(floor(64 / 3) / 3) = 7, samples 0, 7, ..., 56 (9 of them)
        assertArrayEquals(new int[] {0, 7, 14, 21, 28, 35, 42, 49, 56}, PruMergePruner.uniformExtras(64, 3, new int[0], 20));
        assertArrayEquals(new int[] {0, 14, 28, 42}, PruMergePruner.uniformExtras(64, 3, new int[0], 4)); // thinned evenly
        assertArrayEquals(new int[] {0, 21, 42}, PruMergePruner.uniformExtras(64, 0, new int[0], 5)); // no outliers: n / 1
        assertArrayEquals(new int[] {0, 14, 21, 35, 42, 49, 56}, PruMergePruner.uniformExtras(64, 3, new int[] {7, 28}, 7));
        float[] a = new float[64];
        Arrays.fill(a, 0.01f);
        a[9] = 0.2f;
        a[40] = 0.3f;
        // two outliers, then extras at step floor(32 / 3) = 10 (0, 10, 20, ...), thinned to the 3 still needed
        assertArrayEquals(new int[] {0, 9, 20, 40, 50}, PruMergePruner.adaptiveKeep(a, 5));
        assertArrayEquals(new int[] {40}, PruMergePruner.adaptiveKeep(a, 1));
    }

    private static GenerationResult ask(VlmModel m, VisualInput img, ConfiguredPruner p) {
        return m.generate(List.of(VlmRequest.of(m.promptIds("what color is the circle ?", 1), List.of(img), p)),
                GenerationConfig.greedy(1)).get(0);
    }

    @Test
    void adaptiveModeKeepsTheIqrOutliersAndFixedModeTheTopByClsAttention() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 80, 80, 9));
        PrunerRegistry reg = PrunerRegistry.defaultRegistry();
        int[] all = IntStream.range(0, 64).toArray();

        GenerationResult fixed = ask(m, img, reg.create("prumerge:keep=16"));
        float[] a = fixed.steps().get(0).scores();
        int[] kept = fixed.steps().get(0).kept();
        int[] top = Select.topK(a, all, 15);
        int z = IntStream.range(0, 64).filter(v -> Arrays.binarySearch(top, v) < 0).findFirst().orElseThrow();
        assertArrayEquals(Select.union(top, new int[] {z}), kept); // T - 1 by attention + z in the first free slot
        double patches = IntStream.range(0, 64).mapToDouble(v -> a[v]).sum();
        assertTrue(patches > 0.5 && patches < 1, "CLS's own share is inside the softmax: " + patches);
        GenerationResult plain = ask(m, img, TestPruners.fixed(HookPoint.VISION, kept, PositionPolicy.RENUMBER));
        assertFalse(Arrays.equals(plain.firstTokenLogits(), fixed.firstTokenLogits()), "no merge happened");

        GenerationResult adaptive = ask(m, img, reg.create("prumerge:keep=16,mode=adaptive"));
        assertArrayEquals(a, adaptive.steps().get(0).scores());
        int[] ak = adaptive.steps().get(0).kept();
        assertEquals(16, ak.length);
        double thr = PruMergePruner.iqrThreshold(a);
        int outliers = (int) IntStream.range(0, 64).filter(v -> a[v] > thr).count();
        assertTrue(outliers < 15, "the tiny model should leave room for uniform extras, outliers " + outliers);
        for (int v = 0; v < 64; v++) {
            if (a[v] > thr) {
                assertTrue(Arrays.binarySearch(ak, v) >= 0, "outlier " + v + " was dropped");
            }
        }
        int[] expected = PruMergePruner.adaptiveKeep(a, 15);
        int za = IntStream.range(0, 64).filter(v -> Arrays.binarySearch(expected, v) < 0).findFirst().orElseThrow();
        assertArrayEquals(Select.union(expected, new int[] {za}), ak);
        assertFalse(Arrays.equals(kept, ak), "adaptive mode kept the same tokens as fixed mode");
    }
}
