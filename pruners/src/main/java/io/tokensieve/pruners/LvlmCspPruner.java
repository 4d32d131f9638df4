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
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * LVLM_CSP: clustering, scattering and pruning along decoder depth for reasoning segmentation. "LVLM_CSP:
 * Accelerating Large Vision Language Models via Clustering, Scattering, and Pruning for Reasoning
 * Segmentation", Chen et al., arXiv 2504.10854.
 *
 * <p>Stage 1 ({@code PROJECTED}) keeps {@code N_c} representatives per request (split over images by size)
 * chosen by {@code clusterMode}: {@code uniform} (raster stride {@code i*floor(N/N_c)}, default),
 * {@code uniform-2d} (a stride lattice in both axes), {@code random} (seeded), {@code cls-attn} (top of the
 * head-averaged CLS attention of the vision layer that produces the features, i.e. hidden state f comes from
 * layer f-1) or {@code seg-first} (per-instance quotas over built-in instance masks, below). Stage 2
 * ({@code BEFORE_LAYER(L_c)}) reactivates every visual token: {@code reinsert} puts each dropped token back
 * with its projected embedding (the core's reinsertion, no replacement rows), {@code residual-broadcast}
 * writes {@code h_k = x_k + (h_r(k) - x_r(k))} with {@code r(k)} the representative of the same image whose
 * projected embedding is most cosine-similar (ties: lower index). Stage 3 ({@code BEFORE_LAYER(L_p)}) keeps the
 * {@code N_p} tokens most attended by the {@code [SEG]} token in layer {@code L_p-1} (heads averaged; several
 * [SEG] rows averaged; {@code segScore=mean} averages every scattering layer). The [SEG] token is found by the
 * model's {@code seg_token_index} in the layout; it is there when the request teacher-forces it as answer
 * prefix (LISA protocol, as the eval module does for segmentation). Without it (generation mode,
 * {@code query=last}, or a model without mask head) the last prompt token is the query (spec 4.4).
 *
 * <p>Budget (LAYER_AVERAGE: sum over layers of live visual tokens / layers is within one token of the
 * budget). The mapping from {@code keep} to {@code (L_c, L_p, N_c, N_p)} keeps the preset's shape:
 * <ul>
 *   <li>{@code L_c} = the preset's 8 (csp70: 10) of 32 layers by relative depth, at least 1 (1 on 4 layers,
 *   2 on 8, 8 on 32); the widest window is the preset's {@code L_p} = 16 of 32 (2 on 4 layers, 4 on 8).</li>
 *   <li>The scattering window {@code w = L_p - L_c} is scaled with the budget so that scattering spends the
 *   preset's share sigma of the token-layers ({@code sigma = 8/11} for csp65, {@code 6/9.5} for csp70):
 *   {@code w = round(sigma * L * keep)}, at least 1 and at most the preset's width.</li>
 *   <li>The rest, {@code L*T - w*N} token-layers, is split with the preset's ratio phi ({@code 2/3} to stage 1
 *   for csp65, {@code 5/7} for csp70): {@code N_c = round(phi R / L_c)}, {@code N_p = round((R - L_c N_c) /
 *   (L - L_p))}, each at least one per image and at most N (when one clamps, the other absorbs the rest).
 *   Rounding N_p last leaves an error of at most {@code (L - L_p)/2} token-layers, under half a token.</li>
 *   <li>If the counts do not fit (budgets below about {@code N/L + 1}, where one full scattering layer alone
 *   exceeds the budget), the window narrows, down to no scattering: stage 3 then ranks the representatives at
 *   {@code L_p = L_c}, so every keep in (0, 1] is reachable.</li>
 * </ul>
 * At the preset's own average ({@code keep=0.34375}, the default; csp70: {@code keep=0.296875}) this gives the
 * spec's presets exactly: {@code L_c=8, L_p=16, N_c=N/4, N_p=N/16} (rho = 0.65625) on 32 layers,
 * {@code 1, 2, 16, 4} on 4 layers and {@code 2, 4, 16, 4} on 8 layers with N = 64. {@code clusterLayer} and
 * {@code pruneLayer} fix the boundaries (the counts are then solved; an unreachable budget fails).
 *
 * <p>SEG_FIRST: the runtime has no instance segmenter, so instance masks come from the visual tokens
 * themselves: the {@code segJoin} share of the most similar 4-neighbour patch pairs (cosine of projected
 * embeddings) are joined into regions; the largest region is background and every other region of at least
 * two patches is an instance. On ShapesBench-like scenes (flat shapes on textured backgrounds) such regions
 * follow the objects; the quota, de-duplication, fill and trim rules are the spec's.
 *
 * <p>Differences from the paper (no code was published and the method section could not be read; every
 * number is a reconstruction): presets and the budget mapping above are ours; REINSERT and
 * RESIDUAL_BROADCAST are both guesses at "scattering"; the stage-3 score layer is {@code L_p-1}; positions
 * stay the original ones by default (the position switch is the core's); multi-image inputs share the layer
 * boundaries and split the counts by image size ({@code scope=request} ranks stage 3 over all images).
 */
public final class LvlmCspPruner implements PrunerProvider {
    @Override
    public String id() {
        return "lvlm-csp";
    }

    @Override
    public String summary() {
        return "cluster to representatives, scatter every token back at L_c, prune to the [SEG]-attended ones at L_p";
    }

    @Override
    public String paper() {
        return "LVLM_CSP: Accelerating Large Vision Language Models via Clustering, Scattering, and Pruning for "
                + "Reasoning Segmentation, arXiv 2504.10854";
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(
                ParamSpec.ofEnum("preset", "csp65", "shape of the schedule (boundaries and stage shares); its own "
                        + "average is keep=0.34375 (csp65) or 0.296875 (csp70)", "csp65", "csp70"),
                ParamSpec.ofInt("clusterLayer", "auto", "L_c: first scattering layer (0 = no clustering)"),
                ParamSpec.ofInt("pruneLayer", "auto", "L_p: first pruned layer (= layers: no stage 3)"),
                ParamSpec.ofEnum("clusterMode", "uniform", "stage-1 representatives", "uniform", "uniform-2d",
                        "random", "cls-attn", "seg-first"),
                ParamSpec.ofEnum("scatterMode", "reinsert", "reinsert: dropped tokens return with their projected "
                        + "embedding; residual-broadcast: x_k + (h_r - x_r) of the nearest representative",
                        "reinsert", "residual-broadcast"),
                ParamSpec.ofEnum("segScore", "last", "stage-3 attention: layer L_p-1, or mean over the scattering "
                        + "layers", "last", "mean"),
                ParamSpec.ofEnum("query", "seg", "stage-3 query token: [SEG] (last prompt token when absent) or "
                        + "always the last prompt token", "seg", "last"),
                ParamSpec.ofDouble("segJoin", "0.5", "seg-first: share of neighbouring patch pairs joined into "
                        + "regions (0..1)"));
    }

    @Override
    public String defaultKeep() {
        return "0.34375";
    }

    @Override
    public BudgetConvention budgetConvention() {
        return BudgetConvention.LAYER_AVERAGE;
    }

    enum ClusterMode { UNIFORM, UNIFORM_2D, RANDOM, CLS_ATTN, SEG_FIRST }

    /** Validated settings; layers are -1 for auto. */
    record Settings(CspMath.Preset preset, int clusterLayer, int pruneLayer, ClusterMode mode, boolean broadcast,
                    boolean meanScore, boolean lastToken, double segJoin) {}

    @Override
    public Pruner create(PrunerParams params) {
        int lc = -1;
        int lp = -1;
        if (!params.isAuto("clusterLayer")) {
            lc = params.getInt("clusterLayer");
            if (lc < 0) {
                throw params.bad("clusterLayer", String.valueOf(lc), "at least 0");
            }
        }
        if (!params.isAuto("pruneLayer")) {
            lp = params.getInt("pruneLayer");
            if (lp < 1) {
                throw params.bad("pruneLayer", String.valueOf(lp), "at least 1 (layer L_p-1's attention ranks tokens)");
            }
            if (lc >= 0 && lp < lc) {
                throw params.bad("pruneLayer", String.valueOf(lp), "at least clusterLayer (" + lc + ")");
            }
        }
        double join = params.getDouble("segJoin");
        if (join < 0 || join > 1) {
            throw params.bad("segJoin", params.raw("segJoin"), "between 0 and 1");
        }
        ClusterMode mode = ClusterMode.valueOf(params.getEnum("clusterMode").toUpperCase(Locale.ROOT).replace('-', '_'));
        return new Impl(new Settings(CspMath.Preset.parse(params.getEnum("preset")), lc, lp, mode,
                params.getEnum("scatterMode").equals("residual-broadcast"), params.getEnum("segScore").equals("mean"),
                params.getEnum("query").equals("last"), join));
    }

    static final String CLUSTER = "cluster";
    static final String SCATTER = "scatter";
    static final String PRUNE = "prune";

    private static final class Impl implements Pruner {
        private final Settings s;

        Impl(Settings s) {
            this.s = s;
        }

        @Override
        public BudgetConvention budgetConvention() {
            return BudgetConvention.LAYER_AVERAGE;
        }

        CspMath.Plan plan(ModelShape model, List<ImageSpan> images, ResolvedBudget budget) {
            int n = images.stream().mapToInt(ImageSpan::count).sum();
            return CspMath.plan(model.layers(), n, Math.min(budget.total(), n), images.size(), s.preset(),
                    s.clusterLayer(), s.pruneLayer());
        }

        /** Without a budget: the preset's own average. */
        @Override
        public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
            int[] sizes = images.stream().mapToInt(ImageSpan::count).toArray();
            return schedule(model, images, new Budget(s.preset().keep(), true, Budget.Scope.IMAGE).resolve(sizes));
        }

        @Override
        public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images, ResolvedBudget budget) {
            if (images.isEmpty() || budget.budget().keepsAll()) {
                return List.of();
            }
            CspMath.Plan p = plan(model, images, budget);
            List<PruneStep> steps = new ArrayList<>();
            if (p.clusters()) {
                steps.add(new PruneStep(CLUSTER, HookPoint.PROJECTED, clusterNeeds(s.mode()), List.of(), false));
            }
            if (p.scatters()) {
                PruneStep st = s.broadcast()
                        ? PruneStep.of(SCATTER, HookPoint.beforeLayer(p.clusterLayer()), Need.HIDDEN_STATES, Need.PROJECTOR)
                        : PruneStep.of(SCATTER, HookPoint.beforeLayer(p.clusterLayer()));
                steps.add(st.withReactivation());
            }
            if (p.prunes()) {
                int from = s.meanScore() && p.scatters() ? p.clusterLayer() : p.pruneLayer() - 1;
                Integer[] layers = IntStream.range(from, p.pruneLayer()).boxed().toArray(Integer[]::new);
                steps.add(PruneStep.of(PRUNE, HookPoint.beforeLayer(p.pruneLayer())).withAttentionLayers(layers));
            }
            return steps;
        }

        @Override
        public int[] plannedCounts(ModelShape model, List<ImageSpan> images, ResolvedBudget budget) {
            if (images.isEmpty() || budget.budget().keepsAll()) {
                return null;
            }
            return plan(model, images, budget).counts();
        }

        @Override
        public PruneDecision decide(PruneContext ctx) {
            if (ctx.budget().budget().keepsAll()) {
                return PruneDecision.keepAll(ctx);
            }
            CspMath.Plan p = plan(ctx.model(), ctx.images(), ctx.budget());
            int[] sizes = ctx.images().stream().mapToInt(ImageSpan::count).toArray();
            return switch (ctx.step().name()) {
                case CLUSTER -> cluster(ctx, split(p.clusterTokens(), sizes));
                case SCATTER -> scatter(ctx);
                case PRUNE -> prune(ctx, p.pruneTokens(), sizes);
                default -> throw new PruneException("lvlm-csp has no step " + ctx.step().name());
            };
        }

        private PruneDecision cluster(PruneContext ctx, int[] quota) {
            int[] live = ctx.live();
            Random rng = ctx.random(); // one stream for all images, so each image gets its own draw
            float[] scores = null;
            List<Integer> kept = new ArrayList<>();
            for (ImageSpan span : ctx.images()) {
                int n = span.count();
                int k = quota[span.image()];
                boolean grid = span.gridRows() * span.gridCols() == n;
                int[] local = switch (s.mode()) {
                    case UNIFORM -> CspMath.uniform(n, k);
                    case UNIFORM_2D -> grid ? CspMath.uniform2d(span.gridRows(), span.gridCols(), k) : CspMath.uniform(n, k);
                    case RANDOM -> CspMath.random(rng, n, k);
                    case CLS_ATTN -> {
                        double[] a = clsAttention(ctx, span);
                        if (scores == null) {
                            scores = new float[ctx.visualTotal()];
                            Arrays.fill(scores, Float.NaN);
                        }
                        for (int j = 0; j < n; j++) {
                            scores[span.firstVisual() + j] = (float) a[j];
                        }
                        yield CspMath.topK(a, k);
                    }
                    case SEG_FIRST -> {
                        if (!grid) {
                            yield CspMath.uniform(n, k);
                        }
                        float[][] x = imageRows(ctx, live, span);
                        yield CspMath.segFirst(CspMath.featureRegions(x, span.gridRows(), span.gridCols(), s.segJoin()),
                                n, k);
                    }
                };
                for (int j : local) {
                    kept.add(span.firstVisual() + j);
                }
            }
            PruneDecision d = PruneDecision.keep(kept.stream().mapToInt(Integer::intValue).sorted().toArray());
            return scores == null ? d : d.withScores(scores);
        }

        /** Head-averaged attention of CLS to each patch in the vision layer that produced the features. */
        private static double[] clsAttention(PruneContext ctx, ImageSpan span) {
            int layer = Math.max(0, ctx.vision().featureLayer() - 1);
            NDArray a = ctx.vision().attention(span.image(), layer); // [H, 1+n, 1+n]
            float[] row = a.get(new NDIndex(":, 0, :")).mean(new int[] {0}).toFloatArray(); // [1+n]
            int off = span.gridRows() * span.gridCols() == span.count() ? 1 : 0;
            double[] out = new double[span.count()];
            for (int j = 0; j < out.length; j++) {
                out[j] = row[j + off];
            }
            return out;
        }

        /** Projected embeddings of every token of one image as rows (all are live at PROJECTED). */
        private static float[][] imageRows(PruneContext ctx, int[] live, ImageSpan span) {
            NDArray h = ctx.hidden(); // [n_live, D] as live
            long[] pos = IntStream.range(0, live.length).filter(i -> span.contains(live[i])).asLongStream().toArray();
            return ZooPruner.rows(h.get(new NDIndex("{}", ctx.manager().create(pos))));
        }

        private PruneDecision scatter(PruneContext ctx) {
            int[] all = IntStream.range(0, ctx.visualTotal()).toArray();
            if (!s.broadcast()) {
                return PruneDecision.keep(all);
            }
            int[] reps = ctx.live();
            SequenceLayout seq = ctx.sequence();
            NDManager mgr = ctx.manager();
            NDArray x = ctx.projected(); // [N, D]
            NDArray h = ctx.hidden(); // [T, D] slots
            List<Integer> members = new ArrayList<>();
            List<Integer> owners = new ArrayList<>();
            for (ImageSpan span : ctx.images()) {
                int[] localReps = Arrays.stream(reps).filter(span::contains).map(v -> v - span.firstVisual()).toArray();
                if (localReps.length == 0) {
                    continue;
                }
                NDArray xi = CatpPruner.unit(x.get(new NDIndex("{}:{}", span.firstVisual(), span.endVisual())));
                double[][] sim = CatpPruner.square(xi.matMul(xi.transpose()).toFloatArray(), span.count());
                int[] owner = CspMath.nearestRepresentative(sim, localReps);
                for (int j = 0; j < span.count(); j++) {
                    if (owner[j] != j) {
                        members.add(span.firstVisual() + j);
                        owners.add(span.firstVisual() + owner[j]);
                    }
                }
            }
            if (members.isEmpty()) {
                return PruneDecision.keep(all);
            }
            long[] k = members.stream().mapToLong(Integer::longValue).toArray();
            long[] r = owners.stream().mapToLong(Integer::longValue).toArray();
            long[] rSlots = owners.stream().mapToLong(v -> seq.slotOfVisual(v)).toArray();
            NDArray rows = x.get(new NDIndex("{}", mgr.create(k)))
                    .add(h.get(new NDIndex("{}", mgr.create(rSlots))))
                    .sub(x.get(new NDIndex("{}", mgr.create(r)))); // [members, D]
            return PruneDecision.keep(all).withReplacements(members.stream().mapToInt(Integer::intValue).toArray(), rows);
        }

        private PruneDecision prune(PruneContext ctx, int total, int[] sizes) {
            int[] live = ctx.live();
            double[] score = new double[live.length];
            List<Integer> layers = ctx.step().attentionLayers();
            for (int l : layers) {
                SequenceLayout lay = ctx.sequenceAt(l);
                int[] q = querySlots(ctx, lay);
                NDArray a = ctx.attention(l); // [H, T, T]
                for (int slot : q) {
                    float[] row = a.get(new NDIndex(":, {}, :", slot)).mean(new int[] {0}).toFloatArray(); // [T]
                    for (int i = 0; i < live.length; i++) {
                        int col = lay.slotOfVisual(live[i]);
                        score[i] += col < 0 ? 0 : row[col] / (layers.size() * q.length);
                    }
                }
            }
            float[] vals = new float[live.length];
            for (int i = 0; i < live.length; i++) {
                vals[i] = (float) score[i];
            }
            float[] byIndex = Select.scoresOf(ctx.visualTotal(), live, vals);
            int[] kept;
            if (ctx.budget().budget().scope() == Budget.Scope.REQUEST) {
                kept = Select.topK(byIndex, live, total);
            } else {
                int[] quota = split(total, sizes);
                kept = new int[0];
                List<int[]> per = Select.livePerImage(ctx, live);
                for (int i = 0; i < per.size(); i++) {
                    kept = Select.union(kept, Select.topK(byIndex, per.get(i), quota[i]));
                }
            }
            return PruneDecision.keep(kept).withScores(byIndex);
        }

        /** The [SEG] slots of a layer's layout (their rows are averaged), or its last slot. */
        private int[] querySlots(PruneContext ctx, SequenceLayout lay) {
            long seg = ctx.segTokenId();
            if (!s.lastToken() && seg >= 0) {
                int[] slots = IntStream.range(0, lay.size()).filter(t -> !lay.isVisual(t) && lay.tokenId(t) == seg)
                        .toArray();
                if (slots.length > 0) {
                    return slots;
                }
            }
            return new int[] {lay.lastSlot()};
        }
    }

    /** {@code total} split over images in proportion to their sizes (largest remainder). */
    static int[] split(int total, int[] sizes) {
        int[] out = new int[sizes.length];
        Budget.split(total, sizes, out);
        return out;
    }

    /** What stage 1 reads besides the layout in each cluster mode. */
    static Set<Need> clusterNeeds(ClusterMode mode) {
        return switch (mode) {
            case CLS_ATTN -> EnumSet.of(Need.VISION_INTERNALS);
            case SEG_FIRST -> EnumSet.of(Need.HIDDEN_STATES);
            default -> EnumSet.noneOf(Need.class);
        };
    }
}
