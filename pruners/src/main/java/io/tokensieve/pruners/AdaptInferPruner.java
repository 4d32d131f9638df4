package io.tokensieve.pruners;

import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.ParamSpec;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.PrunerParams;
import io.tokensieve.core.prune.PrunerProvider;
import io.tokensieve.core.prune.ResolvedBudget;
import io.tokensieve.core.prune.SequenceLayout;
import io.tokensieve.pruners.analysis.ScheduleFile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * AdaptInfer: multi-stage pruning inside the LLM, ranking visual tokens by text-to-vision attention
 * weighted with a soft prior over the text tokens taken from the text-to-text attention of the same layer.
 * "AdaptInfer: Adaptive Token Pruning for Vision-Language Model Inference with Dynamical Text Guidance",
 * Zhang et al., arXiv 2508.06084.
 *
 * <p>Score at a stage (per head h, text block = every non-visual token after the first visual token):
 * symmetrise the text-to-text block {@code B = C + C^T - diag(C)}, optionally smooth it toward its mean
 * ({@code lambda}), take column sums as the prior {@code w_h}, and score visual token v with
 * {@code sum_h sum_j w_h[j] * A_h[j, v]}. {@code prior=false} sets {@code w = 1} (plain summed
 * text-to-vision attention, the reference's ablation).
 *
 * <p>Layer numbering: the reference prunes the <em>output</em> of layers 1, 10 and 20 (of 32) with those
 * layers' attention. Here that is {@code BEFORE_LAYER(l + 1)} reading the attention of layer {@code l}, so
 * {@code layers=1/10/20} schedules steps before layers 2, 11 and 21 of a 32-layer model. Other depths map the
 * boundaries {@code l + 1} by relative depth ({@link ModelShape#scaleLayer}), kept at least 1, distinct and
 * below the last layer (4 layers: before 1, 2, 3; 8 layers: before 1, 3, 5). {@code schedule=FILE} takes the
 * stage layers from {@code sieve analyze --method adaptinfer} instead (mapped by relative depth if the file
 * was made on another depth).
 *
 * <p>Budget (layer average, the paper's "64 tokens" convention, counted over the layers that actually
 * process the tokens): the reference's presets keep about 50% of the visual tokens at the first stage and
 * 25-30% then 25% of the previous stage at the next ones (128 -> 290/72/18 of 576). {@code ratios} keeps
 * that shape (default 0.5/0.25/0.25, each stage as a share of the previous one) and the stage counts are a
 * common scale of it, {@code n_k = floor(s * N * r_1 * ... * r_k)}, solved so the equivalent average is
 * within one token of the budget ({@link StagePlan}).
 *
 * <p>Positions: the universal {@code position} parameter chooses the reference's COMPAT mode
 * ({@code renumber}, the default: contiguous positions after every stage, decode positions from each
 * layer's cache length) or PRESERVE ({@code keep}: original positions). {@code clamp=true} (default) keeps
 * the COMPAT code's rule that a stage never keeps all of its {@code V} tokens ({@code k = min(n, V-1)}); use
 * {@code clamp=false} for the clean mode, typically with {@code position=keep}.
 *
 * <p>Differences from the reference code: stage counts come from the budget (see above) instead of fixed
 * presets; the equivalent average counts the tokens each layer processes (the code's own accounting counts
 * a pruning layer at its pruned size); ties go to the lower index; the text block starts after the first
 * visual token, so on several images it also holds the text between them, and the ranking runs per image
 * with the per-image counts (scope image) or jointly (scope request); scores are accumulated in double
 * precision; when the budget is too small for layers before the first stage to see every token, the first
 * stage moves to {@code BEFORE_LAYER(0)} and ranks with layer 0's attention rows recomputed from its weights.
 */
public final class AdaptInferPruner implements PrunerProvider {
    static final String ID = "adaptinfer";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "multi-stage in-LLM pruning by text-to-vision attention weighted with a text-to-text prior";
    }

    @Override
    public String paper() {
        return "AdaptInfer: Adaptive Token Pruning for Vision-Language Model Inference with Dynamical Text Guidance, "
                + "arXiv 2508.06084";
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(
                ParamSpec.ofIntList("layers", "1/10/20", "decoder layers (of 32, mapped to depth) whose output each "
                        + "stage prunes, i.e. steps before layers l+1"),
                ParamSpec.ofDoubleList("ratios", "0.5/0.25/0.25", "stage shape: each stage's share of the previous "
                        + "one; a common scale is solved from keep"),
                ParamSpec.ofDouble("lambda", "1", "smoothing of the text prior toward its mean, 1 = none, 0 = uniform"),
                ParamSpec.ofBool("prior", "true", "weight text queries by the text-to-text prior (false: plain "
                        + "summed text-to-vision attention)"),
                ParamSpec.ofBool("clamp", "true", "COMPAT rule: a stage keeps at most V-1 of its V tokens"),
                new ParamSpec("schedule", "path", "none", "stage layers from a file written by sieve analyze "
                        + "--method adaptinfer (overrides layers)", List.of()));
    }

    @Override
    public String defaultKeep() {
        return "0.25";
    }

    @Override
    public BudgetConvention budgetConvention() {
        return BudgetConvention.LAYER_AVERAGE;
    }

    @Override
    public Pruner create(PrunerParams params) {
        int[] layers = params.getIntList("layers");
        int fromLayers = 32;
        if (!params.raw("schedule").equals("none")) {
            ScheduleFile.AdaptInfer f = ScheduleFile.readAdaptInfer(Path.of(params.raw("schedule")));
            layers = f.stageLayers();
            fromLayers = f.layers();
        } else if (!StageLayers.valid(layers, 0, 30)) {
            throw params.bad("layers", params.raw("layers"), "ascending layers of a 32-layer model in 0..30");
        }
        double[] ratios = params.getDoubleList("ratios");
        for (double r : ratios) {
            if (!(r > 0 && r <= 1)) {
                throw params.bad("ratios", params.raw("ratios"), "shares in (0, 1]");
            }
        }
        if (ratios.length == 0) {
            throw params.bad("ratios", params.raw("ratios"), "at least one share");
        }
        double lambda = params.getDouble("lambda");
        if (lambda < 0 || lambda > 1) {
            throw params.bad("lambda", params.raw("lambda"), "a number in [0, 1]");
        }
        return new Impl(StageLayers.outputsToBoundaries(layers), fromLayers, ratios, lambda, params.getBool("prior"),
                params.getBool("clamp"));
    }

    /** Stage counts: a common scale of the cumulative shares, each at most V (V-1 with the clamp) of the stage's input. */
    static final class ShareRule implements StagePlan.Rule {
        private final double[] cumulative;
        private final boolean clamp;

        ShareRule(double[] shares, boolean clamp) {
            this.cumulative = new double[shares.length];
            double c = 1;
            for (int i = 0; i < shares.length; i++) {
                c *= shares[i];
                cumulative[i] = c;
            }
            this.clamp = clamp;
        }

        private int cap(int v) {
            return clamp ? Math.max(0, v - 1) : v;
        }

        @Override
        public double maxScale(int n) {
            return 1 / Arrays.stream(cumulative).min().orElse(1) + 1;
        }

        @Override
        public int[] select(double s, int n, int stages) {
            int[] out = new int[stages];
            int v = n;
            for (int k = 0; k < stages; k++) {
                out[k] = Math.min(cap(v), (int) Math.floor(s * n * cumulative[k] + 1e-9));
                v = out[k];
            }
            return out;
        }

        @Override
        public int[] live(int[] select, int n) {
            int v = n;
            for (int s : select) {
                if (s < 0 || s > cap(v)) {
                    return null;
                }
                v = s;
            }
            return select.clone();
        }
    }

    /** The text block: the text slots after the first visual slot (empty without visual tokens). */
    public static int[] textBlock(SequenceLayout seq) {
        int[] vis = seq.visualSlots();
        if (vis.length == 0) {
            return new int[0];
        }
        return Arrays.stream(seq.textSlots()).filter(s -> s > vis[0]).toArray();
    }

    /**
     * AdaptInfer's score of each visual column. {@code rows[h][i][t]}: attention of head h from text-block
     * query {@code textSlots[i]} to slot t (the rows of every text-block token, in sequence order).
     */
    static double[] score(float[][][] rows, int[] textSlots, int[] visualSlots, double lambda, boolean prior) {
        int heads = rows.length;
        int t = textSlots.length;
        double[][] w = new double[heads][t];
        if (!prior) {
            for (double[] wh : w) {
                Arrays.fill(wh, 1.0);
            }
        } else {
            double total = 0;
            for (int h = 0; h < heads; h++) {
                for (int j = 0; j < t; j++) {
                    for (int i = 0; i < t; i++) {
                        // symmetrised text block: B[i][j] = C[max(i,j)][min(i,j)]
                        double b = i >= j ? rows[h][i][textSlots[j]] : rows[h][j][textSlots[i]];
                        w[h][j] += b;
                        total += b;
                    }
                }
            }
            double mean = t == 0 ? 0 : total / ((double) heads * t * t);
            for (int h = 0; h < heads; h++) {
                for (int j = 0; j < t; j++) {
                    w[h][j] = (1 - lambda) * t * mean + lambda * w[h][j];
                }
            }
        }
        double[] s = new double[visualSlots.length];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < t; j++) {
                float[] row = rows[h][j];
                for (int v = 0; v < visualSlots.length; v++) {
                    s[v] += w[h][j] * row[visualSlots[v]];
                }
            }
        }
        return s;
    }

    private static final class Impl implements LayerwisePruner {
        private final int[] boundaries;
        private final int fromLayers;
        private final double[] ratios;
        private final double lambda;
        private final boolean prior;
        private final boolean clamp;

        Impl(int[] boundaries, int fromLayers, double[] ratios, double lambda, boolean prior, boolean clamp) {
            this.boundaries = boundaries;
            this.fromLayers = fromLayers;
            this.ratios = ratios;
            this.lambda = lambda;
            this.prior = prior;
            this.clamp = clamp;
        }

        private int[] boundaries(ModelShape model) {
            return StageLayers.map(boundaries, fromLayers, model, 1);
        }

        @Override
        public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
            int[] b = boundaries(model);
            List<PruneStep> steps = new ArrayList<>();
            for (int hook : StagePlan.hooks(b)) {
                int k = Arrays.binarySearch(b, hook);
                steps.add(AttentionRows.step(k < 0 ? "early" : "stage" + (k + 1), hook));
            }
            return steps;
        }

        StagePlan plan(ModelShape model, List<ImageSpan> images, ResolvedBudget budget) {
            boolean[] gated = new boolean[images.size()];
            Arrays.fill(gated, true);
            List<StagePlan.Group> groups = StagePlan.groups(ID, images, gated, budget);
            int total = images.stream().mapToInt(ImageSpan::count).sum();
            int[] b = boundaries(model);
            if (budget.budget().keepsAll() || budget.total() >= total) {
                return StagePlan.keepAll(model.layers(), StagePlan.hooks(b), groups, 0);
            }
            double[] shares = new double[Math.max(1, b.length)];
            for (int k = 0; k < shares.length; k++) {
                shares[k] = ratios[Math.min(k, ratios.length - 1)];
            }
            return StagePlan.solve(model.layers(), b, groups, 0, new ShareRule(shares, clamp));
        }

        @Override
        public int[] plannedCounts(ModelShape model, List<ImageSpan> images, ResolvedBudget budget) {
            return plan(model, images, budget).perLayer();
        }

        @Override
        public PruneDecision decide(PruneContext ctx) {
            int[] live = ctx.live();
            StagePlan plan = (StagePlan) ctx.state().computeIfAbsent("plan",
                    k -> plan(ctx.model(), ctx.images(), ctx.budget()));
            int stage = plan.stageAt(ctx.step().hook().layer());
            if (stage < 0 || live.length == 0) {
                return PruneDecision.keep(live);
            }
            SequenceLayout seq = ctx.sequence();
            int[] vis = seq.visualSlots();
            int[] text = textBlock(seq);
            double[] s = text.length == 0 ? new double[vis.length]
                    : score(AttentionRows.of(ctx, text), text, vis, lambda, prior);
            int[] idx = new int[vis.length];
            float[] val = new float[vis.length];
            for (int i = 0; i < vis.length; i++) {
                idx[i] = seq.visualIndex(vis[i]);
                val[i] = (float) s[i];
            }
            float[] scores = Select.scoresOf(ctx.visualTotal(), idx, val);
            int[] kept = new int[0];
            for (int g = 0; g < plan.groups().size(); g++) {
                int[] pool = plan.groups().get(g).liveOf(ctx.images(), live);
                kept = Select.union(kept, Select.topK(scores, pool, plan.select(g, stage)));
            }
            return PruneDecision.keep(kept).withScores(scores);
        }
    }
}
