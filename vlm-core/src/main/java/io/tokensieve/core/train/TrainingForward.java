package io.tokensieve.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.model.ClipVisionModel;
import io.tokensieve.core.model.LlamaDecoderLayer;
import io.tokensieve.core.model.LlamaModel;
import io.tokensieve.core.model.LlamaRotaryEmbedding;
import io.tokensieve.core.model.LlavaForConditionalGeneration;
import io.tokensieve.core.model.Ops;

import java.util.ArrayList;
import java.util.List;

/**
 * The teacher-forced training pass of a batch, through the same model classes as inference: vision
 * tower, optional 3D position embedding, projector, decoder layers, LM head, and the mask head for
 * examples with a segmentation target. Returns the losses as NDArrays (in the batch's manager) so that
 * a GradientCollector can differentiate them.
 */
public final class TrainingForward {
    private static final float MASKED = -1e9f;

    private final LlavaForConditionalGeneration model;
    private final LlavaConfig cfg;
    private final float segWeight;
    private final AuxPatchHead aux;
    private final float auxWeight;
    private int[][] labelTokens;
    private float groundWeight;
    private float promptWeight;
    private float pointWeight;
    private int[] pointLayers = new int[0];
    private int pointHeads;
    private String unpointedSecondTrack; // examples of this track point their second targets with the unpointed heads
    private float questionPointWeight = 1f;
    private AuxPatchHead readout;
    private int readoutLayers;
    private float readoutWeight;
    private AuxPatchHead lookup;
    private float lookupWeight;
    private float valuePositionWeight;
    private boolean lengthGroups = true;

    public TrainingForward(LlavaForConditionalGeneration model, float segWeight) {
        this(model, segWeight, null, 0);
    }

    /**
     * With a training-only per-patch head on the vision features (and, for its kinds from
     * {@link AuxPatchHead#tokenKindsFrom()} on, the projected tokens), weighted {@code auxWeight} (null = none).
     */
    public TrainingForward(LlavaForConditionalGeneration model, float segWeight, AuxPatchHead aux, float auxWeight) {
        this.model = model;
        this.cfg = model.config();
        this.segWeight = segWeight;
        this.aux = aux;
        this.auxWeight = auxWeight;
    }

    /**
     * Adds a grounding loss on the projected visual tokens: each labelled patch's token, compared by cosine
     * with every row of the text embedding table, must pick out the words of its labels (cross-entropy, one term
     * per label kind). {@code labelTokens[kind][class]} is the token id of a label's word, or -1 for classes
     * without one (background). It places visual tokens in the space of the words that describe them, so the
     * decoder can match question words against image tokens from the first steps.
     */
    public TrainingForward withGrounding(int[][] labelTokens, float weight) {
        this.labelTokens = labelTokens;
        this.groundWeight = weight;
        return this;
    }

    /**
     * Adds next-token cross-entropy on the prompt's text tokens, weighted {@code weight} (the answer loss keeps
     * weight 1). Most prompt words follow from the template, but the objects a question names mostly come from
     * the image, so this multiplies the supervised tokens per example and rewards reading the visual tokens.
     */
    public TrainingForward withPromptLoss(float weight) {
        this.promptWeight = weight;
        return this;
    }

    /**
     * Adds an attention-pointing loss: at every answer position with {@link TrainExample#pointing} targets, the first
     * {@code heads} query heads of each decoder layer in {@code layers} should put their attention on the target
     * visual tokens (the loss is {@code -log} of the attention mass there, averaged over positions, layers and heads).
     * Where an example gives second targets ({@link TrainExample#pointingSecond}), the second half of those heads
     * points there instead, so two things a question compares are looked at by different heads. Where it gives
     * groups ({@link TrainExample#pointingGroups}), the first answer position's term is instead the mean over the
     * groups of {@code -log} of each group's mass (least when the mass is shared evenly among them).
     * It teaches the decoder where to look directly, instead of leaving it to be discovered through the answer alone.
     */
    public TrainingForward withPointing(float weight, int[] layers, int heads) {
        for (int l : layers) {
            if (l < 0 || l >= cfg.text().numHiddenLayers()) {
                throw new IllegalArgumentException("pointing layer " + l + " is not a decoder layer (0.."
                        + (cfg.text().numHiddenLayers() - 1) + ")");
            }
        }
        if (heads < 1 || heads > cfg.text().numAttentionHeads()) {
            throw new IllegalArgumentException("pointing heads " + heads + " must be 1.." + cfg.text().numAttentionHeads());
        }
        this.pointWeight = weight;
        this.pointLayers = layers.clone();
        this.pointHeads = heads;
        return this;
    }

    /**
     * Weighs each pointing position of an example that is not a caption ({@link TrainExample#track}) {@code w} times
     * one of a caption's (default 1: every position alike). A caption points from every word of every object, a
     * question from its answer's first token alone, so the captions' lookups (mostly by colour, in their order) would
     * otherwise outweigh the questions' many times over, among them the few that name an object by its shape alone.
     */
    public TrainingForward withQuestionPointWeight(float w) {
        if (!(w > 0) || Float.isInfinite(w)) {
            throw new IllegalArgumentException("a question's pointing weight must be finite and above 0, got " + w);
        }
        this.questionPointWeight = w;
        return this;
    }

    /**
     * Sends the second pointing targets ({@link TrainExample#pointingSecond}) of examples of {@code track} to the
     * heads after the pointed ones (heads {@code heads .. 2 heads - 1} of {@link #withPointing}), instead of the second
     * half of the pointed heads: every pointed head keeps the first targets, and those other heads, which share no
     * key-value head with them where the query heads are grouped in halves, look at the second thing. Null for none.
     */
    public TrainingForward withUnpointedSecondTargets(String track) {
        if (track != null && 2 * pointHeads > cfg.text().numAttentionHeads()) {
            throw new IllegalArgumentException("second targets on the unpointed heads need " + 2 * pointHeads
                    + " heads, the decoder has " + cfg.text().numAttentionHeads() + " (call withPointing first)");
        }
        this.unpointedSecondTrack = track;
        return this;
    }

    /** The track of caption examples, whose pointing positions keep weight 1 ({@link #withQuestionPointWeight}). */
    public static final String CAPTION_TRACK = "caption";

