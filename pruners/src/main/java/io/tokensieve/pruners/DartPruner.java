package io.tokensieve.pruners;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.Need;
import io.tokensieve.core.prune.ParamSpec;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.PrunerParams;
import io.tokensieve.core.prune.PrunerProvider;
import io.tokensieve.core.prune.SequenceLayout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * DART, duplication-aware reduction of tokens: a few pivot tokens chosen by key norm, then per pivot the
 * visual tokens least duplicated with it, once before layer K. "Stop Looking for Important Tokens in
 * Multimodal Language Models: Duplication Matters More", Wen et al., arXiv 2502.11494 (baselines.md
 * section 5).
 *
 * <p>At BEFORE_LAYER(K): kappa_i = L1 norm of token i's post-RoPE keys cached by layer K-1 (all kv heads
 * concatenated); image pivots = the top {@code image_pivots} live visual tokens by kappa, text pivots =
 * the top {@code text_pivots} text tokens by kappa among the text after the first image (the question and
 * answer tags; the system prefix is not eligible, as in the reference, where the text span is everything
 * after the visual span). The hidden states entering layer K are passed through the LLM's final RMSNorm;
 * the pivots, in ascending sequence order, each take their quota of the remaining visual tokens with the
 * lowest cosine to the pivot (ties to the lower index). Image pivots are always kept, text is never
 * dropped, original positions are kept (the reference does not re-index).
 *
 * <p>Layer: {@code layer=2} is the paper's K = 2 of 32 and stays 2 on shallow models (valid from 1 to
 * layers-1, so it is the same step on 4 and 8 decoder layers) rather than being scaled by depth, which
 * would round to 0 on 4 layers. Budget convention FINAL: layers 0..K-1 see every token.
 *
 * <p>Modes. {@code mode=exact} (default, the spec's exact-budget mode): with M the budget of a group and
 * P = pivots, the M - P_img tokens to pick are split as q = floor((M - P_img) / P) per pivot with the
 * remainder one each to the first pivots, so exactly M survive (at M < P_img only the top M image pivots).
 * {@code mode=reference}: every pivot takes q = floor(M_ref / P) tokens, so the reference keeps
 * P_img + P q tokens for its nominal M_ref (68 at 64, 132 at 128, 196 at 192). The FINAL convention cannot
 * report a count above its own budget, so in this mode {@code keep} is the count actually kept: it must be
 * P_img + P q for some q (keep=68 is the reference's M_ref = 64..71 and gives exactly its selection);
 * other budgets fail with the nearest valid ones.
 *
 * <p>Differences from the reference code: pivots are processed in ascending sequence order (the reference
 * iterates a Python set); several images are reduced one by one with per-image budgets and their own image
 * pivots, sharing the text pivots (scope image), or jointly over the request (scope request); with grouped
 * query attention kappa sums the kv heads (repeating them would scale every kappa by the group size);
 * decoding reuses the pruned caches.
 */
public final class DartPruner implements PrunerProvider {
    @Override
    public String id() {
        return "dart";
    }

    @Override
    public String summary() {
        return "pivots by key L1 norm, then per pivot the least duplicated visual tokens (cosine of normed hidden states), before layer K";
    }

    @Override
    public String paper() {
        return "Stop Looking for Important Tokens in Multimodal Language Models: Duplication Matters More (DART), "
                + "arXiv 2502.11494";
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(
                ParamSpec.ofInt("layer", "2", "K: layers 0..K-1 see every token; keys and hidden states of layer K-1 (1 <= K < layers)"),
                ParamSpec.ofInt("image_pivots", "4", "pivots among the visual tokens (per image with scope image)"),
                ParamSpec.ofInt("text_pivots", "4", "pivots among the text after the first image"),
                ParamSpec.ofEnum("mode", "exact", "exact: exactly the budget survives; reference: every pivot takes "
                        + "floor(M/P), keep must then be the reference's actual count P_img + P*q", "exact", "reference"));
    }

    @Override
    public String defaultKeep() {
        return "0.25";
    }

    @Override
    public BudgetConvention budgetConvention() {
        return BudgetConvention.FINAL;
    }

    @Override
    public Pruner create(PrunerParams params) {
        int k = params.getInt("layer");
        int imagePivots = params.getInt("image_pivots");
        int textPivots = params.getInt("text_pivots");
        boolean exact = params.getEnum("mode").equals("exact");
        if (k < 1) {
            throw params.bad("layer", String.valueOf(k), "at least 1 (the keys of layer K-1 rank the pivots)");
        }
        if (imagePivots < 1) {
            throw params.bad("image_pivots", String.valueOf(imagePivots), "at least 1");
        }
        if (textPivots < 0) {
            throw params.bad("text_pivots", String.valueOf(textPivots), "at least 0");
        }
        return new Pruner() {
            @Override
            public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
                if (k >= model.layers()) {
                    throw new PruneException("pruner dart: layer=" + k + " is not below the model's " + model.layers()
                            + " decoder layers");
                }
                return List.of(PruneStep.of("duplication", HookPoint.beforeLayer(k), Need.KEYS, Need.HIDDEN_STATES,
                        Need.FINAL_NORM));
            }

            @Override
            public BudgetConvention budgetConvention() {
                return BudgetConvention.FINAL;
            }

            @Override
            public PositionPolicy defaultPositionPolicy() {
                return PositionPolicy.KEEP;
            }

            @Override
            public PruneDecision decide(PruneContext ctx) {
                return dart(ctx, k, imagePivots, textPivots, exact);
            }
        };
    }

    private static PruneDecision dart(PruneContext ctx, int k, int imagePivots, int textPivots, boolean exact) {
        int[] live = ctx.live();
        if (ctx.budget().budget().keepsAll() || live.length == 0) {
            return PruneDecision.keep(live);
        }
        SequenceLayout seq = ctx.sequence();
        float[] kappa = keyNorms(ctx, seq, k - 1); // per slot of seq
        float[][] hn = BaselineMath.rows(ctx.finalNorm().apply(ctx.hidden())); // [T, D]
        // text pivots: text after the first image, top by kappa
        int firstImage = ctx.images().isEmpty() ? Integer.MAX_VALUE : ctx.images().get(0).sequenceStart();
        int[] textSlots = Arrays.stream(seq.textSlots()).filter(s -> seq.seqIndex(s) > firstImage).toArray();
        int[] textPivotSlots = Select.topK(kappa, textSlots, textPivots);
        float[] scores = new float[ctx.visualTotal()];
        Arrays.fill(scores, Float.NaN);
        for (int s : seq.visualSlots()) {
            scores[seq.visualIndex(s)] = kappa[s];
        }
        boolean request = ctx.budget().budget().scope() == Budget.Scope.REQUEST;
        List<int[]> groups = request ? List.of(live) : Select.livePerImage(ctx, live);
        List<Integer> kept = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) {
            int[] tokens = groups.get(g);
            int m = Math.min(request ? ctx.budget().total() : ctx.budget().forImage(g), tokens.length);
            if (m == 0) { // a request-scope total can leave an image without tokens
                continue;
            }
            int[] slots = Arrays.stream(tokens).map(seq::slotOfVisual).toArray();
            int pImg = Math.min(imagePivots, m);
            int[] imagePivotSlots = Select.topK(kappa, slots, pImg);
            int[] pivots = Select.union(imagePivotSlots, textPivotSlots); // ascending slot = ascending sequence order
            int[] quota = exact ? exactQuotas(m, pImg, pivots.length)
                    : referenceQuotas(ctx.prunerId(), m, imagePivots, pivots.length);
            int[] pool = Arrays.stream(slots).filter(s -> Arrays.binarySearch(imagePivotSlots, s) < 0).toArray();
            List<Integer> sel = new ArrayList<>();
            for (int s : imagePivotSlots) {
                sel.add(s);
            }
            for (int p = 0; p < pivots.length; p++) {
                double[] cos = new double[pool.length];
                for (int i = 0; i < pool.length; i++) {
                    cos[i] = BaselineMath.cosine(hn[pivots[p]], hn[pool[i]]);
                }
                int[] picked = leastDuplicated(cos, quota[p]); // positions in pool
                int[] drop = new int[picked.length];
                for (int i = 0; i < picked.length; i++) {
                    sel.add(pool[picked[i]]);
                    drop[i] = pool[picked[i]];
                }
                Arrays.sort(drop);
                pool = Arrays.stream(pool).filter(s -> Arrays.binarySearch(drop, s) < 0).toArray();
            }
            for (int s : sel) {
                kept.add(seq.visualIndex(s));
            }
        }
        return PruneDecision.keep(kept.stream().mapToInt(Integer::intValue).sorted().toArray()).withScores(scores);
    }

    /** L1 norm of each slot's post-RoPE keys of {@code layer} (all kv heads), indexed by slot of {@code seq}. */
    private static float[] keyNorms(PruneContext ctx, SequenceLayout seq, int layer) {
        NDArray keys = ctx.keys(layer); // [Hkv, T', hd]
        SequenceLayout at = ctx.sequenceAt(layer);
        long heads = keys.getShape().get(0);
        long t = keys.getShape().get(1);
        long hd = keys.getShape().get(2);
        float[] flat = keys.toFloatArray();
        float[] perSlot = l1PerToken(flat, (int) heads, (int) t, (int) hd);
        float[] out = new float[seq.size()];
        for (int s = 0; s < seq.size(); s++) {
            int old = at.slotOfSeqIndex(seq.seqIndex(s));
            out[s] = old < 0 ? Float.NaN : perSlot[old];
        }
        return out;
    }

    /** kappa_t = sum over heads and channels of |k[h, t, c]| for keys laid out [H, T, hd]. */
    static float[] l1PerToken(float[] keys, int heads, int tokens, int headDim) {
        double[] s = new double[tokens];
        for (int h = 0; h < heads; h++) {
            for (int t = 0; t < tokens; t++) {
                int base = (h * tokens + t) * headDim;
                for (int c = 0; c < headDim; c++) {
                    s[t] += Math.abs(keys[base + c]);
                }
            }
        }
        float[] out = new float[tokens];
        for (int t = 0; t < tokens; t++) {
            out[t] = (float) s[t];
        }
        return out;
    }

    /**
     * Exact mode: the picks per pivot (in processing order) for a budget m with pImg image pivots (already
     * capped at m) among {@code pivots} in all: floor((m - pImg) / pivots) each, the remainder one each to
     * the first pivots. Sum + pImg = m.
     */
    static int[] exactQuotas(int m, int pImg, int pivots) {
        int picks = m - pImg;
        int[] q = new int[pivots];
        for (int p = 0; p < pivots; p++) {
            q[p] = picks / pivots + (p < picks % pivots ? 1 : 0);
        }
        return q;
    }

    /** The count the reference keeps for its nominal M: P_img + P * floor(M / P). */
    static int referenceCount(int nominal, int imagePivots, int pivots) {
        return imagePivots + pivots * (nominal / pivots);
    }

    /** Reference mode: q per pivot for a budget that must equal P_img + P q. */
    static int[] referenceQuotas(String who, int m, int imagePivots, int pivots) {
        int picks = m - imagePivots;
        if (picks < 0 || picks % pivots != 0) {
            int q = Math.max(0, Math.floorDiv(picks, pivots));
            throw new PruneException("pruner " + who + ": mode=reference keeps image_pivots + pivots * q = " + imagePivots
                    + " + " + pivots + " q tokens, so it cannot meet a budget of " + m + "; use " + option(q, imagePivots, pivots)
                    + " or " + option(q + 1, imagePivots, pivots) + ", or mode=exact");
        }
        int[] q = new int[pivots];
        Arrays.fill(q, picks / pivots);
        return q;
    }

    private static String option(int q, int imagePivots, int pivots) {
        return "keep=" + (imagePivots + pivots * q) + " (the reference's M = " + pivots * q + ".." + (pivots * q + pivots - 1)
                + ")";
    }

    /** Positions of the {@code q} lowest cosines (ties to the lower position), ascending. */
    static int[] leastDuplicated(double[] cos, int q) {
        Integer[] idx = new Integer[cos.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> cos[a] != cos[b] ? Double.compare(cos[a], cos[b]) : Integer.compare(a, b));
        int[] out = new int[Math.min(q, idx.length)];
        for (int i = 0; i < out.length; i++) {
            out[i] = idx[i];
        }
        Arrays.sort(out);
        return out;
    }
}
