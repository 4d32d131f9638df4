package io.tokensieve.core.filter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.Need;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.ResolvedBudget;
import io.tokensieve.core.prune.SequenceLayout;
import io.tokensieve.core.prune.TokenOrigin;
import io.tokensieve.core.prune.VisionView;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;

/**
 * The {@link PruneContext} of one pre-LLM step of a filter call, built from the arrays the caller supplied.
 * The token layout is the images' tokens (image 0 first) followed by the text tokens, positions 0..L-1.
 * Every array handed out is a view in the step's manager, which the filter closes after the step.
 */
final class FilterContext implements PruneContext {
    private final FilterCall call;
    private final PruneStep step;
    private final int stepIndex;
    private final NDManager mgr;
    private final int[] live;
    private final NDArray liveRows; // [n, width] in live order

    FilterContext(FilterCall call, PruneStep step, int stepIndex, NDManager mgr, int[] live, NDArray liveRows) {
        this.call = call;
        this.step = step;
        this.stepIndex = stepIndex;
        this.mgr = mgr;
        this.live = live;
        this.liveRows = liveRows;
    }

    private void require(Need need) {
        if (!step.needs(need)) {
            throw new PruneException("pruner " + call.prunerId + " step " + step.name() + " at " + step.hook() + " read "
                    + need + " without declaring it");
        }
    }

    private PruneException inLlm(String what) {
        return new PruneException("pruner " + call.prunerId + " step " + step.name() + " asked for " + what
                + ", which exists only inside the LLM; run the pruner inside the runtime (VlmModel.generate)");
    }

    private NDArray view(NDArray a) {
        return a.get(mgr, new NDIndex(":"));
    }

    @Override
    public PruneStep step() {
        return step;
    }

    @Override
    public String prunerId() {
        return call.prunerId;
    }

    @Override
    public int sampleIndex() {
        return 0;
    }

    @Override
    public ModelShape model() {
        return call.shape;
    }

    @Override
    public int visualTotal() {
        return call.visualTotal;
    }

    @Override
    public List<ImageSpan> images() {
        return call.spans;
    }

    @Override
    public TokenOrigin origin(int v) {
        return call.origins[v];
    }

    @Override
    public int[] live() {
        return live.clone();
    }

    @Override
    public ResolvedBudget budget() {
        return call.budget;
    }

    @Override
    public long seed() {
        return call.seed;
    }

    @Override
    public Random random() {
        return PruneContext.stepRandom(call.seed, step.hook(), stepIndex);
    }

    @Override
    public SequenceLayout sequence() {
        return call.layout(live);
    }

    @Override
    public SequenceLayout prompt() {
        return call.prompt;
    }

    @Override
    public NDArray hidden() {
        require(Need.HIDDEN_STATES);
        return view(liveRows);
    }

    @Override
    public NDArray attention(int layer) {
        throw inLlm("the attention of decoder layer " + layer);
    }

    @Override
    public SequenceLayout sequenceAt(int layer) {
        throw inLlm("the layout of decoder layer " + layer);
    }

    @Override
    public NDArray keys(int layer) {
        throw inLlm("the keys of decoder layer " + layer);
    }

    @Override
    public NDArray nextLayerAttentionRow(int slot) {
        throw inLlm("an attention row of the next decoder layer");
    }

    @Override
    public VisionView vision() {
        require(Need.VISION_INTERNALS);
        return new SuppliedVision();
    }

    @Override
    public NDArray textEmbeddings() {
        require(Need.TEXT_EMBEDDINGS);
        return view(call.text);
    }

    @Override
    public NDArray projected() {
        require(Need.PROJECTOR);
        return view(call.embeddings);
    }

    @Override
    public UnaryOperator<NDArray> projector() {
        require(Need.PROJECTOR);
        return call.projector;
    }

    @Override
    public NDArray features() {
        require(Need.PROJECTOR);
        return view(call.features);
    }

    @Override
    public UnaryOperator<NDArray> finalNorm() {
        require(Need.FINAL_NORM);
        return call.finalNorm;
    }

    @Override
    public long segTokenId() {
        return call.segTokenId;
    }

    @Override
    public Map<String, Object> state() {
        return call.state;
    }

    @Override
    public NDManager manager() {
        return mgr;
    }

    /**
     * The vision internals the caller supplied: the CLS attention row and the keys of the layer that produces
     * the features, as one head. Attention tensors are {@code [1, 1+n, 1+n]} with only CLS's row (row 0) filled;
     * keys are {@code [1+n, K]} with a zero CLS row.
     */
    private final class SuppliedVision implements VisionView {
        @Override
        public int layers() {
            return call.shape.visionLayers();
        }

        @Override
        public int featureLayer() {
            return call.shape.featureLayer();
        }

        private int checkLayer(int image, int layer) {
            if (image < 0 || image >= call.spans.size()) {
                throw new PruneException("pruner " + call.prunerId + " asked for image " + image + " of "
                        + call.spans.size());
            }
            if (layer != featureLayer() - 1) {
                throw new PruneException("pruner " + call.prunerId + " asked for vision layer " + layer + "; the filter "
                        + "holds only the supplied CLS attention and keys of the feature layer (" + (featureLayer() - 1)
                        + "), so the pruner must run inside the runtime");
            }
            return call.spans.get(image).count();
        }

        @Override
        public NDArray hidden(int image, int index) {
            throw new PruneException("pruner " + call.prunerId + " asked for vision hidden state " + index
                    + ", which the filter does not have; run the pruner inside the runtime");
        }

        @Override
        public NDArray attention(int image, int layer) {
            int n = checkLayer(image, layer);
            float[] cls = call.images.get(image).clsAttention();
            float[] flat = new float[(n + 1) * (n + 1)];
            System.arraycopy(cls, 0, flat, 1, n);
            return mgr.create(flat, new Shape(1, n + 1, n + 1));
        }

        @Override
        public NDArray queries(int image, int layer) {
            throw new PruneException("pruner " + call.prunerId + " asked for the vision tower's queries, which the "
                    + "filter does not have; run the pruner inside the runtime");
        }

        @Override
        public NDArray keys(int image, int layer) {
            checkLayer(image, layer);
            NDArray k = call.keys.get(image); // [n, K]
            NDArray cls = mgr.zeros(new Shape(1, k.getShape().get(1)));
            return cls.concat(view(k), 0); // [1+n, K]
        }

        @Override
        public int heads() {
            return 1;
        }
    }
}
