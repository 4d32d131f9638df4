package io.tokensieve.core.filter;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.KeptRows;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.Need;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.prune.ResolvedBudget;
import io.tokensieve.core.prune.SequenceLayout;
import io.tokensieve.core.prune.TokenOrigin;
import io.tokensieve.core.runtime.StepTrace;
import io.tokensieve.core.runtime.VlmModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * A drop-in visual-token filter for a VLM server that runs its own model: give it the visual embeddings of
 * one or more images and it returns which tokens to keep (original indices, over all images and per image),
 * the pruner's scores, and for merging methods the merged rows that replace some kept tokens' embeddings.
 * It runs a pruner's pre-LLM steps ({@code VISION}, {@code PROJECTED}) on the arrays you supply, exactly as the
 * runtime would on the same arrays; methods that act between decoder layers (FastV, DART, PyramidDrop, ...)
 * need in-LLM attention, keys or hidden states and fail with an error that says so.
 *
 * <p>What each method needs from you (a missing input fails with an error naming it):
 * <ul>
 *   <li>{@code random}, {@code pool}, {@code divprune}: the embeddings with their grid (or xyz origins).</li>
 *   <li>{@code visionzip}: the CLS attention of every image ({@link ImageTokens#optClsAttention}); the keys it
 *       groups contextual tokens by default to the embeddings ({@link ImageTokens#optKeys} overrides them), and
 *       it merges the projector inputs when you give them ({@link ImageTokens#optFeatures}), else the embeddings.
 *       Merged feature rows are mapped through the projector when the filter has one.</li>
 *   <li>{@code zoo}: the projector inputs of every image and a projector ({@link Builder#optProjector}, or the
 *       model's from {@link Builder#optModel}).</li>
 *   <li>text-guided methods: the text embeddings, or the question with a model (tokenizer and embedding table).</li>
 * </ul>
 * Inside a call the token layout is the images' tokens (image 0 first) followed by the text tokens, with
 * positions 0..L-1, since the filter cannot know where your prompt places its images.
 *
 * <p>Thread-safe and reusable: a filter is immutable; each call opens its own {@link NDManager} on the device of
 * the model (or of the first image's embeddings) and closes it before returning, and the result holds plain
 * Java arrays only. Your arrays are only read, never closed or modified.
 *
 * <pre>{@code
 * VisualTokenFilter filter = VisualTokenFilter.builder("divprune:keep=0.25").build();
 * try (NDManager m = NDManager.newBaseManager()) {
 *     NDArray emb = m.create(embeddings, new Shape(576, 4096));        // one image, 24x24 patches
 *     FilterResult r = filter.filter(FilterInput.of(ImageTokens.grid(emb, 24, 24)));
 *     int[] kept = r.kept();                                          // 144 ascending indices
 *     NDArray pruned = emb.get(new NDIndex("{}", m.create(Arrays.stream(kept).asLongStream().toArray())));
 * }
 * }</pre>
 */
public final class VisualTokenFilter {
    /** The decoder depth assumed for schedules when no model is given (LLaVA-1.5-7B). */
    public static final int DEFAULT_LAYERS = 32;

    private final ConfiguredPruner pruner;
    private final UnaryOperator<NDArray> projector;
    private final boolean modelProjector;
    private final VlmModel model;

    private VisualTokenFilter(ConfiguredPruner pruner, UnaryOperator<NDArray> projector, boolean modelProjector,
                              VlmModel model) {
        this.pruner = pruner;
        this.projector = projector;
        this.modelProjector = modelProjector;
        this.model = model;
    }

    /** A builder for a pruner spec such as {@code divprune:keep=0.25} (resolved in the default registry). */
    public static Builder builder(String spec) {
        return new Builder(Objects.requireNonNull(spec, "spec"), null);
    }

    /** A builder for an already configured pruner. */
    public static Builder builder(ConfiguredPruner pruner) {
        return new Builder(null, Objects.requireNonNull(pruner, "pruner"));
    }

    /** Builds a {@link VisualTokenFilter}: {@code opt*} setters are optional. */
    public static final class Builder {
        private final String spec;
        private final ConfiguredPruner configured;
        private UnaryOperator<NDArray> projector;
        private VlmModel model;
        private PrunerRegistry registry;

        private Builder(String spec, ConfiguredPruner configured) {
            this.spec = spec;
            this.configured = configured;
        }

        /**
         * The projector {@code [*, Dv'] -> [*, D]} for methods that call it (zoo) and for mapping merged feature
         * rows; it must be thread-safe and create its results in its argument's manager. Overrides the model's.
         */
        public Builder optProjector(UnaryOperator<NDArray> projector) {
            this.projector = projector;
            return this;
        }

        /**
         * A loaded model: its projector, tokenizer and embedding table (for questions), final norm and shape
         * (schedules are mapped to its depth). Not closed by the filter.
         */
        public Builder optModel(VlmModel model) {
            this.model = model;
            return this;
        }

        /** The registry the spec is resolved in (default: {@link PrunerRegistry#defaultRegistry()}). */
        public Builder optRegistry(PrunerRegistry registry) {
            this.registry = registry;
            return this;
        }

        /** Resolves the spec; unknown pruners, parameters and malformed budgets fail here. */
        public VisualTokenFilter build() {
            ConfiguredPruner cp = configured != null ? configured
                    : (registry == null ? PrunerRegistry.defaultRegistry() : registry).create(spec);
            if (projector == null && model != null) {
                VlmModel m = model;
                return new VisualTokenFilter(cp, x -> m.model().multiModalProjector().forward(x), true, m);
            }
            return new VisualTokenFilter(cp, projector, false, model);
        }
    }

    public ConfiguredPruner pruner() {
        return pruner;
    }

    /** Runs the pruner's pre-LLM steps on one request's tokens. */
    public FilterResult filter(FilterInput input) {
        Objects.requireNonNull(input, "input");
        Checked in = check(input);
        FilterCall call = plan(in);
        List<PruneStep> steps = schedule(call, in);
        long t0 = System.nanoTime();
        Device device = model != null ? model.device() : input.images().get(0).embeddings().getDevice();
        try (NDManager mgr = NDManager.newBaseManager(device)) {
            load(call, in, mgr);
            return run(call, steps, mgr, t0);
        }
    }

    // ------------------------------------------------------------------ input checks

    /** Shapes of the validated input. */
    private record Checked(FilterInput input, int[] counts, long width, long featureWidth, boolean hasFeatures,
                           long[] textIds) {}

    private Checked check(FilterInput input) {
        List<ImageTokens> images = input.images();
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no images: give the visual tokens of at least one image");
        }
        int[] counts = new int[images.size()];
        long width = -1;
        long featureWidth = -1;
        int withFeatures = 0;
        for (int i = 0; i < images.size(); i++) {
            ImageTokens im = images.get(i);
            String what = "image " + i;
            Shape s = matrix(im.embeddings(), what + " embeddings");
            int n = (int) s.get(0);
            if (n == 0) {
                throw new IllegalArgumentException(what + " has no visual tokens (embeddings are [0, " + s.get(1) + "])");
            }
            if (width >= 0 && s.get(1) != width) {
                throw new IllegalArgumentException(what + " embeddings are " + s.get(1) + " wide but image 0's are " + width);
            }
            width = s.get(1);
            counts[i] = n;
            if (im.xyz() != null) {
                if (im.xyz().length != n) {
                    throw new IllegalArgumentException(what + ": " + im.xyz().length + " xyz origins for " + n + " tokens");
                }
                for (int p = 0; p < n; p++) {
                    float[] x = im.xyz()[p];
                    if (x == null || x.length != 3) {
                        throw new IllegalArgumentException(what + ": xyz origin " + p + " must have 3 coordinates");
                    }
                    for (float c : x) {
                        if (!Float.isFinite(c)) {
                            throw new IllegalArgumentException(what + ": xyz origin " + p + " is not finite");
                        }
                    }
                }
            }
            if (im.gridRows() < 1 || im.gridCols() < 1) {
                throw new IllegalArgumentException(what + ": grid must be at least 1x1, got " + im.gridRows() + "x"
                        + im.gridCols());
            }
            if ((long) im.gridRows() * im.gridCols() != n) {
                throw new IllegalArgumentException(what + ": grid " + im.gridRows() + "x" + im.gridCols() + " holds "
                        + (long) im.gridRows() * im.gridCols() + " tokens but the embeddings have " + n + " rows");
            }
            if (im.features() != null) {
                Shape f = matrix(im.features(), what + " features");
                if (f.get(0) != n) {
                    throw new IllegalArgumentException(what + " features have " + f.get(0) + " rows for " + n + " tokens");
                }
                if (featureWidth >= 0 && f.get(1) != featureWidth) {
                    throw new IllegalArgumentException(what + " features are " + f.get(1) + " wide but the first "
                            + "image's are " + featureWidth);
                }
                featureWidth = f.get(1);
                withFeatures++;
            }
            if (im.clsAttention() != null) {
                float[] a = im.clsAttention();
                if (a.length != n) {
                    throw new IllegalArgumentException(what + ": cls attention has " + a.length + " values for " + n
                            + " tokens");
                }
                for (int p = 0; p < n; p++) {
                    if (!Float.isFinite(a[p])) {
                        throw new IllegalArgumentException(what + ": cls attention value " + p + " is not finite");
                    }
                }
            }
            if (im.keys() != null) {
                Shape k = matrix(im.keys(), what + " keys");
                if (k.get(0) != n) {
                    throw new IllegalArgumentException(what + " keys have " + k.get(0) + " rows for " + n + " tokens");
                }
            }
        }
        if (withFeatures != 0 && withFeatures != images.size()) {
            throw new IllegalArgumentException("features were given for " + withFeatures + " of " + images.size()
                    + " images; give them for every image or for none");
        }
        long[] textIds = null;
        if (input.textEmbeddings() != null && input.question() != null) {
            throw new IllegalArgumentException("give either text embeddings or a question, not both");
        }
        if (input.textEmbeddings() != null) {
            Shape t = matrix(input.textEmbeddings(), "text embeddings");
            if (t.get(1) != width) {
                throw new IllegalArgumentException("text embeddings are " + t.get(1) + " wide but the visual embeddings "
                        + "are " + width);
            }
        }
        if (input.question() != null) {
            if (input.question().isBlank()) {
                throw new IllegalArgumentException("question is empty");
            }
            if (model == null) {
                throw new IllegalArgumentException("a question needs a model (tokenizer and embedding table): build the "
                        + "filter with optModel(...) or give text embeddings instead");
            }
            if (width != model.config().text().hiddenSize()) {
                throw new IllegalArgumentException("visual embeddings are " + width + " wide but the model embeds text "
                        + "at " + model.config().text().hiddenSize());
            }
            long image = model.imageTokenId();
            textIds = Arrays.stream(model.promptIds(input.question(), images.size())).filter(id -> id != image)
                    .toArray();
        }
        return new Checked(input, counts, width, featureWidth, withFeatures > 0, textIds);
    }

    private static Shape matrix(NDArray a, String what) {
        Shape s = a.getShape();
        if (s.dimension() != 2) {
            throw new IllegalArgumentException(what + " must be a 2-D array [rows, width], got shape " + s);
        }
        if (a.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException(what + " must be float32, got " + a.getDataType());
        }
        if (s.get(1) == 0) {
            throw new IllegalArgumentException(what + " have width 0");
        }
        return s;
    }

    // ------------------------------------------------------------------ planning

    private FilterCall plan(Checked in) {
        List<ImageTokens> images = in.input().images();
        List<ImageSpan> spans = new ArrayList<>();
        List<TokenOrigin> origins = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            ImageTokens im = images.get(i);
            spans.add(new ImageSpan(i, origins.size(), in.counts()[i], im.gridRows(), im.gridCols(), origins.size(),
                    im.xyz() != null));
            for (int p = 0; p < in.counts()[i]; p++) {
                int r = p / im.gridCols();
                int c = p % im.gridCols();
                if (im.xyz() != null) {
                    float[] x = im.xyz()[p];
                    origins.add(new TokenOrigin(i, r, c, x[0], x[1], x[2]));
                } else {
                    origins.add(TokenOrigin.patch(i, r, c));
                }
            }
        }
        int n = origins.size();
        int textCount = in.textIds() != null ? in.textIds().length
                : in.input().textEmbeddings() != null ? (int) in.input().textEmbeddings().getShape().get(0) : 0;
        int total = n + textCount;
        int[] seq = new int[total];
        int[] vis = new int[total];
        long[] tok = new long[total];
        long[] pos = new long[total];
        long imageId = model == null ? -1 : model.imageTokenId();
        for (int s = 0; s < total; s++) {
            seq[s] = s;
            pos[s] = s;
            vis[s] = s < n ? s : -1;
            tok[s] = s < n ? imageId : (in.textIds() != null ? in.textIds()[s - n] : -1);
        }
        SequenceLayout prompt = new SequenceLayout(seq, vis, tok, pos, n);
        ResolvedBudget budget;
        try {
            budget = pruner.budget().resolve(in.counts());
        } catch (PruneException e) {
            throw new PruneException("pruner " + pruner.id() + ": " + e.getMessage());
        }
        ModelShape shape = model != null ? model.shape() : syntheticShape(in);
        return new FilterCall(pruner.id(), shape, List.copyOf(spans), origins.toArray(new TokenOrigin[0]), budget,
                pruner.seed(), pruner.positions(), prompt, images, model == null ? -1 : model.segTokenId());
    }

    /**
     * The model shape pruners see without a model: a 32-layer decoder as LLaVA-1.5-7B (so layer schedules map as
     * for that model and are then rejected), the embedding width as hidden size, and a one-layer vision tower
     * whose output (hidden-state index 1) is the features.
     */
    private static ModelShape syntheticShape(Checked in) {
        int d = (int) in.width();
        int dv = (int) (in.hasFeatures() ? in.featureWidth() : in.width());
        return new ModelShape(DEFAULT_LAYERS, 1, 1, d, d, 4 * d, 1, dv, 1, 1, in.counts()[0]);
    }

    private List<PruneStep> schedule(FilterCall call, Checked in) {
        List<PruneStep> steps = pruner.pruner().schedule(call.shape, call.spans, call.budget);
        for (int i = 0; i < steps.size(); i++) {
            PruneStep st = steps.get(i);
            Set<Need> inLlm = EnumSet.noneOf(Need.class);
            for (Need n : List.of(Need.ATTENTION, Need.KEYS, Need.NEXT_LAYER_ATTENTION_ROW)) {
                if (st.needs(n)) {
                    inLlm.add(n);
                }
            }
            if (st.hook().isLayer() || !inLlm.isEmpty()) {
                String reads = st.needs().isEmpty() ? "" : " (it reads " + st.needs().stream().map(Need::name)
                        .collect(Collectors.joining(", ")) + ")";
                throw new PruneException("pruner " + pruner.id() + " step " + st.name() + " at " + st.hook()
                        + " needs in-LLM attention" + reads + ", so it must run inside the runtime (VlmModel.generate, "
                        + "sieve ask, or the server's chat endpoint), not as a filter on embeddings");
            }
            if (i > 0 && st.hook().compareTo(steps.get(i - 1).hook()) < 0) {
                throw new PruneException("pruner " + pruner.id() + ": steps are not in hook order ("
                        + steps.get(i - 1).hook() + " before " + st.hook() + ")");
            }
            checkNeeds(st, in);
        }
        return steps;
    }

    private void checkNeeds(PruneStep st, Checked in) {
        String who = "pruner " + pruner.id() + " step " + st.name() + " at " + st.hook() + " needs ";
        List<ImageTokens> images = in.input().images();
        if (st.needs(Need.VISION_INTERNALS)) {
            for (int i = 0; i < images.size(); i++) {
                if (images.get(i).clsAttention() == null) {
                    throw new PruneException(who + "the vision tower's CLS attention of every image, and image " + i
                            + " has none (missing input: cls_attention, ImageTokens.optClsAttention)");
                }
            }
        }
        if (st.needs(Need.PROJECTOR)) {
            if (!in.hasFeatures()) {
                throw new PruneException(who + "the projector inputs of every image (missing input: features [N, Dv'], "
                        + "ImageTokens.optFeatures)");
            }
            if (projector == null) {
                throw new PruneException(who + "the projector (missing input: a projector; build the filter with "
                        + "optProjector(...) or optModel(...))");
            }
        }
        boolean projects = st.needs(Need.PROJECTOR) || st.hook().kind() == HookPoint.Kind.VISION;
        if (projects && in.hasFeatures() && modelProjector && in.featureWidth() != model.config().projectorInputSize()) {
            throw new IllegalArgumentException("features are " + in.featureWidth() + " wide but the model's projector "
                    + "takes " + model.config().projectorInputSize());
        }
        if (st.needs(Need.TEXT_EMBEDDINGS) && in.input().textEmbeddings() == null && in.textIds() == null) {
            throw new PruneException(who + "the text (missing input: text_embeddings [Tt, D], or a question with a model)");
        }
        if (st.needs(Need.FINAL_NORM) && model == null) {
            throw new PruneException(who + "the LLM's final norm (missing input: a model; build the filter with "
                    + "optModel(...))");
        }
    }

    // ------------------------------------------------------------------ running

    /** Views of the caller's arrays (and the embedded question) in the call's manager; checks values. */
    private void load(FilterCall call, Checked in, NDManager mgr) {
        List<ImageTokens> images = in.input().images();
        List<NDArray> emb = new ArrayList<>();
        List<NDArray> feats = new ArrayList<>();
        List<NDArray> keys = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            ImageTokens im = images.get(i);
            NDArray e = finite(local(im.embeddings(), mgr), "image " + i + " embeddings");
            emb.add(e);
            if (im.features() != null) {
                feats.add(finite(local(im.features(), mgr), "image " + i + " features"));
            }
            keys.add(im.keys() == null ? e : finite(local(im.keys(), mgr), "image " + i + " keys"));
        }
        call.embeddings = concat(emb);
        call.features = feats.isEmpty() ? null : concat(feats);
        call.keys = keys;
        if (in.input().textEmbeddings() != null) {
            call.text = finite(local(in.input().textEmbeddings(), mgr), "text embeddings");
        } else if (in.textIds() != null) {
            call.text = model.model().languageModel().embed(mgr.create(in.textIds())); // [Tt, D]
        } else {
            call.text = mgr.zeros(new Shape(0, in.width()));
        }
        call.projector = projector;
        if (model != null) {
            call.finalNorm = x -> model.model().languageModel().norm().forward(x);
        }
    }

    private static NDArray local(NDArray a, NDManager mgr) {
        NDArray v = a.get(mgr, new NDIndex(":"));
        return v.getDevice().equals(mgr.getDevice()) ? v : v.toDevice(mgr.getDevice(), false);
    }

    private static NDArray finite(NDArray a, String what) {
        if (a.isNaN().any().getBoolean()) {
            throw new IllegalArgumentException(what + " contain NaN values");
        }
        if (a.isInfinite().any().getBoolean()) {
            throw new IllegalArgumentException(what + " contain infinite values");
        }
        return a;
    }

    private static NDArray concat(List<NDArray> parts) {
        return parts.size() == 1 ? parts.get(0) : NDArrays.concat(new NDList(parts.toArray(new NDArray[0])), 0);
    }

    private FilterResult run(FilterCall call, List<PruneStep> steps, NDManager mgr, long t0) {
        int n = call.visualTotal;
        int[] live = new int[n];
        Arrays.setAll(live, i -> i);
        boolean featureSpace = call.features != null; // rows are projector inputs until the first PROJECTED step
        NDArray rows = featureSpace ? call.features : call.embeddings;
        Set<Integer> replaced = new HashSet<>();
        List<StepTrace> traces = new ArrayList<>();
        float[] scores = null;
        int lastStep = steps.size() - 1;
        for (int i = 0; i < steps.size(); i++) {
            PruneStep step = steps.get(i);
            boolean vision = step.hook().kind() == HookPoint.Kind.VISION;
            if (!vision && featureSpace) {
                rows = toEmbeddingSpace(call, live, rows, replaced, step, mgr);
                featureSpace = false;
            }
            NDArray base = featureSpace ? call.features : call.embeddings;
            try (NDManager sm = mgr.newSubManager()) {
                FilterContext ctx = new FilterContext(call, step, i, sm, live, rows);
                PruneDecision d = decide(step, ctx);
                int[] kept = validate(call, step, d, live, i == lastStep);
                long width = rows.getShape().get(1);
                Map<Integer, Integer> repl = replacementRows(step, d, width);
                rows = gather(rows, live, kept, d, repl, base, mgr);
                Set<Integer> keptSet = new HashSet<>();
                for (int v : kept) {
                    keptSet.add(v);
                }
                replaced.retainAll(keptSet);
                replaced.addAll(repl.keySet());
                traces.add(trace(step, live, kept, d));
                if (d.scores() != null) {
                    scores = d.scores();
                }
                live = kept;
            }
        }
        if (steps.isEmpty()) {
            checkBudget(call, live, null);
        }
        FilterResult.Space space = FilterResult.Space.EMBEDDINGS;
        if (featureSpace && !replaced.isEmpty()) {
            if (projector != null) {
                rows = toEmbeddingSpace(call, live, rows, replaced, null, mgr);
            } else {
                space = FilterResult.Space.FEATURES;
            }
        }
        List<FilterResult.Merged> merged = merged(live, rows, replaced);
        List<int[]> perImage = new ArrayList<>();
        for (ImageSpan span : call.spans) {
            perImage.add(Arrays.stream(live).filter(span::contains).map(v -> v - span.firstVisual()).toArray());
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        return new FilterResult(pruner.spec(), n, live, perImage, scores, merged, space, traces, ms);
    }

    /**
     * The live rows in embedding space: the supplied embeddings, with rows merged in feature space mapped
     * through the projector.
     */
    private NDArray toEmbeddingSpace(FilterCall call, int[] live, NDArray featureRows, Set<Integer> replaced,
                                     PruneStep next, NDManager mgr) {
        NDArray rows = call.embeddings.get(new NDIndex("{}", mgr.create(toLongs(live)))); // [n, D]
        if (replaced.isEmpty()) {
            return rows;
        }
        if (projector == null) {
            throw new PruneException("pruner " + pruner.id() + " merged projector inputs at VISION and step "
                    + next.name() + " at " + next.hook() + " reads embeddings; give the filter a projector "
                    + "(optProjector or optModel) to map the merged rows");
        }
        List<Integer> at = new ArrayList<>();
        for (int i = 0; i < live.length; i++) {
            if (replaced.contains(live[i])) {
                at.add(i);
            }
        }
        long[] idx = at.stream().mapToLong(Integer::longValue).toArray();
        NDArray projected = projector.apply(featureRows.get(new NDIndex("{}", mgr.create(idx)))); // [r, D]
        if (projected.getShape().dimension() != 2 || projected.getShape().get(1) != rows.getShape().get(1)) {
            throw new IllegalArgumentException("the projector maps merged rows to " + projected.getShape()
                    + " but the embeddings are " + rows.getShape().get(1) + " wide");
        }
        long[] gather = new long[live.length];
        int r = 0;
        for (int i = 0; i < live.length; i++) {
            gather[i] = replaced.contains(live[i]) ? live.length + r++ : i;
        }
        return rows.concat(projected, 0).get(new NDIndex("{}", mgr.create(gather)));
    }

    private PruneDecision decide(PruneStep step, FilterContext ctx) {
        PruneDecision d;
        try {
            d = pruner.pruner().decide(ctx);
        } catch (PruneException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new PruneException("pruner " + pruner.id() + " step " + step.name() + " at " + step.hook()
                    + " failed: " + e);
        }
        if (d == null) {
            throw new PruneException("pruner " + pruner.id() + " step " + step.name() + " returned no decision");
        }
        return d;
    }

    /** The checks the runtime applies to a decision; returns the kept indices. */
    private int[] validate(FilterCall call, PruneStep step, PruneDecision d, int[] live, boolean last) {
        String where = "pruner " + pruner.id() + " step " + step.name() + " at " + step.hook();
        int[] kept = d.validate(where, live, call.visualTotal, step.reactivates());
        if (last) {
            checkBudget(call, kept, where);
        }
        return kept;
    }

    /** After the last step (only pre-LLM steps here) every convention counts the tokens entering the LLM. */
    private void checkBudget(FilterCall call, int[] kept, String where) {
        int target = Math.min(call.budget.total(), call.visualTotal);
        double slack = pruner.convention() == BudgetConvention.LAYER_AVERAGE ? 1.0 : 0.0;
        if (Math.abs(kept.length - target) > slack) {
            throw new PruneException((where == null ? "pruner " + pruner.id() : where) + ": kept " + kept.length
                    + " visual tokens; the budget " + call.budget.budget().label() + " asks for " + target);
        }
    }

    /** Maps replaced original index -> row of the decision's replacements (validated). */
    private Map<Integer, Integer> replacementRows(PruneStep step, PruneDecision d, long width) {
        return KeptRows.replacementSlots(d, "pruner " + pruner.id() + " step " + step.name() + " at " + step.hook(), width);
    }

    /** The rows of {@code kept} after a step (in the call's manager): replacements, live rows, or base rows. */
    private static NDArray gather(NDArray rows, int[] live, int[] kept, PruneDecision d, Map<Integer, Integer> repl,
                                  NDArray base, NDManager mgr) {
        Map<Integer, Integer> liveRow = new HashMap<>();
        for (int i = 0; i < live.length; i++) {
            liveRow.put(live[i], i);
        }
        int[] current = Arrays.stream(kept).map(v -> liveRow.getOrDefault(v, -1)).toArray();
        return KeptRows.assemble(rows, kept, current, repl, d.replacements(), () -> base, mgr, false);
    }

    private static List<FilterResult.Merged> merged(int[] live, NDArray rows, Set<Integer> replaced) {
        if (replaced.isEmpty()) {
            return List.of();
        }
        int width = (int) rows.getShape().get(1);
        float[] flat = rows.toFloatArray();
        Map<Integer, float[]> byIndex = new TreeMap<>();
        for (int i = 0; i < live.length; i++) {
            if (replaced.contains(live[i])) {
                byIndex.put(live[i], Arrays.copyOfRange(flat, i * width, (i + 1) * width));
            }
        }
        List<FilterResult.Merged> out = new ArrayList<>();
        byIndex.forEach((v, row) -> out.add(new FilterResult.Merged(v, row)));
        return out;
    }

    private static StepTrace trace(PruneStep step, int[] before, int[] kept, PruneDecision d) {
        Set<Integer> b = new HashSet<>();
        for (int v : before) {
            b.add(v);
        }
        int[] re = Arrays.stream(kept).filter(v -> !b.contains(v)).toArray();
        return new StepTrace(step.hook().toString(), step.name(), before.length, kept, re, d.scores());
    }

    private static long[] toLongs(int[] a) {
        return Arrays.stream(a).asLongStream().toArray();
    }
}
