package io.tokensieve.eval.run;

import io.tokensieve.core.image.PixelValues;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.mask.LabelMask;
import io.tokensieve.datasets.scene.SceneGeometry;
import io.tokensieve.datasets.scene.SceneViews;
import io.tokensieve.eval.EvalException;
import io.tokensieve.eval.Prediction;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the model on one sample the way its benchmark expects: the sample's prompt with its images;
 * multi-view 3D samples get per-patch xyz origins when the model has a 3D position embedding;
 * segmentation samples follow LISA's protocol (the {@code [SEG]} token teacher-forced as the answer, one
 * pass, no generation) and their mask logits become a source-resolution mask.
 */
public final class SampleInference {
    private final VlmModel model;
    private final ConfiguredPruner pruner;
    private final GenerationConfig generation;

    /** The outcome: what the scorer sees and what the runtime measured. */
    public record Outcome(Prediction prediction, GenerationResult result) {}

    public SampleInference(VlmModel model, ConfiguredPruner pruner, GenerationConfig generation) {
        this.model = model;
        this.pruner = pruner;
        this.generation = generation;
    }

    /** A sample's images and prompt ids, ready to run under any pruner. */
    public record Prepared(Sample sample, List<VisualInput> images, long[] ids, boolean segmentation) {}

    public Outcome run(Sample s, boolean segmentation) {
        return run(prepare(model, s, segmentation), pruner);
    }

    /** Decodes and preprocesses a sample once (images, xyz origins, prompt ids). */
    public static Prepared prepare(VlmModel model, Sample s, boolean segmentation) {
        List<VisualInput> images = new ArrayList<>();
        boolean scene = model.config().extras().positionEmbedding3d() && s.extra().containsKey(SceneViews.VIEWS);
        int grid = model.config().vision().gridSize();
        for (int i = 0; i < s.images().size(); i++) {
            Path p = s.images().get(i);
            PixelValues pv = model.processor().preprocess(p);
            float[][] xyz = scene ? SceneGeometry.patchXyz(s, i, pv, grid) : null;
            images.add(new VisualInput(p.toString(), pv, xyz));
        }
        return new Prepared(s, images, model.promptIdsForContent(s.prompt()), segmentation);
    }

    /** Runs a prepared sample under {@code pruner} (null = unpruned). */
    public Outcome run(Prepared p, ConfiguredPruner pruner) {
        Sample s = p.sample();
        List<VisualInput> images = p.images();
        long[] ids = p.ids();
        if (!p.segmentation()) {
            GenerationResult r = model.generate(List.of(VlmRequest.of(ids, images, pruner)), generation).get(0);
            return new Outcome(Prediction.text(r.text()), r);
        }
        if (model.segTokenId() < 0) {
            throw new EvalException(model.dir() + ": the model has no [SEG] mask head, so it cannot run " + s.format());
        }
        Segmented seg = segment(model, ids, images, pruner);
        if (seg.mask() == null) {
            throw new EvalException("sample " + s.id() + ": the model returned no mask logits");
        }
        return new Outcome(Prediction.mask(seg.mask()), seg.result());
    }

    /** A segmentation pass: the first image's mask at its source resolution (null if the model gave none). */
    public record Segmented(LabelMask mask, GenerationResult result) {}

    /**
     * Runs prompt {@code ids} with the answer forced to {@code [SEG]} (the model must have a mask head) and decodes
     * the mask of the first image: the one path for {@code sieve eval} and {@code sieve ask --mask-out}.
     */
    public static Segmented segment(VlmModel model, long[] ids, List<VisualInput> images, ConfiguredPruner pruner) {
        VlmRequest req = new VlmRequest(ids, images, pruner, new long[] {model.segTokenId()});
        GenerationResult r = model.generate(List.of(req), GenerationConfig.greedy(0)).get(0);
        LabelMask mask = r.maskLogits() == null ? null
                : MaskDecoder.toSourceMask(r.maskLogits(), r.maskGrid()[0], r.maskGrid()[1], images.get(0).pixels());
        return new Segmented(mask, r);
    }
}
