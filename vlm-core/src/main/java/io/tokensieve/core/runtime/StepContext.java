package io.tokensieve.core.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.tokensieve.core.model.LlamaAttention;
import io.tokensieve.core.model.LlamaDecoderLayer;
import io.tokensieve.core.model.LlamaRotaryEmbedding;
import io.tokensieve.core.prune.HookPoint;
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
 * The {@link PruneContext} of one step of one sample. Every array it hands out is created in the step's
 * manager, so a pruner's arithmetic never lands in the batch's or the weights' managers.
 */
final class StepContext implements PruneContext {
    private final Inference inf;
    private final SampleState s;
    private final PruneStep step;
    private final int stepIndex;
    private final NDManager mgr;
    private final NDArray batchHidden; // [B, T, D] at layer steps, else null

    StepContext(Inference inf, SampleState s, PruneStep step, int stepIndex, NDManager mgr, NDArray batchHidden) {
        this.inf = inf;
        this.s = s;
        this.step = step;
        this.stepIndex = stepIndex;
        this.mgr = mgr;
        this.batchHidden = batchHidden;
    }

    private void require(Need need) {
        if (!step.needs(need)) {
            throw new PruneException("pruner " + s.prunerLabel() + " step " + step.name() + " at " + step.hook()
                    + " read " + need + " without declaring it");
        }
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
        return s.prunerLabel();
    }

    @Override
    public int sampleIndex() {
        return s.index;
    }

    @Override
    public ModelShape model() {
        return inf.shape();
    }

    @Override
    public int visualTotal() {
        return s.visualTotal;
    }

    @Override
    public List<ImageSpan> images() {
        return s.spans;
    }

    @Override
    public TokenOrigin origin(int v) {
        return s.origins[v];
    }

    @Override
    public int[] live() {
        return step.hook().isLayer() ? s.seq.liveVisual() : s.live.clone();
    }

    @Override
    public ResolvedBudget budget() {
        return s.budget;
    }

    @Override
    public long seed() {
        return s.pruner == null ? 0 : s.pruner.seed();
    }

    @Override
    public Random random() {
        return PruneContext.stepRandom(seed(), step.hook(), stepIndex);
    }

    @Override
    public SequenceLayout sequence() {
        return step.hook().isLayer() ? s.seq : inf.plannedLayout(s);
    }

    @Override
    public SequenceLayout prompt() {
        return s.prompt;
    }

    @Override
    public NDArray hidden() {
        require(Need.HIDDEN_STATES);
        if (step.hook().isLayer()) {
            return batchHidden.get(mgr, new NDIndex("{}, :{}", s.index, s.seq.size()));
        }
        return view(s.liveRows);
    }

    @Override
    public NDArray attention(int layer) {
        require(Need.ATTENTION);
        if (!step.attentionLayers().contains(layer)) {
            throw new PruneException("pruner " + s.prunerLabel() + " step " + step.name() + " read the attention of layer "
                    + layer + " but declared only layers " + step.attentionLayers());
        }
        NDArray probs = inf.retainedAttention(layer);
        int t = s.layoutAt[layer].size();
        return probs.get(mgr, new NDIndex("{}, :, :{}, :{}", s.index, t, t));
    }

    @Override
    public SequenceLayout sequenceAt(int layer) {
        if (!step.hook().isLayer() || layer >= step.hook().layer() || layer < 0) {
            throw new PruneException("pruner " + s.prunerLabel() + " step " + step.name() + " at " + step.hook()
                    + " asked for the layout of layer " + layer + ", which has not run");
        }
        return s.layoutAt[layer];
    }

    @Override
    public NDArray keys(int layer) {
        require(Need.KEYS);
        sequenceAt(layer);
        int t = s.layoutAt[layer].size();
        return inf.cache(layer).keys().get(mgr, new NDIndex("{}, :, :{}, :", s.index, t));
    }

