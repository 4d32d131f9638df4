package io.tokensieve.pruners;

import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Requests on the tiny test models for the layer-wise pruners' tests. */
final class LayerRuns {
    private LayerRuns() {}

    static GenerationResult run(VlmModel m, List<VisualInput> images, String spec, int maxNew) {
        return m.generate(List.of(VlmRequest.of(m.promptIds("what is left of the red circle ?", images.size()), images,
                spec == null ? null : PrunerRegistry.defaultRegistry().create(spec))), GenerationConfig.greedy(maxNew))
                .get(0);
    }

    static VisualInput image(VlmModel m, Path dir, long seed) {
        return m.image(TestModels.rgbPng(dir, "img" + seed + ".png", 96, 80, seed));
    }

    /** Views with per-patch xyz origins (multi-view input), each view on its own part of a grid. */
    static List<VisualInput> views(VlmModel m, Path dir, int n) {
        List<VisualInput> out = new ArrayList<>();
        for (int v = 0; v < n; v++) {
            VisualInput plain = image(m, dir, 100 + v);
            float[][] xyz = new float[64][];
            for (int p = 0; p < 64; p++) {
                xyz[p] = new float[] {p % 8 * 0.2f + v, p / 8 * 0.2f, 1.0f + 0.1f * v};
            }
            out.add(new VisualInput("view" + v, plain.pixels(), xyz));
        }
        return out;
    }

    /** Text tokens entering each layer (must be the prompt's text at every layer). */
    static int[] textPerLayer(GenerationResult r) {
        int[] t = new int[r.tokensPerLayer().length];
        for (int l = 0; l < t.length; l++) {
            t[l] = r.tokensPerLayer()[l] - r.visualTokensPerLayer()[l];
        }
        return t;
    }
}
