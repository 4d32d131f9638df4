package io.tokensieve.pruners;

import ai.djl.ndarray.NDArray;
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
import io.tokensieve.core.prune.VisionView;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * VisionZip: dominant tokens by CLS attention, the rest merged into a few contextual tokens by key
 * similarity, inside the vision tower before the projector. "VisionZip: Longer is Better but Not Necessary
 * in Vision Language Models", Yang et al., arXiv 2412.04467 (baselines.md section 1).
 *
 * <p>Per image, with the attention and head-averaged keys of the encoder layer that produces the features
 * (hidden-state index f comes out of layer f-1; LLaVA's -2 setting is the reference's "layer -2"):
 * score s_i = sum over heads of CLS's attention to patch i; the D dominant tokens are the top-D by s (ties
 * to the lower index); the C contextual targets are every step-th of the ascending remainder R
 * (step = max(1, floor(|R| / C))); every other remainder token joins the target whose normalised mean key
 * is most similar (ties to the first target) and the target's feature row becomes X_t + mean(X_r assigned
 * to t) ({@code X_t} alone when nothing joined). The budget T of the image splits as
 * C = round(T * contextual / (dominant + contextual)), D = T - C, so the defaults 54:10 give 54/10 at 64,
 * 108/20 at 128 and 162/30 at 192 as in the reference's settings, and any T from 1 up is met exactly.
 *
 * <p>Differences from the reference code:
 * <ul>
 *   <li>CLS. The reference always emits CLS as dominant token 0 and counts it inside D. On models whose
 *       vision_feature_select_strategy is "default" (LLaVA-1.5, sieve-tiny) CLS is not a visual token, so
 *       it cannot be kept here: D counts patches only and CLS's place goes to one more patch (the reference
 *       at 54/10 outputs CLS + 53 patches + 10 contextual, this outputs 54 patches + 10 contextual). On
 *       "full" models CLS is a visual token and is kept inside D as in the reference.</li>
 *   <li>Order. The reference emits [dominant][contextual]; here every kept token stays in its own slot,
 *       so the contextual token of target t sits at t's position and the LLM sees the image in ascending
 *       spatial order (positions renumbered by default).</li>
 *   <li>X is the projector's input (the selected features, plus the 3D position embedding on multi-view
 *       inputs) rather than the raw hidden state; on plain images they are the same rows.</li>
 *   <li>Several images are zipped one by one with the per-image budgets (a request-scope total is split
 *       over images by size), as the spec recommends for multi-crop inputs.</li>
 * </ul>
 */
public final class VisionZipPruner implements PrunerProvider {
    @Override
    public String id() {
        return "visionzip";
    }

    @Override
    public String summary() {
        return "dominant tokens by CLS attention plus contextual tokens merged by key similarity, before the projector";
    }

    @Override
    public String paper() {
        return "VisionZip: Longer is Better but Not Necessary in Vision Language Models, arXiv 2412.04467";
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(
                ParamSpec.ofInt("dominant", "54", "weight of dominant tokens in the budget split D:C (54:10 as at 64 tokens)"),
                ParamSpec.ofInt("contextual", "10", "weight of contextual (merged) tokens in the budget split D:C; 0 = "
                        + "CLS-attention top-k only"));
    }

    @Override
    public String defaultKeep() {
        return "0.25";
    }

    @Override
    public BudgetConvention budgetConvention() {
        return BudgetConvention.ENTERING_LLM;
    }

