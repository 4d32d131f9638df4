package io.tokensieve.pruners;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.Need;
import io.tokensieve.core.prune.ParamSpec;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.PrunerParams;
import io.tokensieve.core.prune.PrunerProvider;
import io.tokensieve.core.prune.SequenceLayout;

import java.util.List;

/**
 * FastV: drop the visual tokens that receive the least attention in decoder layer K-1, once, before
 * layer K. "An Image is Worth 1/2 Tokens After Layer 2: Plug-and-Play Inference Acceleration for Large
 * Vision-Language Models", Chen et al., arXiv 2403.06764.
 *
 * <p>Layer numbering: the paper's "K=2" keeps layers 0-1 full and ranks with layer 1's attention, which
 * is {@code fastv:layer=2} here ({@code BEFORE_LAYER(2)}).
 *
 * <p>Differences from the reference code: pruning happens once at prefill and decoding reuses the pruned
 * caches (the paper's accuracy tables re-ranked at every generated token without a cache); ties go to the
 * lower index (torch's topk leaves them unspecified); the image span comes from the prompt layout instead
 * of hard-coded offsets; several images are ranked per image with per-image counts (scope image) or
 * jointly (scope request); the keep count is the resolved budget ({@code round(N * keep)}) rather than
 * {@code round(N * (1 - R))}, which is the same thing; the paper's "mean attention received" score is
 * available as {@code score=mean}.
 */
public final class FastVPruner implements PrunerProvider {
    @Override
    public String id() {
        return "fastv";
    }

    @Override
    public String summary() {
        return "rank visual tokens by the attention of the last prompt token in layer K-1, keep the top ones from layer K";
    }

    @Override
    public String paper() {
        return "An Image is Worth 1/2 Tokens After Layer 2 (FastV), arXiv 2403.06764";
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(
                ParamSpec.ofInt("layer", "2", "K: layers 0..K-1 see every token; ranking uses layer K-1 (K >= 1)"),
                ParamSpec.ofEnum("score", "last", "last: attention of the last prompt token (code); mean: mean "
                        + "attention received from all queries (paper)", "last", "mean"));
    }

    @Override
    public String defaultKeep() {
        return "0.5";
    }

    @Override
    public BudgetConvention budgetConvention() {
        return BudgetConvention.FINAL;
    }

    @Override
    public Pruner create(PrunerParams params) {
        int k = params.getInt("layer");
        if (k < 1) {
            throw params.bad("layer", String.valueOf(k), "at least 1 (layer K-1's attention ranks the tokens)");
        }
        boolean mean = params.getEnum("score").equals("mean");
        return new Pruner() {
            @Override
            public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
                return List.of(PruneStep.of("rank", HookPoint.beforeLayer(k), Need.ATTENTION));
            }

            @Override
            public BudgetConvention budgetConvention() {
                return BudgetConvention.FINAL;
            }

            @Override
            public PruneDecision decide(PruneContext ctx) {
                int[] live = ctx.live();
                if (ctx.budget().budget().keepsAll() || live.length == 0) {
                    return PruneDecision.keep(live);
                }
                float[] scores = scores(ctx, k - 1, mean);
                return PruneDecision.keep(Select.topKByBudget(ctx, scores, live)).withScores(scores);
            }
        };
    }

    /** Mean over heads of per-head rows: [H][T] -> [T]. */
    static float[] headMean(float[][] rows) {
        float[] m = new float[rows[0].length];
        for (float[] r : rows) {
            for (int i = 0; i < m.length; i++) {
                m[i] += r[i];
            }
        }
        for (int i = 0; i < m.length; i++) {
            m[i] /= rows.length;
        }
        return m;
    }

    /** Head-averaged attention paid to each live visual token by the last slot (or by all slots), by original index. */
    static float[] scores(PruneContext ctx, int layer, boolean meanReceived) {
        SequenceLayout seq = ctx.sequenceAt(layer);
        NDArray a = ctx.attention(layer); // [H, T, T]
        int t = seq.size();
        NDArray received = meanReceived
                ? a.sum(new int[] {1}).div(t) // [H, T]: mean over query rows
                : a.get(new NDIndex(":, {}, :", t - 1)); // [H, T]: last query row
        float[] flat = received.toFloatArray();
        int heads = (int) received.getShape().get(0);
        float[][] rows = new float[heads][];
        for (int h = 0; h < heads; h++) {
            rows[h] = java.util.Arrays.copyOfRange(flat, h * t, (h + 1) * t);
        }
        float[] perSlot = headMean(rows); // [T]
        int[] vs = seq.visualSlots();
        int[] idx = new int[vs.length];
        float[] val = new float[vs.length];
        for (int i = 0; i < vs.length; i++) {
            idx[i] = seq.visualIndex(vs[i]);
            val[i] = perSlot[vs[i]];
        }
        return Select.scoresOf(ctx.visualTotal(), idx, val);
    }
}
