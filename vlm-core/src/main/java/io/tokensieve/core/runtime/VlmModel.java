package io.tokensieve.core.runtime;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.config.PreprocessorConfig;
import io.tokensieve.core.image.ClipImageProcessor;
import io.tokensieve.core.image.ImageException;
import io.tokensieve.core.model.LlavaForConditionalGeneration;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.text.PromptTemplate;
import io.tokensieve.core.text.SieveTokenizer;
import io.tokensieve.core.weights.ModelWeights;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A LLaVA-architecture model loaded from an HF-format folder ({@code config.json}, safetensors,
 * {@code tokenizer.json}, {@code preprocessor_config.json}), ready for inference. Thread-safe: requests
 * only read the weights, whose manager is capped so that no request can attach arrays to it.
 *
 * <pre>{@code
 * try (VlmModel m = VlmModel.load(Path.of("models/sieve-tiny"), Device.cpu())) {
 *     VlmRequest r = VlmRequest.of(m.promptIds("what color is the circle?", 1),
 *             List.of(m.image(Path.of("a.png"))), null);
 *     GenerationResult out = m.generate(List.of(r), GenerationConfig.greedy(16)).get(0);
 * }
 * }</pre>
 */
public final class VlmModel implements AutoCloseable {
    private final Path dir;
    private final LlavaConfig config;
    private final ModelWeights weights;
    private final LlavaForConditionalGeneration model;
    private final SieveTokenizer tokenizer;
    private final ClipImageProcessor processor;
    private final PromptTemplate template;
    private final Device device;
    private final long imageTokenId;
    private final long segTokenId;
    private final Set<Long> eosIds = new LinkedHashSet<>();

    private VlmModel(Path dir, LlavaConfig config, ModelWeights weights, SieveTokenizer tokenizer,
                     PreprocessorConfig pre, PromptTemplate template, Device device) {
        this.dir = dir;
        this.config = config;
        this.weights = weights;
        this.model = new LlavaForConditionalGeneration(config, weights);
        this.tokenizer = tokenizer;
        this.processor = new ClipImageProcessor(pre);
        this.template = template;
        this.device = device;
        this.imageTokenId = config.imageTokenIndex();
        this.segTokenId = config.extras().segTokenIndex();
        eosIds.add((long) config.text().eosTokenId());
        long eos = tokenizer.tokenId("</s>");
        if (eos >= 0) {
            eosIds.add(eos);
        }
    }

    /** Loads a model folder on {@code device} (weights strictly checked against config.json). */
    public static VlmModel load(Path dir, Device device) {
        if (!Files.isDirectory(dir)) {
            throw new io.tokensieve.core.config.ConfigException(dir + ": model folder not found");
        }
        LlavaConfig config = LlavaConfig.load(dir);
        PreprocessorConfig pre = PreprocessorConfig.load(dir);
        if (pre.cropHeight() != config.vision().imageSize() || pre.cropWidth() != config.vision().imageSize()) {
            throw new io.tokensieve.core.config.ConfigException(dir + ": preprocessor crop " + pre.cropHeight() + "x"
                    + pre.cropWidth() + " does not match the vision tower's image_size " + config.vision().imageSize());
        }
        SieveTokenizer tok = SieveTokenizer.load(dir);
        ModelWeights w = ModelWeights.load(dir, config, NDManager.newBaseManager(device));
        w.manager().cap();
        return new VlmModel(dir, config, w, tok, pre, PromptTemplate.LLAVA15, device);
    }

    /** Preprocesses one image file. */
    public VisualInput image(Path file) {
        return VisualInput.of(file.toString(), processor.preprocess(file));
    }

    /** Prompt ids for a question about {@code images} images (LLaVA-1.5 template, images first). */
    public long[] promptIds(String question, int images) {
        if (question == null || question.isBlank()) {
            throw new IllegalArgumentException("question is empty");
        }
        return tokenizer.encode(template.renderQuestion(question.strip(), images));
    }

    /** Prompt ids for ready-made user content holding its own image placeholders. */
    public long[] promptIdsForContent(String userContent) {
        return tokenizer.encode(template.render(userContent));
    }

    /** Runs a batch; results are in request order. */
    public List<GenerationResult> generate(List<VlmRequest> requests, GenerationConfig gen) {
        return new Inference(this).run(requests, gen);
    }

    public String decode(long[] ids) {
        return tokenizer.decode(ids);
    }

    public ModelShape shape() {
        var t = config.text();
        var v = config.vision();
        int[] fl = config.resolvedFeatureLayers();
        return new ModelShape(t.numHiddenLayers(), t.numAttentionHeads(), t.numKeyValueHeads(), t.headDim(),
                t.hiddenSize(), t.intermediateSize(), v.numHiddenLayers(), v.hiddenSize(), v.numAttentionHeads(),
                fl[fl.length - 1], config.tokensPerImage());
    }

    public Path dir() {
        return dir;
    }

    public LlavaConfig config() {
        return config;
    }

    public LlavaForConditionalGeneration model() {
        return model;
    }

    public ModelWeights weights() {
        return weights;
    }

    public SieveTokenizer tokenizer() {
        return tokenizer;
    }

    public ClipImageProcessor processor() {
        return processor;
    }

    public PromptTemplate template() {
        return template;
    }

    public Device device() {
        return device;
    }

    public long imageTokenId() {
        return imageTokenId;
    }

    /** Id of the [SEG] token, or -1 when the model has no mask head. */
    public long segTokenId() {
        return segTokenId;
    }

    public Set<Long> eosIds() {
        return eosIds;
    }

    /** Rejects requests whose images cannot feed this model (wrong crop size). */
    void check(VisualInput v) {
        int s = config.vision().imageSize();
        if (v.pixels().height() != s || v.pixels().width() != s) {
            throw new ImageException(v.name() + ": preprocessed to " + v.pixels().width() + "x" + v.pixels().height()
                    + " but the vision tower expects " + s + "x" + s);
        }
    }

    @Override
    public void close() {
        tokenizer.close();
        weights.close();
    }
}