    @Override
    public NDArray nextLayerAttentionRow(int slot) {
        require(Need.NEXT_LAYER_ATTENTION_ROW);
        if (!step.hook().isLayer()) {
            throw new PruneException("pruner " + s.prunerLabel() + ": NEXT_LAYER_ATTENTION_ROW needs a BEFORE_LAYER hook");
        }
        SequenceLayout seq = s.seq;
        if (slot < 0 || slot >= seq.size()) {
            throw new PruneException("pruner " + s.prunerLabel() + " asked for the attention row of slot " + slot
                    + " of a " + seq.size() + "-slot sequence");
        }
        LlamaDecoderLayer layer = inf.model().languageModel().layer(step.hook().layer());
        LlamaAttention attn = layer.selfAttn();
        NDArray h = batchHidden.get(mgr, new NDIndex("{}, :{}", s.index, slot + 1)).expandDims(0); // [1, t, D]
        NDArray x = layer.inputLayernorm().forward(h);
        long[][] pos = {java.util.Arrays.copyOf(seq.positions(), slot + 1)};
        LlamaRotaryEmbedding.Rope rope = inf.model().languageModel().rotary().forPositions(mgr, pos);
        NDArray q = attn.queries(x, rope).get(new NDIndex(":, :, {}:, :", slot)); // [1, H, 1, hd]
        NDArray k = attn.keys(x, rope); // [1, Hkv, t, hd]
        int g = attn.heads() / attn.kvHeads();
        NDArray qg = q.reshape(1, attn.kvHeads(), g, attn.headDim()); // [1, Hkv, g, hd]
        NDArray scores = qg.matMul(k.transpose(0, 1, 3, 2)).mul((float) (1 / Math.sqrt(attn.headDim()))); // [1, Hkv, g, t]
        return scores.softmax(-1).reshape(attn.heads(), slot + 1); // [H, t]
    }

    @Override
    public VisionView vision() {
        require(Need.VISION_INTERNALS);
        return new VisionView() {
            @Override
            public int layers() {
                return inf.shape().visionLayers();
            }

            @Override
            public int featureLayer() {
                return inf.shape().featureLayer();
            }

            @Override
            public NDArray hidden(int image, int index) {
                return inf.visionHidden(index).get(mgr, new NDIndex("{}", s.imageOffset + checkImage(image)));
            }

            @Override
            public NDArray attention(int image, int layer) {
                NDArray h = inputOf(image, layer);
                return inf.model().visionTower().layer(layer).attentionProbabilities(h).squeeze(0);
            }

            @Override
            public NDArray queries(int image, int layer) {
                return inf.model().visionTower().layer(layer).queries(inputOf(image, layer)).squeeze(0);
            }

            @Override
            public NDArray keys(int image, int layer) {
                return inf.model().visionTower().layer(layer).keys(inputOf(image, layer)).squeeze(0);
            }

            @Override
            public int heads() {
                return inf.model().config().vision().numAttentionHeads();
            }

            private NDArray inputOf(int image, int layer) {
                // layer l reads hidden state l: every layer up to the one after the features can be evaluated
                int last = Math.min(inf.visionDepth(), inf.shape().visionLayers() - 1);
                if (layer < 0 || layer > last) {
                    throw new PruneException("pruner " + s.prunerLabel() + " asked for vision layer " + layer
                            + "; layers 0.." + last + " can be evaluated on this model");
                }
                return hidden(image, layer).expandDims(0); // [1, 1+n, Dv]
            }

            private int checkImage(int image) {
                if (image < 0 || image >= s.spans.size()) {
                    throw new PruneException("pruner " + s.prunerLabel() + " asked for image " + image + " of "
                            + s.spans.size());
                }
                return image;
            }
        };
    }

    @Override
    public NDArray textEmbeddings() {
        require(Need.TEXT_EMBEDDINGS);
        return view(inf.textEmbeddings(s));
    }

    @Override
    public NDArray projected() {
        require(Need.PROJECTOR);
        return view(inf.projectedAll(s));
    }

    @Override
    public UnaryOperator<NDArray> projector() {
        require(Need.PROJECTOR);
        return x -> inf.model().multiModalProjector().forward(x);
    }

    @Override
    public NDArray features() {
        require(Need.PROJECTOR);
        return view(s.features);
    }

    @Override
    public UnaryOperator<NDArray> finalNorm() {
        require(Need.FINAL_NORM);
        return x -> inf.model().languageModel().norm().forward(x);
    }

    @Override
    public long segTokenId() {
        return inf.segTokenId();
    }

    @Override
    public Map<String, Object> state() {
        return s.scratch;
    }

    @Override
    public NDManager manager() {
        return mgr;
    }

    HookPoint hook() {
        return step.hook();
    }
}