    /**
     * Adds a read-out loss on the decoder's hidden state: at the position predicting the first answer token of every
     * example with {@link TrainExample#readout} labels, the hidden state after the first {@code layers} decoder layers,
     * divided by its root mean square, goes through {@code head}'s classifiers (one per label kind), weighted
     * {@code weight}. With the columns and rows of the two objects a relative-position question compares as labels,
     * the layers up to there must fetch each object's position apart, which an answer that depends only on their
     * order does not demand of them.
     */
    public TrainingForward withReadout(AuxPatchHead head, int layers, float weight) {
        if (layers < 1 || layers > cfg.text().numHiddenLayers()) {
            throw new IllegalArgumentException("read-out after " + layers + " decoder layers: the model has 1.."
                    + cfg.text().numHiddenLayers());
        }
        this.readout = head;
        this.readoutLayers = layers;
        this.readoutWeight = weight;
        return this;
    }

    /**
     * Adds a value-position loss on the pointed layers ({@link #withPointing}, which must come first): for each
     * example whose first image has no xyz origins (a single image or an in-context demo), the value vectors of that
     * image's visual tokens, through each pointed layer's own norm and value projection, in each key-value head the
     * pointed heads read, must hold the token's cell column and row, each mapped to [-1, 1], in their last two
     * dimensions (squared error, averaged over tokens, heads and both coordinates, then over layers), weighted
     * {@code weight}. What a pointed head returns is the mean of the values it attends to, so with this the heads
     * pointed at two compared objects return the two objects' positions along a line a later layer can subtract on.
     * Which two dimensions is arbitrary: the value and output projections are learned and rotate freely.
     */
    public TrainingForward withValuePosition(float weight) {
        if (pointLayers.length == 0) {
            throw new IllegalStateException("the value-position loss works on the pointed layers: call withPointing first");
        }
        this.valuePositionWeight = weight;
        return this;
    }

    /**
     * Adds a key-lookup loss on the pointed layers ({@link #withPointing}, which must come first): for each example's
     * first image with patch labels and each value of the first {@link #LOOKUP_KINDS} label kinds (colour, shape)
     * present in it, a learned query (row {@code v} of {@code queries}' weight of kind {@code 2 * p + kind} for the
     * {@code p}-th pointed layer; width the head dimension; row 0, background, unused) rotated as a query at the
     * position predicting the example's first answer token, must put its attention, a softmax over the image's visual
     * tokens through each key-value head the pointed heads read, on the patches with that value ({@code -log} of the
     * mass, averaged over images, values and key-value heads, then over layers), weighted {@code weight}. The pointing
     * loss asks the keys for what a question names an object by only through the decoder's own queries; this asks the
     * keys directly, so a query for "the triangle" has keys to find.
     */
    public TrainingForward withKeyLookup(AuxPatchHead queries, float weight) {
        if (pointLayers.length == 0) {
            throw new IllegalStateException("the key-lookup loss works on the pointed layers: call withPointing first");
        }
        if (queries.kinds() != LOOKUP_KINDS * pointLayers.length) {
            throw new IllegalArgumentException("key-lookup queries have " + queries.kinds() + " kinds, the "
                    + pointLayers.length + " pointed layers need " + LOOKUP_KINDS * pointLayers.length);
        }
        long hd = cfg.text().headDim();
        for (int k = 0; k < queries.kinds(); k++) {
            if (queries.weight(k).getShape().get(1) != hd) {
                throw new IllegalArgumentException("key-lookup queries are " + queries.weight(k).getShape().get(1)
                        + " wide, the decoder's heads " + hd);
            }
        }
        this.lookup = queries;
        this.lookupWeight = weight;
        return this;
    }

    /** Label kinds the key-lookup loss asks the keys for: the first two of an image's patch labels (colour, shape). */
    public static final int LOOKUP_KINDS = 2;

    /** Key-value heads that the first {@code pointHeads} of {@code heads} query heads read, of {@code kvHeads}. */
    static int pointedKvHeads(int pointHeads, int heads, int kvHeads) {
        int group = heads / kvHeads;
        return (pointHeads + group - 1) / group;
    }

    /**
     * Whether the decoder runs sequences of different lengths in groups, each padded to its own longest
     * ({@link RowLayout#grouped}; the default), or all padded to the batch's longest. The losses are the same either way
     * (attention never crosses sequences); grouping saves the padded work when a batch mixes one-image and
     * multi-image examples.
     */
    public TrainingForward withLengthGroups(boolean on) {
        this.lengthGroups = on;
        return this;
    }

    /**
     * Decoder rows of a batch (sequences times their padded length): {@code [with length groups, padded to the longest]}.
     * What {@link #withLengthGroups} saves.
     */
    public long[] decoderRows(List<TrainExample> batch) {
        int[] lens = lengths(batch);
        return new long[] {RowLayout.grouped(lens).rows(), RowLayout.single(lens).rows()};
    }

    private RowLayout layout(List<TrainExample> batch) {
        int[] lens = lengths(batch);
        return lengthGroups ? RowLayout.grouped(lens) : RowLayout.single(lens);
    }

    /** Slots of each example's sequence: prompt and answer tokens, a prompt's image token counting as its patches. */
    private int[] lengths(List<TrainExample> batch) {
        long imageId = cfg.imageTokenIndex();
        int per = cfg.vision().numPatches();
        int[] lens = new int[batch.size()];
        for (int i = 0; i < lens.length; i++) {
            TrainExample e = batch.get(i);
            for (long id : e.promptIds()) {
                lens[i] += id == imageId ? per : 1;
            }
            lens[i] += e.answerIds().length;
        }
        return lens;
    }

    /**
     * Losses of one batch: total (what to differentiate), LM cross-entropy, and each extra loss (0 when off or when the
     * batch has nothing it applies to): mask, patch-label head, grounding, prompt, pointing, read-out, key lookup and
     * value position.
     */
    public record Losses(NDArray total, NDArray lm, NDArray seg, NDArray aux, NDArray ground, NDArray prompt,
                         NDArray point, NDArray readout, NDArray lookup, NDArray value, int answerTokens,
                         int segExamples) {}

    public Losses forward(NDManager mgr, List<TrainExample> batch) {
        return forward(mgr, batch, null);
    }

    /**
     * Where the decoder looks: for each example, at its first answer position with {@link TrainExample#pointing}
     * targets, the attention mass every head of every decoder layer puts on those target visual tokens,
     * {@code [example][layer][head]} (null for an example without targets). Computes no loss; works with or without
     * {@link #withPointing}.
     */
    public float[][][] pointingMass(NDManager mgr, List<TrainExample> batch) {
        float[][][] out = new float[batch.size()][][];
        forward(mgr, batch, out);
        return out;
    }