    @Override
    public Pruner create(PrunerParams params) {
        int dominant = params.getInt("dominant");
        int contextual = params.getInt("contextual");
        if (dominant < 0) {
            throw params.bad("dominant", String.valueOf(dominant), "at least 0");
        }
        if (contextual < 0) {
            throw params.bad("contextual", String.valueOf(contextual), "at least 0");
        }
        if (dominant + contextual == 0) {
            throw params.bad("dominant", "0", "positive when contextual is 0");
        }
        return new Pruner() {
            @Override
            public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
                if (model.featureLayer() < 1) {
                    throw new PruneException("pruner visionzip needs features from an encoder layer, not the embeddings");
                }
                return List.of(PruneStep.of("zip", HookPoint.VISION, Need.VISION_INTERNALS, Need.HIDDEN_STATES));
            }

            @Override
            public PositionPolicy defaultPositionPolicy() {
                return PositionPolicy.RENUMBER;
            }

            @Override
            public PruneDecision decide(PruneContext ctx) {
                return zip(ctx, dominant, contextual);
            }
        };
    }

    /** Contextual tokens of a budget: C = round(T * contextual / (dominant + contextual)). */
    static int contextualCount(int budget, int dominant, int contextual) {
        return (int) Math.round((double) budget * contextual / (dominant + contextual));
    }

    private static PruneDecision zip(PruneContext ctx, int dominantWeight, int contextualWeight) {
        int[] live = ctx.live();
        if (ctx.budget().budget().keepsAll() || live.length == 0) {
            return PruneDecision.keep(live);
        }
        VisionView vision = ctx.vision();
        int layer = vision.featureLayer() - 1; // the encoder layer whose output is the features
        float[][] x = BaselineMath.rows(ctx.hidden()); // [n, Dv'] ordered as live
        float[] scores = new float[ctx.visualTotal()];
        Arrays.fill(scores, Float.NaN);
        List<Integer> kept = new ArrayList<>();
        List<Integer> replaced = new ArrayList<>();
        List<float[]> rows = new ArrayList<>();
        List<int[]> perImage = Select.livePerImage(ctx, live);
        for (ImageSpan span : ctx.images()) {
            int[] tokens = perImage.get(span.image());
            int t = Math.min(ctx.budget().forImage(span.image()), tokens.length);
            if (t == 0) { // a request-scope total can leave an image without tokens
                continue;
            }
            boolean cls = BaselineMath.hasClsToken(ctx, span);
            int offset = cls ? 0 : 1; // row of visual token firstVisual in the tower's [1+n] tensors
            float[] clsAttn = clsAttention(vision.attention(span.image(), layer)); // [1+n]
            float[][] keys = headMeanKeys(BaselineMath.rows(vision.keys(span.image(), layer)), vision.heads()); // [1+n, hd]
            int m = tokens.length;
            float[] s = new float[m];
            float[][] k = new float[m][];
            boolean[] forced = new boolean[m];
            for (int i = 0; i < m; i++) {
                int row = tokens[i] - span.firstVisual() + offset;
                k[i] = keys[row];
                forced[i] = cls && row == 0;
                s[i] = forced[i] ? Float.NaN : clsAttn[row];
                scores[tokens[i]] = s[i];
            }
            int c = contextualCount(t, dominantWeight, contextualWeight);
            if (cls && t - c < 1) {
                c = t - 1; // CLS always leads the dominant set, as in the reference
            }
            Zip z = zip(s, forced, k, t - c, c);
            for (int i : z.dominant) {
                kept.add(tokens[i]);
            }
            for (int j = 0; j < z.targets.length; j++) {
                kept.add(tokens[z.targets[j]]);
                float[] merged = contextualRow(x, live, tokens, z, j);
                if (merged != null) {
                    replaced.add(tokens[z.targets[j]]);
                    rows.add(merged);
                }
            }
        }
        PruneDecision d = PruneDecision.keep(kept.stream().mapToInt(Integer::intValue).sorted().toArray())
                .withScores(scores);
        if (replaced.isEmpty()) {
            return d;
        }
        NDArray r = BaselineMath.array(ctx.manager(), rows.toArray(new float[0][]));
        return d.withReplacements(replaced.stream().mapToInt(Integer::intValue).toArray(), r);
    }

    /** X_t + mean of the rows assigned to target j, or null when nothing joined it. */
    private static float[] contextualRow(float[][] x, int[] live, int[] tokens, Zip z, int j) {
        List<float[]> members = new ArrayList<>();
        for (int r = 0; r < z.assignment.length; r++) {
            if (z.assignment[r] == j) {
                members.add(x[BaselineMath.indexIn(live, tokens[z.remainder[r]])]);
            }
        }
        if (members.isEmpty()) {
            return null;
        }
        float[] target = x[BaselineMath.indexIn(live, tokens[z.targets[j]])];
        return contextual(target, members);
    }

    /** X_t + mean(members), accumulated in double. */
    static float[] contextual(float[] target, List<float[]> members) {
        float[] mean = PoolPruner.mean(members);
        float[] out = new float[target.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = target[i] + mean[i];
        }
        return out;
    }

    /** Sum over heads of CLS's attention row: [H, 1+n, 1+n] -> [1+n]. */
    static float[] clsAttention(NDArray attention) {
        long h = attention.getShape().get(0);
        long s = attention.getShape().get(1);
        float[] flat = attention.toFloatArray();
        float[] out = new float[(int) s];
        for (int head = 0; head < h; head++) {
            for (int j = 0; j < s; j++) {
                out[j] += flat[(int) (head * s * s + j)];
            }
        }
        return out;
    }

    /** Full-width keys [S, H*hd] averaged over heads: [S, hd]. */
    static float[][] headMeanKeys(float[][] keys, int heads) {
        int hd = keys[0].length / heads;
        float[][] out = new float[keys.length][hd];
        for (int t = 0; t < keys.length; t++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < hd; i++) {
                    out[t][i] += keys[t][h * hd + i] / heads;
                }
            }
        }
        return out;
    }

    /**
     * The outcome of one image's zip, in positions of its token list: dominant (ascending), the ascending
     * remainder, the targets (positions in the token list, ascending) and for each remainder entry the
     * target it joined (index into targets; -1 for the targets themselves).
     */
    record Zip(int[] dominant, int[] remainder, int[] targets, int[] assignment) {}

    /**
     * VisionZip's selection on one image's tokens: {@code s} CLS-attention scores, {@code forced} tokens
     * always dominant (CLS on "full" models; counted inside d), {@code keys} mean keys, d dominant and c
     * contextual tokens (d + c <= tokens).
     */
    static Zip zip(float[] s, boolean[] forced, float[][] keys, int d, int c) {
        int m = s.length;
        List<Integer> dom = new ArrayList<>();
        List<Integer> free = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            if (forced[i] && dom.size() < d) {
                dom.add(i);
            } else {
                free.add(i);
            }
        }
        int[] cand = free.stream().mapToInt(Integer::intValue).toArray();
        float[] sc = new float[m];
        for (int i : cand) {
            sc[i] = s[i];
        }
        for (int i : Select.topK(sc, cand, d - dom.size())) {
            dom.add(i);
        }
        int[] dominant = dom.stream().mapToInt(Integer::intValue).sorted().toArray();
        int[] remainder = java.util.stream.IntStream.range(0, m).filter(i -> Arrays.binarySearch(dominant, i) < 0)
                .toArray();
        if (c == 0) {
            return new Zip(dominant, remainder, new int[0], new int[0]);
        }
        int step = Math.max(1, remainder.length / c);
        int[] targetPos = new int[c];
        int[] targets = new int[c];
        for (int j = 0; j < c; j++) {
            targetPos[j] = j * step;
            targets[j] = remainder[j * step];
        }
        float[][] kn = new float[m][];
        for (int i = 0; i < m; i++) {
            kn[i] = BaselineMath.normalized(keys[i]);
        }
        int[] assignment = new int[remainder.length];
        for (int r = 0; r < remainder.length; r++) {
            if (Arrays.binarySearch(targetPos, r) >= 0) {
                assignment[r] = -1;
                continue;
            }
            int best = 0;
            double bestSim = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                double sim = BaselineMath.dot(kn[remainder[r]], kn[targets[j]]);
                if (sim > bestSim) {
                    bestSim = sim;
                    best = j;
                }
            }
            assignment[r] = best;
        }
        return new Zip(dominant, remainder, targets, assignment);
    }
}
