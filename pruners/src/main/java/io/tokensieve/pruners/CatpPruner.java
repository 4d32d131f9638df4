package io.tokensieve.pruners;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.Need;
import io.tokensieve.core.prune.ParamSpec;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.PrunerParams;
import io.tokensieve.core.prune.PrunerProvider;
import io.tokensieve.core.prune.ResolvedBudget;
import io.tokensieve.core.prune.SequenceLayout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * CATP: two-stage pruning for multi-image in-context prompts. "CATP: Contextually Adaptive Token Pruning for
 * Efficient and Enhanced Multimodal In-Context Learning", Li et al., arXiv 2508.07871 (AAAI-26).
 *
 * <p>The last image of the prompt is the query; every earlier image is an in-context demonstration (ICD),
 * and each image's paired text is the text between its end and the next image (for the query: to the end of
 * the prompt). Stage 1 ({@code PROJECTED}, per image) keeps {@code floor(S_i (1 - R/2))} tokens, never fewer
 * than the image's final target, by greedy maximisation of facility location over {@code (cos+1)/2}
 * similarities plus {@code lambda1} times the alignment with the mean input embedding of the paired text.
 * Stage 2 runs after the paper's layer K and K+1. The spec says "after layer K" (0-based, output of layer K);
 * here that is {@code BEFORE_LAYER(K+1)}, converted once: at {@code BEFORE_LAYER(K+1)} the context tokens of
 * all ICDs are ranked jointly (per-ICD counts are free) by {@code max(0, A^K - A^{K-1})} of the query's last
 * token plus {@code lambda2 * cos(h, mean of the query sample's hidden states)}, with the attention of layers
 * K-1 and K; at {@code BEFORE_LAYER(K+2)} the query image is ranked by cosine to the mean hidden state of the
 * remaining context. R is {@code 1 - keep}; the convention is FINAL: exactly the budget survives stage 2
 * (per image for the query, summed over the ICDs for the context).
 *
 * <p>K defaults to the paper's 6 of 32 layers mapped by relative depth ({@link ModelShape#scaleLayer}) and
 * clamped to {@code 1 <= K <= L-3} so that both stage-2 hooks exist ({@code K+2 <= L-1}): K = 1 on 4 layers,
 * 2 on 8 layers, 6 on 32. With a single image (no ICDs, spec 7) the query is pruned at
 * {@code BEFORE_LAYER(K+1)} with the stage-2a score against its own sample (K clamped to {@code 1..L-2}).
 *
 * <p>Paired text: the layout carries token ids but no token strings, so chat-template words cannot be
 * recognised by themselves; every text token of the segment counts unless its id is listed in
 * {@code templateIds} (e.g. the ids of "user", "assistant", "question", "short", "answer", ":"). Text before
 * the first image (system prompt, instruction) belongs to no sample. Multi-view inputs are treated as ICDs
 * plus a query like any multi-image prompt.
 *
 * <p>Differences from the paper (no official code exists): the query's last token is the last token of the
 * whole prefill by default ({@code lastToken=question} uses the last paired-text token of the query);
 * stage-2 scores use raw attention growth and raw cosine as written ({@code normalizeStage2Terms=true}
 * min-max normalises both over the candidates); the context pool at K+2 is every remaining ICD token, image
 * and text ({@code contextPool=images} uses kept ICD image tokens only); ties go to the lower index; stage-2
 * pruning keeps the kept tokens' positions (stage 1 renumbers only with {@code position=renumber}, since the
 * position policy is one switch for the whole request); the per-part targets come from the resolved budget
 * (its per-image counts) instead of {@code round((1-R) S)}; {@code minKeepPerImage} (default 0) can reserve
 * tokens for every ICD.
 */
public final class CatpPruner implements PrunerProvider {
    @Override
    public String id() {
        return "catp";
    }

    @Override
    public String summary() {
        return "two-stage in-context pruning: per-image diversity + text alignment, then context at K+1 and query at K+2";
    }

    @Override
    public String paper() {
        return "CATP: Contextually Adaptive Token Pruning for Efficient and Enhanced Multimodal In-Context Learning, "
                + "arXiv 2508.07871";
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(
                ParamSpec.ofInt("layer", "auto", "K of the paper (0-based): context pruned after layer K "
                        + "(BEFORE_LAYER(K+1)), query after K+1; auto = 6 of 32 layers by relative depth"),
                ParamSpec.ofDouble("lambda1", "0.7", "weight of the text alignment in stage 1"),
                ParamSpec.ofDouble("lambda2", "0.6", "weight of the cosine to the query sample in stage 2"),
                ParamSpec.ofBool("normalizeStage2Terms", "false", "min-max normalise attention growth and cosine "
                        + "over the candidates (ablation)"),
                ParamSpec.ofEnum("lastToken", "prefill", "query token whose attention row is read: last token of "
                        + "the prefill, or last paired-text token of the query", "prefill", "question"),
                ParamSpec.ofEnum("contextPool", "all", "tokens averaged for the distilled context at K+2: every "
                        + "remaining ICD token, or ICD image tokens only", "all", "images"),
                ParamSpec.ofInt("minKeepPerImage", "0", "tokens every ICD keeps at the context step"),
                ParamSpec.ofIntList("templateIds", "none", "token ids left out of the paired text (template "
                        + "words), separated by '/'"));
    }

    @Override
    public String defaultKeep() {
        return "0.222";
    }

    @Override
    public BudgetConvention budgetConvention() {
        return BudgetConvention.FINAL;
    }

    /** Validated settings; {@code layer} is -1 for auto. */
    record Settings(int layer, double lambda1, double lambda2, boolean normalise, boolean lastQuestion,
                    boolean poolImagesOnly, int minKeep, Set<Long> templateIds) {}

    @Override
    public Pruner create(PrunerParams params) {
        int layer = -1;
        if (!params.isAuto("layer")) {
            layer = params.getInt("layer");
            if (layer < 1) {
                throw params.bad("layer", String.valueOf(layer), "at least 1 (attention of layers K-1 and K is read)");
            }
        }
        double l1 = params.getDouble("lambda1");
        double l2 = params.getDouble("lambda2");
        if (l1 < 0) {
            throw params.bad("lambda1", params.raw("lambda1"), "at least 0");
        }
        if (l2 < 0) {
            throw params.bad("lambda2", params.raw("lambda2"), "at least 0");
        }
        int minKeep = params.getInt("minKeepPerImage");
        if (minKeep < 0) {
            throw params.bad("minKeepPerImage", String.valueOf(minKeep), "at least 0");
        }
        Set<Long> template = new HashSet<>();
        if (!"none".equals(params.raw("templateIds"))) {
            for (int id : params.getIntList("templateIds")) {
                template.add((long) id);
            }
        }
        return new Impl(new Settings(layer, l1, l2, params.getBool("normalizeStage2Terms"),
                params.getEnum("lastToken").equals("question"), params.getEnum("contextPool").equals("images"),
                minKeep, Set.copyOf(template)));
    }

    static final String STAGE1 = "stage1";
    static final String CONTEXT = "stage2-context";
    static final String QUERY = "stage2-query";

    private static final class Impl implements Pruner {
        private final Settings s;

        Impl(Settings s) {
            this.s = s;
        }

        @Override
        public BudgetConvention budgetConvention() {
            return BudgetConvention.FINAL;
        }

        @Override
        public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
            if (images.isEmpty()) {
                return List.of();
            }
            boolean demos = images.size() > 1;
            int k = layerK(model.layers(), demos, s.layer());
            PruneStep stage1 = PruneStep.of(STAGE1, HookPoint.PROJECTED, Need.HIDDEN_STATES, Need.TEXT_EMBEDDINGS);
            PruneStep first = PruneStep.of(demos ? CONTEXT : QUERY, HookPoint.beforeLayer(k + 1), Need.HIDDEN_STATES)
                    .withAttentionLayers(k - 1, k);
            if (!demos) {
                return List.of(stage1, first);
            }
            return List.of(stage1, first, PruneStep.of(QUERY, HookPoint.beforeLayer(k + 2), Need.HIDDEN_STATES));
        }

        @Override
        public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images, ResolvedBudget budget) {
            return budget.budget().keepsAll() ? List.of() : schedule(model, images);
        }

        @Override
        public PruneDecision decide(PruneContext ctx) {
            if (ctx.budget().budget().keepsAll()) {
                return PruneDecision.keepAll(ctx);
            }
            Segments seg = Segments.of(ctx.prompt(), ctx.images(), s.templateIds());
            return switch (ctx.step().name()) {
                case STAGE1 -> stage1(ctx, seg);
                case CONTEXT -> context(ctx, seg);
                case QUERY -> ctx.images().size() > 1 ? query(ctx, seg) : context(ctx, seg);
                default -> throw new PruneException("catp has no step " + ctx.step().name());
            };
        }

        private PruneDecision stage1(PruneContext ctx, Segments seg) {
            int[] live = ctx.live();
            NDManager mgr = ctx.manager();
            NDArray hidden = ctx.hidden(); // [n, D], rows as live
            NDArray text = ctx.textEmbeddings(); // [Tt, D]
            Map<Integer, Integer> textRow = new HashMap<>();
            int[] textSlots = ctx.prompt().textSlots();
            for (int r = 0; r < textSlots.length; r++) {
                textRow.put(ctx.prompt().seqIndex(textSlots[r]), r);
            }
            int[] sizes = ctx.images().stream().mapToInt(ImageSpan::count).toArray();
            float[] scores = new float[ctx.visualTotal()];
            Arrays.fill(scores, Float.NaN);
            List<Integer> kept = new ArrayList<>();
            for (ImageSpan span : ctx.images()) {
                int[] pos = IntStream.range(0, live.length).filter(i -> span.contains(live[i])).toArray();
                if (pos.length == 0) {
                    continue;
                }
                NDArray x = unit(hidden.get(new NDIndex("{}", mgr.create(longs(pos))))); // [s, D]
                double[][] w = square(x.matMul(x.transpose()).add(1f).div(2f).toFloatArray(), pos.length);
                double[] a = new double[pos.length];
                int[] paired = seg.text(span.image());
                if (paired.length > 0) {
                    long[] rows = Arrays.stream(paired).mapToLong(q -> textRow.get(q)).toArray();
                    NDArray v = unit(text.get(new NDIndex("{}", mgr.create(rows))).mean(new int[] {0}).reshape(1, -1));
                    a = doubles(x.matMul(v.transpose()).add(1f).div(2f).toFloatArray());
                }
                int target = Math.min(ctx.budget().forImage(span.image()), pos.length);
                int k1 = Math.min(pos.length, CatpMath.stage1Keep(span.count(), target, removed(ctx.budget(), span.image(),
                        sizes)));
                CatpMath.Greedy g = CatpMath.facilityLocation(w, a, k1, s.lambda1());
                for (int t = 0; t < g.order().length; t++) {
                    kept.add(live[pos[g.order()[t]]]);
                    scores[live[pos[g.order()[t]]]] = (float) g.gains()[t];
                }
                for (int i = 0; i < pos.length; i++) {
                    if (!Double.isNaN(g.remainingGains()[i])) {
                        scores[live[pos[i]]] = (float) g.remainingGains()[i];
                    }
                }
            }
            int[] out = kept.stream().mapToInt(Integer::intValue).sorted().toArray();
            return PruneDecision.keep(out).withScores(scores);
        }

        /** Stage 2a (eq. 9): context tokens of all ICDs jointly, or the query alone when there are no ICDs. */
        private PruneDecision context(PruneContext ctx, Segments seg) {
            SequenceLayout seq = ctx.sequence();
            int k = ctx.step().hook().layer() - 1;
            int q = ctx.images().size() - 1;
            boolean demos = q > 0;
            int[] live = ctx.live();
            int[] cand = Arrays.stream(live).filter(v -> demos ? imageOf(ctx, v) < q : imageOf(ctx, v) == q).toArray();
            int target = 0;
            for (int i = demos ? 0 : q; i < (demos ? q : q + 1); i++) {
                target += ctx.budget().forImage(i);
            }
            int[] querySlots = IntStream.concat(
                    Arrays.stream(live).filter(v -> imageOf(ctx, v) == q).map(seq::slotOfVisual),
                    Arrays.stream(seg.text(q)).map(seq::slotOfSeqIndex)).sorted().toArray();
            double[] cos = cosToMean(ctx.hidden(), Arrays.stream(cand).map(seq::slotOfVisual).toArray(), querySlots,
                    ctx.manager());
            double[] rowK = attentionToward(ctx, k, cand, seg, q);
            double[] rowKm1 = attentionToward(ctx, k - 1, cand, seg, q);
            double[] score = CatpMath.contextScores(rowK, rowKm1, cos, s.lambda2(), s.normalise());
            int[] group = Arrays.stream(cand).map(v -> imageOf(ctx, v)).toArray();
            int[] keepPos = CatpMath.topKWithFloor(score, group, target, demos ? s.minKeep() : 0);
            return decision(ctx, live, cand, keepPos, score);
        }

        /** Stage 2b (eq. 10): the query image by cosine to the distilled context. */
        private PruneDecision query(PruneContext ctx, Segments seg) {
            SequenceLayout seq = ctx.sequence();
            int q = ctx.images().size() - 1;
            int[] live = ctx.live();
            int[] cand = Arrays.stream(live).filter(v -> imageOf(ctx, v) == q).toArray();
            IntStream pool = Arrays.stream(live).filter(v -> imageOf(ctx, v) < q).map(seq::slotOfVisual);
            if (!s.poolImagesOnly()) {
                for (int i = 0; i < q; i++) {
                    pool = IntStream.concat(pool, Arrays.stream(seg.text(i)).map(seq::slotOfSeqIndex));
                }
            }
            double[] cos = cosToMean(ctx.hidden(), Arrays.stream(cand).map(seq::slotOfVisual).toArray(),
                    pool.sorted().toArray(), ctx.manager());
            int[] keepPos = CatpMath.topKWithFloor(cos, new int[cand.length], ctx.budget().forImage(q), 0);
            return decision(ctx, live, cand, keepPos, cos);
        }

        private static PruneDecision decision(PruneContext ctx, int[] live, int[] cand, int[] keepPos, double[] score) {
            Set<Integer> candSet = new HashSet<>();
            for (int v : cand) {
                candSet.add(v);
            }
            IntStream others = Arrays.stream(live).filter(v -> !candSet.contains(v));
            int[] out = IntStream.concat(others, Arrays.stream(keepPos).map(i -> cand[i])).sorted().toArray();
            float[] vals = new float[cand.length];
            for (int i = 0; i < cand.length; i++) {
                vals[i] = (float) score[i];
            }
            return PruneDecision.keep(out).withScores(Select.scoresOf(ctx.visualTotal(), cand, vals));
        }

        /** Head-averaged attention that the query's last token pays each candidate in decoder layer {@code l}. */
        private double[] attentionToward(PruneContext ctx, int l, int[] cand, Segments seg, int q) {
            SequenceLayout lay = ctx.sequenceAt(l);
            int ql = lay.lastSlot();
            int[] qt = seg.text(q);
            if (s.lastQuestion() && qt.length > 0) {
                ql = lay.slotOfSeqIndex(qt[qt.length - 1]);
            }
            float[] row = ctx.attention(l).get(new NDIndex(":, {}, :", ql)).mean(new int[] {0}).toFloatArray(); // [T]
            double[] out = new double[cand.length];
            for (int i = 0; i < cand.length; i++) {
                out[i] = row[lay.slotOfVisual(cand[i])];
            }
            return out;
        }
    }

    /** K for a model of {@code layers} decoder layers (explicit or auto), checked so that every hook exists. */
    static int layerK(int layers, boolean demos, int explicit) {
        int maxK = layers - (demos ? 3 : 2);
        if (maxK < 1) {
            throw new PruneException("catp needs at least " + (demos ? 4 : 3) + " decoder layers for "
                    + (demos ? "several images" : "one image") + ", the model has " + layers);
        }
        if (explicit < 0) {
            int scaled = (int) Math.round(6 * layers / 32.0);
            return Math.max(1, Math.min(maxK, scaled));
        }
        if (explicit > maxK) {
            throw new PruneException("catp: layer=" + explicit + " needs hooks up to BEFORE_LAYER(" + (explicit
                    + (demos ? 2 : 1)) + "), but the model has " + layers + " decoder layers (use 1.." + maxK + ")");
        }
        return explicit;
    }

    /** R, the share of tokens the method removes, for one image. */
    static double removed(ResolvedBudget b, int image, int[] sizes) {
        Budget bu = b.budget();
        if (bu.ratio()) {
            return 1 - bu.value();
        }
        if (bu.scope() == Budget.Scope.IMAGE) {
            return 1 - (double) b.forImage(image) / sizes[image];
        }
        return 1 - (double) b.total() / Arrays.stream(sizes).sum();
    }

    private static int imageOf(PruneContext ctx, int v) {
        for (ImageSpan span : ctx.images()) {
            if (span.contains(v)) {
                return span.image();
            }
        }
        throw new IllegalStateException("visual token " + v + " belongs to no image");
    }

    /**
     * Each image's paired text as prompt sequence indices: text tokens after the image up to the next image
     * (the query: to the end of the prompt), minus template ids.
     */
    record Segments(int[][] text) {
        static Segments of(SequenceLayout prompt, List<ImageSpan> images, Set<Long> templateIds) {
            int[][] t = new int[images.size()][];
            for (int i = 0; i < images.size(); i++) {
                ImageSpan span = images.get(i);
                int from = span.sequenceStart() + span.count();
                int to = i + 1 < images.size() ? images.get(i + 1).sequenceStart() : prompt.size();
                t[i] = IntStream.range(from, to).filter(q -> !prompt.isVisual(q) && !templateIds.contains(prompt.tokenId(q)))
                        .map(prompt::seqIndex).toArray();
            }
            return new Segments(t);
        }

        int[] text(int image) {
            return text[image];
        }
    }

    /** Rows scaled to unit L2 norm (norms clamped at 1e-8). */
    static NDArray unit(NDArray x) {
        return x.div(x.square().sum(new int[] {1}, true).sqrt().maximum(1e-8f));
    }

    /** Cosine of each candidate slot's hidden state to the mean hidden state of the pool slots (0 if no pool). */
    static double[] cosToMean(NDArray hidden, int[] candSlots, int[] poolSlots, NDManager mgr) {
        if (candSlots.length == 0 || poolSlots.length == 0) {
            return new double[candSlots.length];
        }
        NDArray h = unit(hidden.get(new NDIndex("{}", mgr.create(longs(candSlots))))); // [c, D]
        NDArray v = unit(hidden.get(new NDIndex("{}", mgr.create(longs(poolSlots)))).mean(new int[] {0}).reshape(1, -1));
        return doubles(h.matMul(v.transpose()).toFloatArray()); // [c]
    }

    static long[] longs(int[] a) {
        return Arrays.stream(a).asLongStream().toArray();
    }

    static double[] doubles(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    static double[][] square(float[] flat, int n) {
        double[][] w = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                w[i][j] = flat[i * n + j];
            }
        }
        return w;
    }
}
