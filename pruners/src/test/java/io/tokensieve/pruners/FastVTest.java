package io.tokensieve.pruners;

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
import static org.junit.jupiter.api.Assertions.assertTrue;

/** FastV: the spec's hand-worked cases and its behaviour on a tiny model. */
class FastVTest {
    @TempDir
    Path tmp;

    @Test
    void handBuiltTopK() {
        // fastv.md property 2: head means [0.2, 0.3, 0.2, 0.3]
        float[] mean = FastVPruner.headMean(new float[][] {{0.1f, 0.4f, 0.2f, 0.3f}, {0.3f, 0.2f, 0.2f, 0.3f}});
        assertArrayEquals(new float[] {0.2f, 0.3f, 0.2f, 0.3f}, mean, 1e-7f);
        int[] all = {0, 1, 2, 3};
        assertArrayEquals(new int[] {1, 3}, Select.topK(mean, all, 2));
        assertArrayEquals(new int[] {0, 1, 3}, Select.topK(mean, all, 3)); // tie 0 vs 2 -> lower index
    }

    private GenerationResult ask(VlmModel m, VisualInput img, String spec) {
        return m.generate(List.of(VlmRequest.of(m.promptIds("what color is the circle ?", 1), List.of(img),
                spec == null ? null : PrunerRegistry.defaultRegistry().create(spec))), GenerationConfig.greedy(3)).get(0);
    }

    @Test
    void countsPerLayerAndIdentityAtKeepAll() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 80, 80, 1));
        GenerationResult base = ask(m, img, null);
        GenerationResult q = ask(m, img, "fastv:layer=2,keep=0.25");
        assertArrayEquals(new int[] {64, 64, 16, 16}, q.visualTokensPerLayer());
        int text = base.promptTokens() - base.visualTokens();
        assertArrayEquals(new int[] {text + 64, text + 64, text + 16, text + 16}, q.tokensPerLayer());
        GenerationResult r = ask(m, img, "fastv:layer=1,keep=10");
        assertArrayEquals(new int[] {64, 10, 10, 10}, r.visualTokensPerLayer());
        GenerationResult all = ask(m, img, "fastv:layer=2,keep=1.0");
        assertArrayEquals(base.firstTokenLogits(), all.firstTokenLogits());
        assertArrayEquals(base.outputIds(), all.outputIds());
        // the kept set is the top of the trace's scores
        float[] s = q.steps().get(0).scores();
        int[] kept = q.steps().get(0).kept();
        float minKept = Float.MAX_VALUE;
        for (int v : kept) {
            minKept = Math.min(minKept, s[v]);
        }
        for (int v = 0; v < 64; v++) {
            if (Arrays.binarySearch(kept, v) < 0) {
                assertTrue(s[v] <= minKept, "dropped token " + v + " outranks a kept one");
            }
        }
    }

    @Test
    void positionModesAndScoreModesDiffer() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 80, 80, 2));
        GenerationResult keep = ask(m, img, "fastv:layer=2,keep=0.25");
        GenerationResult ren = ask(m, img, "fastv:layer=2,keep=0.25,position=renumber");
        assertArrayEquals(keep.steps().get(0).kept(), ren.steps().get(0).kept());
        assertFalse(Arrays.equals(keep.firstTokenLogits(), ren.firstTokenLogits()));
        GenerationResult mean = ask(m, img, "fastv:layer=2,keep=0.25,score=mean");
        assertEquals(16, mean.steps().get(0).kept().length);
        assertFalse(Arrays.equals(keep.steps().get(0).kept(), mean.steps().get(0).kept()));
    }

    @Test
    void severalImagesAreRankedPerImage() {
        VlmModel m = TestModels.tiny();
        VisualInput a = m.image(TestModels.rgbPng(tmp, "a.png", 80, 80, 3));
        VisualInput b = m.image(TestModels.rgbPng(tmp, "b.png", 80, 80, 4));
        GenerationResult r = m.generate(List.of(VlmRequest.of(m.promptIds("compare them", 2), List.of(a, b),
                PrunerRegistry.defaultRegistry().create("fastv:layer=2,keep=8"))), GenerationConfig.greedy(1)).get(0);
        int[] kept = r.steps().get(0).kept();
        assertEquals(16, kept.length);
        assertEquals(8, Arrays.stream(kept).filter(v -> v < 64).count());
        GenerationResult req = m.generate(List.of(VlmRequest.of(m.promptIds("compare them", 2), List.of(a, b),
                PrunerRegistry.defaultRegistry().create("fastv:layer=2,keep=8,scope=request"))), GenerationConfig.greedy(1)).get(0);
        assertEquals(8, req.steps().get(0).kept().length);
    }
}