    /**
     * What the decoder holds where it answers: for each example, the hidden state at the position predicting its first
     * answer token, before the first decoder layer (the embedded token) and after each layer,
     * {@code [example][0..layers][D]} (before the final norm). Computes no loss.
     */
    public float[][][] answerHidden(NDManager mgr, List<TrainExample> batch) {
        Keep keep = new Keep(new float[batch.size()][][], false);
        forward(mgr, batch, null, keep);
        return keep.out();
    }

    /**
     * What the decoder holds where its first image's visual tokens sit: for each example, the hidden states at those
     * slots, before the first decoder layer (the projected tokens) and after each layer,
     * {@code [example][0..layers][N * D]} (patches in raster order; null for an example without an image). Computes
     * no loss.
     */
    public float[][][] visualHidden(NDManager mgr, List<TrainExample> batch) {
        Keep keep = new Keep(new float[batch.size()][][], true);
        forward(mgr, batch, null, keep);
        return keep.out();
    }

    /** Hidden states to keep instead of computing losses: at each example's answer row, or at its first image's slots. */
    private record Keep(float[][][] out, boolean visual) {}

    private Losses forward(NDManager mgr, List<TrainExample> batch, float[][][] massOut) {
        return forward(mgr, batch, massOut, null);
    }

    /**
     * With {@code massOut} non-null: fills it as {@link #pointingMass} describes and returns null, no losses; likewise
     * with {@code keep} non-null, as {@link #answerHidden} or {@link #visualHidden} describes.
     */
    private Losses forward(NDManager mgr, List<TrainExample> batch, float[][][] massOut, Keep keep) {
        boolean pointed = pointWeight > 0 || massOut != null;
        int b = batch.size();
        long imageId = cfg.imageTokenIndex();
        int per = cfg.vision().numPatches();
        int size = cfg.vision().imageSize();
        long d = cfg.text().hiddenSize();

        // ---- vision: every image of the batch at once ----
        List<float[]> imgs = new ArrayList<>();
        for (TrainExample e : batch) {
            imgs.addAll(e.images());
        }
        int nImg = imgs.size();
        NDArray vis = null; // [I*N, D]
        NDArray tokens = null; // [I*N, D], what the decoder reads (vis, plus a 2D embedding after the projector)
        NDArray patchFeats = null; // [I, N, Dv]
        NDArray px = null; // [I, 3, H, W]
        if (nImg > 0) {
            float[] flat = new float[nImg * 3 * size * size];
            for (int i = 0; i < nImg; i++) {
                System.arraycopy(imgs.get(i), 0, flat, i * 3 * size * size, 3 * size * size);
            }
            px = mgr.create(flat, new Shape(nImg, 3, size, size)); // [I, 3, H, W]
            int[] fl = cfg.resolvedFeatureLayers();
            List<NDArray> hs = model.visionTower().hiddenStates(px, java.util.Arrays.stream(fl).max().orElse(0));
            NDArray f = ClipVisionModel.select(hs, fl).get(":, 1:, :"); // [I, N, Dv'] (CLS dropped)
            patchFeats = hs.get(fl[0]).get(":, 1:, :"); // [I, N, Dv] for the mask head
            f = addPositions(mgr, batch, f); // the extras' 3D / 2D position embeddings
            vis = model.multiModalProjector().forward(f).reshape(-1, d); // [I*N, D], what the patch losses read
            tokens = model.addProjectedPositionEmbedding(mgr, vis, cells(batch, (int) f.getShape().get(1))); // [I*N, D]
        }

        // ---- sequences: prompt + answer, images expanded ----
        List<long[]> seqs = new ArrayList<>();
        for (TrainExample e : batch) {
            long[] s = new long[e.promptIds().length + e.answerIds().length];
            System.arraycopy(e.promptIds(), 0, s, 0, e.promptIds().length);
            System.arraycopy(e.answerIds(), 0, s, e.promptIds().length, e.answerIds().length);
            seqs.add(s);
        }
        RowLayout lay = layout(batch);
        List<Long> textIds = new ArrayList<>();
        long[] gather = new long[(int) lay.rows()];
        List<Long> lossRows = new ArrayList<>();
        List<Long> lossTargets = new ArrayList<>();
        List<Long> promptRows = new ArrayList<>();
        List<Long> promptTargets = new ArrayList<>();
        List<Long> segRows = new ArrayList<>();
        List<Integer> segExamples = new ArrayList<>();
        List<Integer> segImages = new ArrayList<>();
        List<Long> pointRows = new ArrayList<>(); // (b * T + q) of positions with attention targets
        List<int[]> pointKeys = new ArrayList<>(); // their target slots
        List<int[]> pointSecondKeys = new ArrayList<>(); // target slots of the second half of the heads, or null
        List<Integer> pointExamples = new ArrayList<>(); // their example
        List<Float> pointShares = new ArrayList<>(); // their share of the example's position (1, or 1 / groups)
        List<Long> readoutRows = new ArrayList<>(); // (b * T + q) of positions predicting a first answer token
        List<int[]> readoutLabels = new ArrayList<>(); // their labels
        boolean lookedUp = lookup != null && massOut == null && keep == null;
        List<long[]> lookupRows = new ArrayList<>(); // per labelled image: the rows of its visual tokens
        List<int[][]> lookupLabels = new ArrayList<>(); // its colour and shape labels
        List<Long> lookupPositions = new ArrayList<>(); // the position predicting its example's first answer token
        boolean valued = valuePositionWeight > 0 && massOut == null && keep == null;
        List<long[]> valueRows = new ArrayList<>(); // per 2D first image: the rows of its visual tokens
        long[][] keepRows = new long[b][]; // per example: the decoder rows whose hidden states {@code keep} wants
        long segId = cfg.extras().segTokenIndex();
        int imageCursor = 0;
        // index layout of the source matrix: [text rows][visual rows][one zero row]
        List<int[]> textSlots = new ArrayList<>(); // (b, slot, textRow)
        for (int i = 0; i < b; i++) {
            TrainExample e = batch.get(i);
            long[] s = seqs.get(i);
            int slot = 0;
            int firstImage = imageCursor;
            int answerStart = e.promptIds().length;
            List<Integer> visualSlots = new ArrayList<>(); // slot of the example's k-th visual token
            for (int j = 0; j < s.length; j++) {
                long id = s[j];
                if (id == imageId && j < answerStart) {
                    for (int p = 0; p < per; p++) {
                        gather[(int) lay.row(i, slot)] = -(1 + (long) imageCursor * per + p); // visual row, resolved below
                        visualSlots.add(slot);
                        slot++;
                    }
                    imageCursor++;
                } else {
                    textSlots.add(new int[] {i, slot, textIds.size()});
                    textIds.add(id);
                    if (j >= answerStart && slot > 0) {
                        lossRows.add(lay.row(i, slot - 1)); // position predicting this token
                        lossTargets.add(id);
                        int k = j - answerStart;
                        if (k == 0 && keep != null && !keep.visual()) {
                            keepRows[i] = new long[] {lay.row(i, slot - 1)};
                        }
                        if (k == 0 && lookedUp && e.patchLabels() != null && !e.patchLabels().isEmpty()
                                && e.patchLabels().get(0) != null && visualSlots.size() >= per) {
                            long[] vr = new long[per];
                            for (int p = 0; p < per; p++) {
                                vr[p] = lay.row(i, visualSlots.get(p));
                            }
                            lookupRows.add(vr);
                            lookupLabels.add(java.util.Arrays.copyOf(e.patchLabels().get(0), LOOKUP_KINDS));
                            lookupPositions.add((long) slot - 1);
                        }
                        if (k == 0 && valued && e.xyz() == null && visualSlots.size() >= per) {
                            long[] vr = new long[per];
                            for (int p = 0; p < per; p++) {
                                vr[p] = lay.row(i, visualSlots.get(p));
                            }
                            valueRows.add(vr);
                        }
                        if (k == 0 && readout != null && e.readout() != null) {
                            if (e.readout().length != readout.kinds()) {
                                throw new IllegalArgumentException("read-out labels have " + e.readout().length
                                        + " kinds, the read-out head " + readout.kinds());
                            }
                            readoutRows.add(lay.row(i, slot - 1));
                            readoutLabels.add(e.readout());
                        }
                        if (pointed && k == 0 && e.pointingGroups() != null && massOut == null) {
                            // one row per group, each weighed 1 / groups: the loss is the cross-entropy of the
                            // groups' masses against an even share
                            for (int[] group : e.pointingGroups()) {
                                pointRows.add(lay.row(i, slot - 1));
                                pointKeys.add(slots(group, visualSlots));
                                pointSecondKeys.add(null);
                                pointExamples.add(i);
                                pointShares.add(1f / e.pointingGroups().length);
                            }
                        } else if (pointed && e.pointing() != null && k < e.pointing().length && e.pointing()[k] != null
                                && e.pointing()[k].length > 0) {
                            int[] keys = slots(e.pointing()[k], visualSlots);
                            int[][] second = e.pointingSecond();
                            int[] secondKeys = second != null && k < second.length && second[k] != null
                                    && second[k].length > 0 ? slots(second[k], visualSlots) : null;
                            pointRows.add(lay.row(i, slot - 1));
                            pointKeys.add(keys);
                            pointSecondKeys.add(secondKeys);
                            pointExamples.add(i);
                            pointShares.add(1f);
                        }
                    } else if (promptWeight > 0 && slot > 0 && id != segId) {
                        promptRows.add(lay.row(i, slot - 1));
                        promptTargets.add(id);
                    }
                    if (segId >= 0 && id == segId && j >= answerStart && e.segTarget() != null) {
                        segRows.add(lay.row(i, slot));
                        segExamples.add(i);
                        segImages.add(firstImage);
                    }
                    slot++;
                }
            }
            if (keep != null && keep.visual() && visualSlots.size() >= per) {
                keepRows[i] = new long[per];
                for (int p = 0; p < per; p++) {
                    keepRows[i][p] = lay.row(i, visualSlots.get(p));
                }
            }
            for (int q = slot; q < lay.width(i); q++) {
                gather[(int) lay.row(i, q)] = Long.MIN_VALUE; // padding, resolved below
            }
        }
        int nText = textIds.size();
        int nVis = nImg * per;
        for (int[] ts : textSlots) {
            gather[(int) lay.row(ts[0], ts[1])] = ts[2];
        }
        for (int k = 0; k < gather.length; k++) {
            if (gather[k] == Long.MIN_VALUE) {
                gather[k] = nText + nVis; // the zero row
            } else if (gather[k] < 0) {
                gather[k] = nText + (-gather[k] - 1);
            }
        }
        LlamaModel lm = model.languageModel();
        NDArray textEmb = lm.embed(mgr.create(textIds.stream().mapToLong(Long::longValue).toArray())); // [Tt, D]
        List<NDArray> parts = new ArrayList<>();
        parts.add(textEmb);
        if (tokens != null) {
            parts.add(tokens);
        }
        parts.add(mgr.zeros(new Shape(1, d)));
        NDArray source = NDArrays.concat(new NDList(parts.toArray(new NDArray[0])), 0); // [Tt + I*N + 1, D]
        NDArray flat = source.get(new NDIndex("{}", mgr.create(gather))); // [rows, D]
        int groups = lay.groups();
        NDArray[] h = new NDArray[groups]; // group g: [Bg, Tg, D]
        NDArray[] attnMask = new NDArray[groups];
        LlamaRotaryEmbedding.Rope[] rope = new LlamaRotaryEmbedding.Rope[groups];
        for (int g = 0; g < groups; g++) {
            long rowsOfGroup = (long) lay.size(g) * lay.groupWidth(g);
            h[g] = (groups == 1 ? flat : flat.get(lay.base(g) + ":" + (lay.base(g) + rowsOfGroup)))
                    .reshape(lay.size(g), lay.groupWidth(g), d);
            attnMask[g] = mgr.create(lay.causalMask(g, MASKED),
                    new Shape(lay.size(g), 1, lay.groupWidth(g), lay.groupWidth(g)));
            rope[g] = lm.rotary().forPositions(mgr, lay.positions(g));
        }

        // ---- decoder ----
        List<NDArray[]> pointProbs = new ArrayList<>(); // per pointed layer, per group [Bg, H, Tg, Tg]
        List<NDArray> lookupLosses = new ArrayList<>(); // per pointed layer, scalar
        List<NDArray> valueLosses = new ArrayList<>(); // per pointed layer, scalar
        NDArray readoutHidden = null; // [R, D]
        if (keep != null) {
            keepRows(mgr, flat, keepRows, keep.out(), 0, lm.layers().size() + 1);
        }
        for (int li = 0; li < lm.layers().size(); li++) {
            if (lookedUp && !lookupRows.isEmpty() && contains(pointLayers, li)) {
                lookupLosses.add(keyLookup(mgr, lm.layers().get(li), h, rope, indexOf(pointLayers, li), lookupRows,
                        lookupLabels, lookupPositions));
            }
            if (valued && !valueRows.isEmpty() && contains(pointLayers, li)) {
                valueLosses.add(valuePosition(mgr, lm.layers().get(li), h, valueRows));
            }
            NDArray[] probs = new NDArray[groups];
            for (int g = 0; g < groups; g++) {
                LlamaDecoderLayer.Output o = lm.layers().get(li).forward(h[g], rope[g], attnMask[g], null);
                h[g] = o.hidden(); // [Bg, Tg, D]
                probs[g] = o.probs(); // [Bg, H, Tg, Tg]
            }
            if (keep != null) {
                keepRows(mgr, flatten(h, d), keepRows, keep.out(), li + 1, lm.layers().size() + 1);
                continue;
            }
            if (li + 1 == readoutLayers && !readoutRows.isEmpty() && massOut == null) {
                readoutHidden = flatten(h, d).get(new NDIndex("{}",
                        mgr.create(readoutRows.stream().mapToLong(Long::longValue).toArray()))); // [R, D]
            }
            if (!pointRows.isEmpty() && (massOut != null || contains(pointLayers, li))) {
                pointProbs.add(probs);
            }
        }
        if (keep != null) {
            return null;
        }
        if (massOut != null) {
            if (!pointRows.isEmpty()) {
                int heads = (int) cfg.text().numAttentionHeads();
                List<int[]> union = new ArrayList<>(); // the probe reports the mass on both things together
                for (int r = 0; r < pointKeys.size(); r++) {
                    int[] second = pointSecondKeys.get(r);
                    union.add(second == null ? pointKeys.get(r)
                            : java.util.stream.IntStream.concat(java.util.Arrays.stream(pointKeys.get(r)),
                            java.util.Arrays.stream(second)).distinct().toArray());
                }
                int layers = pointProbs.size();
                for (int li = 0; li < layers; li++) {
                    float[] m = mass(mgr, lay, pointProbs.get(li), pointRows, union, null, 0, heads).toFloatArray(); // [M * H]
                    for (int r = 0; r < pointRows.size(); r++) {
                        int ex = pointExamples.get(r);
                        if (massOut[ex] == null) {
                            massOut[ex] = new float[layers][];
                        }
                        if (massOut[ex][li] == null) { // the example's first pointed position only
                            massOut[ex][li] = java.util.Arrays.copyOfRange(m, r * heads, (r + 1) * heads);
                        }
                    }
                }
            }
            return null;
        }
        NDArray flatH = flatten(h, d); // [rows, D]


        // ---- LM loss on the answer tokens ----
        NDArray lmLoss = nextTokenLoss(mgr, flatH, lossRows, lossTargets); // scalar

        // ---- mask loss (BCE + dice on patch coverage) ----
        NDArray segLoss = mgr.zeros(new Shape());
        if (!segRows.isEmpty() && model.segHead() != null) {
            NDArray segHidden = lm.norm().forward(
                    flatH.get(new NDIndex("{}", mgr.create(segRows.stream().mapToLong(Long::longValue).toArray())))); // [S, D]
            NDArray feats = patchFeats.get(new NDIndex("{}",
                    mgr.create(segImages.stream().mapToLong(Integer::longValue).toArray()))); // [S, N, Dv]
            NDArray segPixels = px.get(new NDIndex("{}", mgr.create(segImages.stream().mapToLong(Integer::longValue).toArray())));
            NDArray x = model.segHead().forward(segHidden, feats, segPixels); // [S, C*C]
            int cells = model.segHead().cellsPerSide() * model.segHead().cellsPerSide();
            float[] y = new float[segRows.size() * cells];
            for (int k = 0; k < segRows.size(); k++) {
                float[] t = batch.get(segExamples.get(k)).segTarget();
                if (t.length != cells) {
                    throw new IllegalArgumentException("segmentation target has " + t.length + " cells, the mask head predicts "
                            + cells);
                }
                System.arraycopy(t, 0, y, k * cells, cells);
            }
            NDArray target = mgr.create(y, new Shape(segRows.size(), cells));
            NDArray bce = Activation.softPlus(x).sub(x.mul(target)).mean();
            NDArray p = Activation.sigmoid(x);
            NDArray inter = p.mul(target).sum(new int[] {1});
            NDArray dice = Ops.shift(Ops.shift(Ops.scale(inter, 2), 1)
                    .div(Ops.shift(p.sum(new int[] {1}).add(target.sum(new int[] {1})), 1)).neg(), 1).mean();
            segLoss = bce.add(dice);
        }
        NDArray total = lmLoss.add(Ops.scale(segLoss, segWeight));
        NDArray promptLoss = mgr.zeros(new Shape());
        if (promptWeight > 0 && !promptRows.isEmpty()) {
            promptLoss = nextTokenLoss(mgr, flatH, promptRows, promptTargets);
            total = total.add(Ops.scale(promptLoss, promptWeight));
        }
        NDArray auxLoss = mgr.zeros(new Shape());
        if (aux != null && patchFeats != null) {
            int[][] labels = new int[aux.kinds()][nImg * per];
            float[] labelled = new float[nImg * per];
            List<int[][]> byImage = imageLabels(batch);
            for (int img = 0; img < nImg; img++) {
                int[][] l = byImage.get(img);
                if (l == null) {
                    continue;
                }
                for (int kind = 0; kind < aux.kinds(); kind++) {
                    System.arraycopy(l[kind], 0, labels[kind], img * per, per);
                }
                java.util.Arrays.fill(labelled, img * per, (img + 1) * per, 1f);
            }
            auxLoss = aux.loss(patchFeats, aux.readsTokens() ? vis : null, labels, labelled); // vis: [I*N, D]
            total = total.add(Ops.scale(auxLoss, auxWeight));
        }
        NDArray groundLoss = mgr.zeros(new Shape());
        if (labelTokens != null && groundWeight > 0 && vis != null) {
            groundLoss = grounding(mgr, batch, vis, lm.embedTokens(), per);
            total = total.add(Ops.scale(groundLoss, groundWeight));
        }
        NDArray pointLoss = mgr.zeros(new Shape());
        if (!pointProbs.isEmpty()) {
            float[] rowWeights = new float[pointRows.size()];
            for (int r = 0; r < rowWeights.length; r++) {
                rowWeights[r] = (CAPTION_TRACK.equals(batch.get(pointExamples.get(r)).track()) ? 1f : questionPointWeight)
                        * pointShares.get(r);
            }
            List<int[]> unpointed = new ArrayList<>(); // second targets that go to the unpointed heads, or null
            List<int[]> split = new ArrayList<>(); // second targets that split the pointed heads, or null
            for (int r = 0; r < pointRows.size(); r++) {
                boolean other = unpointedSecondTrack != null
                        && unpointedSecondTrack.equals(batch.get(pointExamples.get(r)).track());
                unpointed.add(other ? pointSecondKeys.get(r) : null);
                split.add(other ? null : pointSecondKeys.get(r));
            }
            pointLoss = pointing(mgr, lay, pointProbs, pointRows, pointKeys, split, unpointed, rowWeights);
            total = total.add(Ops.scale(pointLoss, pointWeight));
        }
        NDArray readoutLoss = mgr.zeros(new Shape());
        if (readoutHidden != null) {
            readoutLoss = readout(readoutHidden, readoutLabels);
            total = total.add(Ops.scale(readoutLoss, readoutWeight));
        }
        NDArray lookupLoss = layerMean(mgr, lookupLosses);
        total = lookupLosses.isEmpty() ? total : total.add(Ops.scale(lookupLoss, lookupWeight));
        NDArray valueLoss = layerMean(mgr, valueLosses);
        total = valueLosses.isEmpty() ? total : total.add(Ops.scale(valueLoss, valuePositionWeight));
        return new Losses(total, lmLoss, segLoss, auxLoss, groundLoss, promptLoss, pointLoss, readoutLoss, lookupLoss,
                valueLoss, lossRows.size(), segRows.size());
    }

