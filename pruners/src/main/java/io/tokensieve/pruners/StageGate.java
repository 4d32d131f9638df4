package io.tokensieve.pruners;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.Need;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.ResolvedBudget;
import io.tokensieve.core.prune.SequenceLayout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * The "rank and drop" gate shared by PyramidDrop and AdaToken-3D: at each stage boundary b, the attention
 * the last prompt token would pay in layer b (recomputed from layer b's weights over the current slots,
 * averaged over heads) ranks the live gated tokens, and each group keeps its planned count. Counts follow
 * a ratio schedule relative to the group's original size, {@code n_k = floor(N * rho_k)}, scaled to the
 * budget as {@code rho_k^t} (for PDrop's geometric schedule {@code rho_k = 0.5^k} this is {@code lambda^k}
 * with {@code lambda = 0.5^t}); see {@link StagePlan} for the layer-average solve.
 */
final class StageGate {
    private final String prunerId;
    private final int[] boundaries;
    private final int fromLayers;
    private final double[] ratios;
    private final Function<List<ImageSpan>, boolean[]> gated;

    /**
     * @param boundaries stage starts (hooks BEFORE_LAYER(b)) for a {@code fromLayers}-layer model
     * @param ratios share of the original tokens kept from each boundary on, non-increasing in (0, 1]
     * @param gated which images of a request the gate prunes (the others are kept whole)
     */
    StageGate(String prunerId, int[] boundaries, int fromLayers, double[] ratios,
              Function<List<ImageSpan>, boolean[]> gated) {
        this.prunerId = prunerId;
        this.boundaries = boundaries.clone();
        this.fromLayers = fromLayers;
        this.ratios = ratios.clone();
        this.gated = gated;
    }

    int[] boundaries(ModelShape model) {
        return StageLayers.map(boundaries, fromLayers, model, 1);
    }

    List<PruneStep> schedule(ModelShape model) {
        int[] b = boundaries(model);
        List<PruneStep> steps = new ArrayList<>();
        for (int hook : StagePlan.hooks(b)) {
            int k = Arrays.binarySearch(b, hook);
            steps.add(PruneStep.of(k < 0 ? "early" : "stage" + (k + 1), HookPoint.beforeLayer(hook),
                    Need.NEXT_LAYER_ATTENTION_ROW));
        }
        return steps;
    }

    StagePlan plan(ModelShape model, List<ImageSpan> images, ResolvedBudget budget) {
        boolean[] g = gated.apply(images);
        List<StagePlan.Group> groups = StagePlan.groups(prunerId, images, g, budget);
        int fixed = 0;
        int total = 0;
        for (ImageSpan s : images) {
            total += s.count();
            if (!g[s.image()]) {
                fixed += s.count();
            }
        }
        int[] b = boundaries(model);
        if (budget.budget().keepsAll() || budget.total() >= total) {
            return StagePlan.keepAll(model.layers(), StagePlan.hooks(b), groups, fixed);
        }
        double[] r = new double[Math.max(1, b.length)];
        for (int k = 0; k < r.length; k++) {
            r[k] = ratios[Math.min(k, ratios.length - 1)];
        }
        return StagePlan.solve(model.layers(), b, groups, fixed, new PowerRule(r));
    }

    /** The gate as a pruner: its steps, decisions and planned counts, a layer-average budget, renumbered positions. */
    Pruner pruner() {
        StageGate gate = this;
        return new LayerwisePruner() {
            @Override
            public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
                return gate.schedule(model);
            }

            @Override
            public PruneDecision decide(PruneContext ctx) {
                return gate.decide(ctx);
            }

            @Override
            public int[] plannedCounts(ModelShape model, List<ImageSpan> images, ResolvedBudget budget) {
                return gate.plan(model, images, budget).perLayer();
            }
        };
    }

    PruneDecision decide(PruneContext ctx) {
        int[] live = ctx.live();
        StagePlan plan = (StagePlan) ctx.state().computeIfAbsent("plan",
                k -> plan(ctx.model(), ctx.images(), ctx.budget()));
        int stage = plan.stageAt(ctx.step().hook().layer());
        if (stage < 0 || live.length == 0) {
            return PruneDecision.keep(live);
        }
        SequenceLayout seq = ctx.sequence();
        float[] perSlot = headMean(ctx.nextLayerAttentionRow(seq.lastSlot())); // [T]
        int[] vis = seq.visualSlots();
        int[] idx = new int[vis.length];
        float[] val = new float[vis.length];
        for (int i = 0; i < vis.length; i++) {
            idx[i] = seq.visualIndex(vis[i]);
            val[i] = perSlot[vis[i]];
        }
        float[] scores = Select.scoresOf(ctx.visualTotal(), idx, val);
        int[] kept = live;
        for (int g = 0; g < plan.groups().size(); g++) {
            StagePlan.Group group = plan.groups().get(g);
            int[] pool = group.liveOf(ctx.images(), live);
            int[] others = Arrays.stream(kept).filter(v -> !group.contains(ctx.images(), v)).toArray();
            kept = Select.union(others, Select.topK(scores, pool, plan.select(g, stage)));
        }
        return PruneDecision.keep(kept).withScores(scores);
    }

    /** [H, T] -> [T], mean over heads. */
    static float[] headMean(NDArray rows) {
        int heads = (int) rows.getShape().get(0);
        int t = (int) rows.getShape().get(1);
        float[] flat = rows.toFloatArray();
        float[][] r = new float[heads][];
        for (int h = 0; h < heads; h++) {
            r[h] = Arrays.copyOfRange(flat, h * t, (h + 1) * t);
        }
        return FastVPruner.headMean(r);
    }

    /**
     * Counts {@code floor(N * rho_k^t)}, each at most the previous stage's. The solver's scale is
     * {@code s = tMax - t}, so counts grow with it; {@code tMax} is where every ratio below 1 keeps no token
     * ({@code rho^tMax * N < 1}). A ratio of 1 counts as {@code 1 - 1e-6}: such a stage keeps every token
     * unless the budget cannot be met otherwise.
     */
    static final class PowerRule implements StagePlan.Rule {
        private final double[] exponents;

        PowerRule(double[] ratios) {
            this.exponents = Arrays.stream(ratios).map(r -> -Math.log(Math.min(r, 1 - 1e-6))).toArray();
        }

        /** The exponent t of a solver scale for a group of n tokens. */
        double exponent(double s, int n) {
            return maxScale(n) - s;
        }

        @Override
        public double maxScale(int n) {
            double slowest = Arrays.stream(exponents).min().orElse(1);
            return Math.log(n + 1.0) / slowest + 1;
        }

        @Override
        public int[] select(double s, int n, int stages) {
            double t = exponent(s, n);
            int[] out = new int[stages];
            int prev = n;
            for (int k = 0; k < stages; k++) {
                out[k] = Math.min(prev, (int) Math.floor(n * Math.exp(-t * exponents[k]) + 1e-9));
                prev = out[k];
            }
            return out;
        }

        @Override
        public int[] live(int[] select, int n) {
            int prev = n;
            for (int s : select) {
                if (s < 0 || s > prev) {
                    return null;
                }
                prev = s;
            }
            return select.clone();
        }
    }
}
