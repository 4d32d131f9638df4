package io.tokensieve.pruners;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.RandomCheckpoint;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import io.tokensieve.core.weights.ModelWeights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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

    /** The tiny checkpoint with the [SEG] head and 3D embedding, but 8 decoder layers (the depth of sieve-tiny). */
    static VlmModel eightLayers(Path dir) throws IOException {
        RandomCheckpoint.write(dir, 17, true);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(dir.resolve("config.json").toFile());
        ((ObjectNode) config.get("text_config")).put("num_hidden_layers", 8);
        json.writeValue(dir.resolve("config.json").toFile(), config);
        try (ModelWeights w = ModelWeights.random(LlavaConfig.load(dir), 17, 0.1f, NDManager.newBaseManager())) {
            w.save(dir, Map.of("seed", "17", "kind", "random"));
        }
        return VlmModel.load(dir, Device.cpu());
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