    /**
     * {@link #withKeyLookup}'s loss at one pointed layer (the {@code p}-th), from its input states {@code h} (per group
     * [Bg, Tg, D]): each labelled image's keys through the layer's own norm and key projection, rotated at their
     * positions; the learned queries rotated at the image's answer position.
     */
    private NDArray keyLookup(NDManager mgr, LlamaDecoderLayer layer, NDArray[] h, LlamaRotaryEmbedding.Rope[] rope, int p,
                              List<long[]> rows, List<int[][]> labels, List<Long> positions) {
        int kv = (int) cfg.text().numKeyValueHeads();
        int hd = (int) cfg.text().headDim();
        int kvp = pointedKvHeads(pointHeads, (int) cfg.text().numAttentionHeads(), kv);
        NDList parts = new NDList();
        for (int g = 0; g < h.length; g++) {
            NDArray k = layer.selfAttn().keys(layer.inputLayernorm().forward(h[g]), rope[g]); // [Bg, kv, Tg, hd]
            parts.add(k.transpose(0, 2, 1, 3).reshape(-1, kv, hd)); // [Bg*Tg, kv, hd]
        }
        NDArray keys = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0); // [rows, kv, hd], RowLayout order
        int n = rows.size();
        int per = rows.get(0).length;
        long[] all = rows.stream().flatMapToLong(java.util.Arrays::stream).toArray();
        NDArray k = keys.get(new NDIndex("{}", mgr.create(all))).reshape(n, per, kv, hd)
                .get(new NDIndex(":, :, :{}, :", kvp)).transpose(0, 2, 3, 1); // [n, kvp, hd, N]
        long[][] pos = new long[n][1];
        for (int i = 0; i < n; i++) {
            pos[i][0] = positions.get(i);
        }
        LlamaRotaryEmbedding.Rope at = model.languageModel().rotary().forPositions(mgr, pos); // [n, 1, 1, hd]
        NDArray sum = mgr.zeros(new Shape());
        int terms = 0;
        for (int kind = 0; kind < LOOKUP_KINDS; kind++) {
            NDArray w = lookup.weight(LOOKUP_KINDS * p + kind); // [C, hd]
            int classes = (int) w.getShape().get(0);
            // an op's result joins its first operand's manager: the step's manager, not the parameters' (which lives
            // for the whole run and would keep every step's autograd graph)
            NDArray w4 = w.reshape(1, 1, classes, hd);
            w4.attach(mgr);
            NDArray q = at.apply(w4.broadcast(new Shape(n, 1, classes, hd))); // [n, 1, C, hd]
            NDArray probs = q.broadcast(new Shape(n, kvp, classes, hd)).matMul(k)
                    .div((float) Math.sqrt(hd)).softmax(-1); // [n, kvp, C, N]
            float[] onehot = new float[n * classes * per];
            float[] present = new float[n * classes];
            for (int i = 0; i < n; i++) {
                int[] l = labels.get(i)[kind];
                for (int j = 0; j < per; j++) {
                    if (l[j] > 0 && l[j] < classes) { // 0: background
                        onehot[(i * classes + l[j]) * per + j] = 1f;
                        if (present[i * classes + l[j]] == 0) {
                            present[i * classes + l[j]] = 1f;
                            terms += kvp;
                        }
                    }
                }
            }
            NDArray mass = probs.mul(mgr.create(onehot, new Shape(n, 1, classes, per))).sum(new int[] {-1}); // [n, kvp, C]
            sum = sum.add(Ops.shift(mass, 1e-6f).log().neg().mul(mgr.create(present, new Shape(n, 1, classes))).sum());
        }
        return terms == 0 ? sum : Ops.scale(sum, 1f / terms);
    }

    /**
     * {@link #withValuePosition}'s loss at one pointed layer, from its input states {@code h} (per group [Bg, Tg, D]):
     * the images' visual-token rows {@code rows} (row-major cells, so token p sits at column {@code p % grid}, row
     * {@code p / grid}).
     */
    private NDArray valuePosition(NDManager mgr, LlamaDecoderLayer layer, NDArray[] h, List<long[]> rows) {
        int kv = (int) cfg.text().numKeyValueHeads();
        int hd = (int) cfg.text().headDim();
        int kvp = pointedKvHeads(pointHeads, (int) cfg.text().numAttentionHeads(), kv);
        NDList parts = new NDList();
        for (NDArray x : h) {
            NDArray v = layer.selfAttn().values(layer.inputLayernorm().forward(x)); // [Bg, kv, Tg, hd]
            parts.add(v.transpose(0, 2, 1, 3).reshape(-1, kv, hd)); // [Bg*Tg, kv, hd], RowLayout order
        }
        NDArray values = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
        int n = rows.size();
        int per = rows.get(0).length;
        int grid = (int) Math.round(Math.sqrt(per));
        long[] all = rows.stream().flatMapToLong(java.util.Arrays::stream).toArray();
        NDArray got = values.get(new NDIndex("{}", mgr.create(all))).get(new NDIndex(":, :{}, {}:", kvp, hd - 2))
                .reshape(n, per, kvp, 2); // [n, N, kvp, 2]
        float[] want = new float[per * 2];
        for (int p = 0; p < per; p++) {
            want[2 * p] = grid == 1 ? 0f : 2f * (p % grid) / (grid - 1) - 1f;
            want[2 * p + 1] = grid == 1 ? 0f : 2f * (p / grid) / (grid - 1) - 1f;
        }
        NDArray target = mgr.create(want, new Shape(1, per, 1, 2));
        return got.sub(target).square().mean();
    }

    /** The mean of per-layer scalar losses, 0 when there are none. */
    private static NDArray layerMean(NDManager mgr, List<NDArray> perLayer) {
        NDArray sum = mgr.zeros(new Shape());
        for (NDArray x : perLayer) {
            sum = sum.add(x);
        }
        return perLayer.isEmpty() ? sum : Ops.scale(sum, 1f / perLayer.size());
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }

    /** The read-out head's loss (sum over kinds of the mean cross-entropy) of RMS-normalised hidden rows [R, D]. */
    private NDArray readout(NDArray hidden, List<int[]> labels) {
        int r = labels.size();
        int[][] byKind = new int[readout.kinds()][r];
        for (int k = 0; k < byKind.length; k++) {
            for (int row = 0; row < r; row++) {
                byKind[k][row] = labels.get(row)[k];
            }
        }
        float[] every = new float[r];
        java.util.Arrays.fill(every, 1f);
        NDArray x = AuxPatchHead.rmsNormalised(hidden).reshape(r, 1, hidden.getShape().get(1)); // [R, 1, D]
        return readout.loss(x, byKind, every);
    }

    /**
     * Copies decoder rows of {@code h} [rows, D] into {@code out[example][at]} (of {@code stages}): example i's rows
     * {@code rows[i]} one after another ({@code [len * D]}); an example without rows (null) is left out.
     */
    private static void keepRows(NDManager mgr, NDArray h, long[][] rows, float[][][] out, int at, int stages) {
        int d = (int) h.getShape().get(1);
        long[] all = java.util.Arrays.stream(rows).filter(java.util.Objects::nonNull).flatMapToLong(java.util.Arrays::stream)
                .toArray();
        if (all.length == 0) {
            return;
        }
        float[] got = h.get(new NDIndex("{}", mgr.create(all))).toFloatArray(); // [sum of lens * D]
        int from = 0;
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] == null) {
                continue;
            }
            if (out[i] == null) {
                out[i] = new float[stages][];
            }
            out[i][at] = java.util.Arrays.copyOfRange(got, from, from + rows[i].length * d);
            from += rows[i].length * d;
        }
    }

    /**
     * Mean over rows (weighted {@code weights}), layers and heads of -log(attention mass on the row's target slots);
     * where a row has second targets, the second half of the heads ({@link #secondFrom}) is scored on those; where
     * it has {@code unpointed} targets, the heads after the pointed ones add their own term on those.
     */
    private NDArray pointing(NDManager mgr, RowLayout lay, List<NDArray[]> probs, List<Long> rows, List<int[]> keys,
                             List<int[]> second, List<int[]> unpointed, float[] weights) {
        double total = 0;
        for (float w : weights) {
            total += w;
        }
        NDArray w = mgr.create(weights).div((float) total); // [M], summing to 1
        // rows whose second targets go to the unpointed heads: their own term, weighted as the row
        List<Long> otherRows = new ArrayList<>();
        List<int[]> otherKeys = new ArrayList<>();
        float[] ow = new float[(int) unpointed.stream().filter(java.util.Objects::nonNull).count()];
        for (int r = 0; r < rows.size(); r++) {
            if (unpointed.get(r) != null) {
                ow[otherRows.size()] = (float) (weights[r] / total);
                otherRows.add(rows.get(r));
                otherKeys.add(unpointed.get(r));
            }
        }
        NDArray sum = null;
        for (NDArray[] p : probs) {
            NDArray mass = mass(mgr, lay, p, rows, keys, second, 0, pointHeads); // [M, h]
            NDArray nll = Ops.shift(mass, 1e-6f).log().neg().mean(new int[] {1}).mul(w).sum();
            if (!otherRows.isEmpty()) {
                NDArray other = mass(mgr, lay, p, otherRows, otherKeys, null, pointHeads, pointHeads); // [M', h]
                nll = nll.add(Ops.shift(other, 1e-6f).log().neg().mean(new int[] {1}).mul(mgr.create(ow)).sum());
            }
            sum = sum == null ? nll : sum.add(nll);
        }
        return Ops.scale(sum, 1f / probs.size());
    }

    /**
     * One-hot rows of the target slots per head, [M, heads, T]: heads from {@link #secondFrom} on take the row's
     * second targets where it has them ({@code second} null or a null entry: every head takes {@code keys}).
     */
    private static NDArray targets(NDManager mgr, List<int[]> keys, List<int[]> second, int heads, int tmax) {
        int m = keys.size();
        int split = secondFrom(heads);
        float[] target = new float[m * heads * tmax];
        for (int r = 0; r < m; r++) {
            int[] other = second == null ? null : second.get(r);
            for (int h = 0; h < heads; h++) {
                for (int k : other != null && h >= split ? other : keys.get(r)) {
                    target[(r * heads + h) * tmax + k] = 1f;
                }
            }
        }
        return mgr.create(target, new Shape(m, heads, tmax));
    }

    /** The first of the pointed heads that look at a row's second targets: the second half, {@code ceil(heads / 2)} on. */
    public static int secondFrom(int heads) {
        return (heads + 1) / 2;
    }

    /** Sequence slots of pointing targets (visual tokens numbered across the example's images, or the first token). */
    private static int[] slots(int[] targets, List<Integer> visualSlots) {
        int[] keys = new int[targets.length];
        for (int v = 0; v < keys.length; v++) {
            keys[v] = targets[v] == TrainExample.FIRST_TOKEN ? 0 : visualSlots.get(targets[v]);
        }
        return keys;
    }

    /**
     * Attention mass of heads {@code from .. from + heads - 1} of one layer's probs (per group [Bg, H, Tg, Tg]) at decoder rows
     * {@code rows} on their target slots ({@link #targets}): [M, h], in the order of {@code rows}.
     */
    private static NDArray mass(NDManager mgr, RowLayout lay, NDArray[] probs, List<Long> rows, List<int[]> keys,
                                List<int[]> second, int from, int heads) {
        List<NDArray> parts = new ArrayList<>();
        long[] order = new long[rows.size()]; // where each row's mass lands in the concatenated parts
        int next = 0;
        for (int g = 0; g < probs.length; g++) {
            int tg = lay.groupWidth(g);
            List<Long> local = new ArrayList<>();
            List<int[]> k = new ArrayList<>();
            List<int[]> s = second == null ? null : new ArrayList<>();
            for (int r = 0; r < rows.size(); r++) {
                long row = rows.get(r);
                if (lay.groupOfRow(row) == g) {
                    order[r] = next++;
                    local.add(row - lay.base(g));
                    k.add(keys.get(r));
                    if (s != null) {
                        s.add(second.get(r));
                    }
                }
            }
            if (local.isEmpty()) {
                continue;
            }
            NDArray t = targets(mgr, k, s, heads, tg); // [Mg, h, Tg]
            NDArray h = probs[g].get(new NDIndex(":, " + from + ":" + (from + heads))).transpose(0, 2, 1, 3)
                    .reshape((long) lay.size(g) * tg, heads, tg); // [Bg*Tg, h, Tg]
            NDArray idx = mgr.create(local.stream().mapToLong(Long::longValue).toArray());
            parts.add(h.get(new NDIndex("{}", idx)).mul(t).sum(new int[] {2})); // [Mg, h]
        }
        NDArray all = parts.size() == 1 ? parts.get(0) : NDArrays.concat(new NDList(parts.toArray(new NDArray[0])), 0);
        boolean inOrder = true;
        for (int r = 0; r < order.length; r++) {
            inOrder &= order[r] == r;
        }
        return inOrder ? all : all.get(new NDIndex("{}", mgr.create(order))); // [M, h]
    }

    /** The groups' hidden states [Bg, Tg, D] as one matrix of decoder rows [rows, D], in {@link RowLayout} order. */
    private static NDArray flatten(NDArray[] h, long d) {
        if (h.length == 1) {
            return h[0].reshape(-1, d);
        }
        NDList parts = new NDList();
        for (NDArray x : h) {
            parts.add(x.reshape(-1, d));
        }
        return NDArrays.concat(parts, 0);
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    /** The patch labels of every image of the batch in order (null for an image without labels). */
    private static List<int[][]> imageLabels(List<TrainExample> batch) {
        List<int[][]> out = new ArrayList<>();
        for (TrainExample e : batch) {
            for (int k = 0; k < e.images().size(); k++) {
                out.add(e.patchLabels() == null ? null : e.patchLabels().get(k));
            }
        }
        return out;
    }

    /** Mean cross-entropy of the LM head at hidden rows {@code rows} of [B*T, D] against the next tokens. */
    private NDArray nextTokenLoss(NDManager mgr, NDArray flatH, List<Long> rows, List<Long> targets) {
        NDArray h = flatH.get(new NDIndex("{}", mgr.create(rows.stream().mapToLong(Long::longValue).toArray()))); // [M, D]
        NDArray logits = model.logits(model.languageModel().norm().forward(h)); // [M, V]
        NDArray t = mgr.create(targets.stream().mapToLong(Long::longValue).toArray()).reshape(-1, 1); // [M, 1]
        return logits.logSoftmax(-1).gather(t, 1).neg().mean();
    }

    /** Mean over label kinds of the cross-entropy of labelled patches' tokens against the embedding table. */
    private NDArray grounding(NDManager mgr, List<TrainExample> batch, NDArray vis, NDArray table, int per) {
        return grounding(mgr, imageLabels(batch), vis, table, per, labelTokens);
    }

    /**
     * The grounding loss (see {@link #withGrounding}) of images' patch labels {@code byImage} (one entry per image,
     * null for an image without labels; kinds past {@code labelTokens} are left out) against their projected tokens
     * {@code vis} [I*N, D] and the text embedding table [V, D]. A scalar in {@code mgr}, 0 when nothing is labelled.
     */
    public static NDArray grounding(NDManager mgr, List<int[][]> byImage, NDArray vis, NDArray table, int per,
                                    int[][] labelTokens) {
        List<Long> rows = new ArrayList<>();
        List<Long> targets = new ArrayList<>();
        for (int img = 0; img < byImage.size(); img++) {
            int[][] l = byImage.get(img);
            if (l == null) {
                continue;
            }
            for (int kind = 0; kind < Math.min(l.length, labelTokens.length); kind++) {
                for (int p = 0; p < per; p++) {
                    int c = l[kind][p];
                    int tok = c >= 0 && c < labelTokens[kind].length ? labelTokens[kind][c] : -1; // -1: unlabelled
                    if (tok >= 0) {
                        rows.add((long) img * per + p);
                        targets.add((long) tok);
                    }
                }
            }
        }
        if (rows.isEmpty()) {
            return mgr.zeros(new Shape());
        }
        NDArray v = vis.get(new NDIndex("{}", mgr.create(rows.stream().mapToLong(Long::longValue).toArray()))); // [R, D]
        NDArray vn = v.div(v.square().sum(new int[] {1}, true).add(1e-6f).sqrt()); // [R, D] unit rows
        NDArray tb = table.get(mgr, new NDIndex(":")); // [V, D], in the batch's manager (the table's is long-lived)
        NDArray en = tb.div(tb.square().sum(new int[] {1}, true).add(1e-6f).sqrt()); // [V, D] unit rows
        NDArray logits = Ops.scale(vn.matMul(en.transpose()), GROUND_SCALE); // [R, V] scaled cosines
        NDArray t = mgr.create(targets.stream().mapToLong(Long::longValue).toArray()).reshape(-1, 1);
        return logits.logSoftmax(-1).gather(t, 1).neg().mean();
    }

    /** Inverse temperature of the grounding loss's cosine logits. */
    static final float GROUND_SCALE = 10f;

    /** The patch cell of each of the batch's visual tokens (images in order, {@code per} each; -1 with xyz origins). */
    private int[] cells(List<TrainExample> batch, int per) {
        if (!cfg.extras().positionEmbedding2dAfterProjector()) {
            return null;
        }
        List<float[][]> xyz = xyzOf(batch);
        return LlavaForConditionalGeneration.cells(null, xyz.size(), per, false, xyz);
    }

    private static List<float[][]> xyzOf(List<TrainExample> batch) {
        List<float[][]> xyz = new ArrayList<>();
        for (TrainExample e : batch) {
            for (int k = 0; k < e.images().size(); k++) {
                xyz.add(e.xyz() == null ? null : e.xyz().get(k));
            }
        }
        return xyz;
    }

    private NDArray addPositions(NDManager mgr, List<TrainExample> batch, NDArray f) {
        return model.addPositionEmbeddings(mgr, f, xyzOf(batch), false);
    }
}
