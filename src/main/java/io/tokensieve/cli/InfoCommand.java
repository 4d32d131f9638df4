package io.tokensieve.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.config.PreprocessorConfig;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.SafetensorsReader;
import io.tokensieve.core.weights.TensorInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/** {@code sieve info}: what a model folder holds, read from its files without loading weights into memory. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Describe a model folder.")
final class InfoCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() {
        Path dir = model.modelDir();
        LlavaConfig c = LlavaConfig.load(dir);
        PreprocessorConfig pre = PreprocessorConfig.load(dir);
        SafetensorsReader r = SafetensorsReader.openDir(dir);
        long params = 0;
        Map<String, Integer> dtypes = new TreeMap<>();
        boolean legacy = false;
        for (TensorInfo t : r.tensors().values()) {
            params += t.numel();
            dtypes.merge(t.dtype().name(), 1, Integer::sum);
            legacy |= !CheckpointKeys.canonical(t.name()).equals(t.name());
        }
        ObjectNode o = Jsons.MAPPER.createObjectNode();
        o.put("model", dir.toString());
        o.put("architecture", LlavaConfig.ARCHITECTURE);
        ObjectNode v = o.putObject("vision");
        v.put("hidden_size", c.vision().hiddenSize());
        v.put("layers", c.vision().numHiddenLayers());
        v.put("heads", c.vision().numAttentionHeads());
        v.put("image_size", c.vision().imageSize());
        v.put("patch_size", c.vision().patchSize());
        v.put("feature_layers", c.visionFeatureLayers().toString());
        v.put("feature_select", c.visionFeatureSelectStrategy());
        ObjectNode t = o.putObject("text");
        t.put("hidden_size", c.text().hiddenSize());
        t.put("layers", c.text().numHiddenLayers());
        t.put("heads", c.text().numAttentionHeads());
        t.put("kv_heads", c.text().numKeyValueHeads());
        t.put("intermediate_size", c.text().intermediateSize());
        t.put("vocab_size", c.text().vocabSize());
        t.put("rope_theta", c.text().ropeTheta());
        t.put("max_positions", c.text().maxPositionEmbeddings());
        t.put("tied_embeddings", c.text().tieWordEmbeddings());
        o.put("visual_tokens_per_image", c.tokensPerImage());
        o.put("image_token_index", c.imageTokenIndex());
        o.put("projector_act", c.projectorHiddenAct());
        o.put("parameters", params);
        o.put("tensors", r.tensors().size());
        o.put("dtypes", dtypes.toString());
        o.put("key_layout", legacy ? "legacy (language_model.model.*)" : "current (model.language_model.*)");
        o.put("preprocess", "shortest_edge=" + pre.shortestEdge() + ", crop=" + pre.cropHeight() + "x" + pre.cropWidth());
        ObjectNode ex = o.putObject("extras");
        ex.put("seg_token_index", c.extras().segTokenIndex());
        ex.put("position_embedding_3d", c.extras().positionEmbedding3d());
        ex.put("position_embedding_2d", c.extras().positionEmbedding2d());
        ex.put("position_embedding_2d_after_projector", c.extras().positionEmbedding2dAfterProjector());
        if (json) {
            System.out.println(Jsons.pretty(o));
        } else {
            System.out.printf("%s: %s%n", dir, LlavaConfig.ARCHITECTURE);
            System.out.printf("  vision: CLIP ViT %d layers, width %d, %d heads, %dpx / patch %d -> %d visual tokens, "
                            + "features from layer %s (%s)%n", c.vision().numHiddenLayers(), c.vision().hiddenSize(),
                    c.vision().numAttentionHeads(), c.vision().imageSize(), c.vision().patchSize(), c.tokensPerImage(),
                    c.visionFeatureLayers(), c.visionFeatureSelectStrategy());
            System.out.printf("  text: LLaMA %d layers, width %d, %d heads (%d kv), FFN %d, vocab %d, rope theta %.0f%n",
                    c.text().numHiddenLayers(), c.text().hiddenSize(), c.text().numAttentionHeads(),
                    c.text().numKeyValueHeads(), c.text().intermediateSize(), c.text().vocabSize(), c.text().ropeTheta());
            System.out.printf("  parameters: %,d in %d tensors %s, key layout %s%n", params, r.tensors().size(), dtypes,
                    legacy ? "legacy" : "current");
            System.out.printf("  extras: [SEG] mask head %s, 3D position embedding %s, 2D position embedding %s%n",
                    c.extras().hasSegHead() ? "yes (token " + c.extras().segTokenIndex() + ")" : "no",
                    c.extras().positionEmbedding3d() ? "yes" : "no",
                    c.extras().positionEmbedding2dAfterProjector() ? "yes (after the projector)"
                            : c.extras().positionEmbedding2d() ? "yes" : "no");
        }
        return 0;
    }
}
