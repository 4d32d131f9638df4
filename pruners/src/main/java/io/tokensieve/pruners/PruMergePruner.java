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
 * LLaVA-PruMerge / PruMerge+: keep the patches CLS attends to most, fold their key-space neighbours into
 * them, and summarise the rest in one extra token, before the projector. "LLaVA-PruMerge: Adaptive Token
 * Reduction for Efficient Large Multimodal Models", Shang, Cai et al., arXiv 2403.15388 (baselines.md
 * section 6).
 *
 * <p>Per image: a = softmax(q_CLS K^T / sqrt(Dv)) from the full-width q_proj and k_proj outputs of one
 * vision layer as a single head (CLS included in the softmax), a_i for the patches. The layer is the one
 * after the features when it exists (its q/k read the features, LLaVA's -2 setting where the reference
 * reads layer 23), else the layer producing the features (sieve-tiny takes its features from its last
 * layer). Each kept patch i becomes y_i = x_i + sum of a_j x_j over its {@code neighbours} most similar
 * other patches by normalised keys (kept or not; all of them when there are fewer); the extra token is
 * z = sum of a_j x_j over the patches not kept. x are the features the projector reads.
 *
 * <p>Budget (ENTERING_LLM, exact for any T from 1 up): k = T - 1 patches are kept and z is the T-th token.
 * The SPI keeps original tokens only, so z is written into the slot of the lowest-index dropped token of
 * the image (the CLS slot on models that keep CLS as a visual token, since CLS is never output).
 * <ul>
 *   <li>{@code mode=fixed} (default; the spec's fixed-budget mode): the top k patches by a.</li>
 *   <li>{@code mode=adaptive}: the reference's IQR rule picks the outliers a_i > Q3 + 1.5 (Q3 - Q1)
 *       (quartiles with linear interpolation), at most k of them by a; the rest of the k come from
 *       PruMerge+'s uniform extras: patches 0, s, 2s, ... below n - 1 with s = max(1, floor(floor(n /
 *       outliers) / 3)), not already kept, spread evenly (the j-th of `need` taken at floor(j |U| / need))
 *       when there are more than needed, and topped up by a when there are fewer.</li>
 * </ul>
 *
 * <p>Differences from the reference code: the token count is always the budget (the reference's adaptive
 * count k_IQR + 1 is data-dependent and cannot meet an exact budget; with the adaptive rule the IQR
 * outliers are kept and the budget's remaining slots are PruMerge+'s uniform extras, so adaptive mode is
 * PruMerge+ made exact; plain adaptive PruMerge topped up by a would equal fixed mode); outlier count = the
 * number of outliers (the reference's floor(n * (count / n)) can lose one to rounding); kept tokens stay
 * in ascending spatial order (the reference emits them in descending score order, then z); positions are
 * renumbered by default; ties go to the lower index; several images are merged one by one with the
 * per-image budgets.
 */
public final class PruMergePruner implements PrunerProvider {
    @Override
    public String id() {
        return "prumerge";
    }

    @Override
    public String summary() {
        return "patches by CLS attention with key-neighbour merging plus one summary token, before the projector";
    }

    @Override
    public String paper() {
        return "LLaVA-PruMerge: Adaptive Token Reduction for Efficient Large Multimodal Models, arXiv 2403.15388";
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(
                ParamSpec.ofEnum("mode", "fixed", "fixed: the top T-1 patches by CLS attention; adaptive: IQR outliers "
                        + "plus PruMerge+ uniform extras up to T-1", "fixed", "adaptive"),
                ParamSpec.ofInt("neighbours", "32", "most similar patches (by key) folded into each kept patch"));
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
        boolean adaptive = params.getEnum("mode").equals("adaptive");
        int neighbours = params.getInt("neighbours");
        if (neighbours < 0) {
            throw params.bad("neighbours", String.valueOf(neighbours), "at least 0");
        }
        return new Pruner() {
            @Override
            public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
                if (model.featureLayer() < 1) {
                    throw new PruneException("pruner prumerge needs features from an encoder layer, not the embeddings");
                }
                return List.of(PruneStep.of("prumerge", HookPoint.VISION, Need.VISION_INTERNALS, Need.HIDDEN_STATES));
            }

            @Override
            public PositionPolicy defaultPositionPolicy() {
                return PositionPolicy.RENUMBER;
            }

            @Override
            public PruneDecision decide(PruneContext ctx) {
                return prumerge(ctx, adaptive, neighbours);
            }
        };
    }

    /** The vision layer whose q/k rank the patches: the one after the features, else the one producing them. */
    static int qkLayer(int featureLayer, int visionLayers) {
        return featureLayer < visionLayers ? featureLayer : featureLayer - 1;
    }

    private static PruneDecision prumerge(PruneContext ctx, boolean adaptive, int neighbours) {
        int[] live = ctx.live();
        if (ctx.budget().budget().keepsAll() || live.length == 0) {
            return PruneDecision.keep(live);
        }
        VisionView vision = ctx.vision();
        int layer = qkLayer(vision.featureLayer(), vision.layers());
        float[][] x = BaselineMath.rows(ctx.hidden()); // [n_live, Dv'] ordered as live
        float[] scores = new float[ctx.visualTotal()];
        Arrays.fill(scores, Float.NaN);
        List<Integer> kept = new ArrayList<>();
        List<Integer> replaced = new ArrayList<>();
        List<float[]> rows = new ArrayList<>();
        for (ImageSpan span : ctx.images()) {
            int t = ctx.budget().forImage(span.image());
            if (t == 0) { // a request-scope total can leave an image without tokens
                continue;
            }
            int first = span.firstVisual() + (BaselineMath.hasClsToken(ctx, span) ? 1 : 0);
            int n = span.gridRows() * span.gridCols();
            float[][] q = BaselineMath.rows(vision.queries(span.image(), layer)); // [1+n, Dv]
            float[][] keys = BaselineMath.rows(vision.keys(span.image(), layer)); // [1+n, Dv]
            float[] a = Arrays.copyOfRange(clsAttention(q[0], keys), 1, n + 1); // [n] patches
            float[][] kn = new float[n][];
            float[][] xp = new float[n][];
            for (int p = 0; p < n; p++) {
                kn[p] = BaselineMath.normalized(keys[p + 1]);
                xp[p] = x[BaselineMath.indexIn(live, first + p)];
                scores[first + p] = a[p];
            }
            int[] keep = adaptive ? adaptiveKeep(a, t - 1) : Select.topK(a, range(n), t - 1); // patch indices
            for (int p : keep) {
                kept.add(first + p);
                replaced.add(first + p);
                rows.add(merged(xp, a, kn, p, neighbours));
            }
            int zSlot = firstDropped(span.firstVisual(), first, keep);
            kept.add(zSlot);
            replaced.add(zSlot);
            rows.add(summary(xp, a, keep));
        }
        NDArray rep = BaselineMath.array(ctx.manager(), rows.toArray(new float[0][]));
        return PruneDecision.keep(kept.stream().mapToInt(Integer::intValue).sorted().toArray()).withScores(scores)
                .withReplacements(replaced.stream().mapToInt(Integer::intValue).toArray(), rep);
    }

    /**
     * The slot for z: the lowest-index token of the image that is not a kept patch, i.e. CLS when it is a
     * visual token ({@code firstVisual < firstPatch}), else the first patch not kept.
     */
    static int firstDropped(int firstVisual, int firstPatch, int[] keptPatches) {
        if (firstVisual < firstPatch) {
            return firstVisual;
        }
        int p = 0;
        while (Arrays.binarySearch(keptPatches, p) >= 0) {
            p++;
        }
        return firstPatch + p;
    }

    private static int[] range(int n) {
        return java.util.stream.IntStream.range(0, n).toArray();
    }

    /** CLS's attention over every token as one full-width head: softmax(q k_j / sqrt(d)), [1+n]. */
    static float[] clsAttention(float[] qCls, float[][] keys) {
        double scale = 1 / Math.sqrt(qCls.length);
        double[] logit = new double[keys.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < keys.length; j++) {
            logit[j] = BaselineMath.dot(qCls, keys[j]) * scale;
            max = Math.max(max, logit[j]);
        }
        double sum = 0;
        for (int j = 0; j < keys.length; j++) {
            logit[j] = Math.exp(logit[j] - max);
            sum += logit[j];
        }
        float[] out = new float[keys.length];
        for (int j = 0; j < keys.length; j++) {
            out[j] = (float) (logit[j] / sum);
        }
        return out;
    }

    /** The p-th quantile (0..1) with linear interpolation between order statistics (numpy's default). */
    static double quantile(float[] values, double p) {
        double[] s = new double[values.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = values[i];
        }
        Arrays.sort(s);
        double pos = p * (s.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, s.length - 1);
        return s[lo] + (pos - lo) * (s[hi] - s[lo]);
    }

    /** The IQR rule's outlier threshold Q3 + 1.5 (Q3 - Q1). */
    static double iqrThreshold(float[] a) {
        double q1 = quantile(a, 0.25);
        double q3 = quantile(a, 0.75);
        return q3 + 1.5 * (q3 - q1);
    }

    /** Number of IQR outliers: #{a_i > Q3 + 1.5 IQR}. */
    static int iqrCount(float[] a) {
        double thr = iqrThreshold(a);
        int c = 0;
        for (float v : a) {
            if (v > thr) {
                c++;
            }
        }
        return c;
    }

    /**
     * Adaptive mode's k patches (ascending): the IQR outliers (at most k, by a), then PruMerge+'s uniform
     * extras, then the next patches by a.
     */
    static int[] adaptiveKeep(float[] a, int k) {
        int n = a.length;
        int outliers = iqrCount(a);
        int[] keep = Select.topK(a, range(n), Math.min(outliers, k));
        int need = k - keep.length;
        if (need == 0) {
            return keep;
        }
        int[] extras = uniformExtras(n, outliers, keep, need);
        keep = Select.union(keep, extras);
        need = k - keep.length;
        if (need > 0) {
            int[] held = keep;
            int[] rest = Arrays.stream(range(n)).filter(p -> Arrays.binarySearch(held, p) < 0).toArray();
            keep = Select.union(keep, Select.topK(a, rest, need));
        }
        return keep;
    }

    /**
     * PruMerge+'s uniform extras, at most {@code need}: patches 0, s, 2s, ... below n - 1 with
     * s = max(1, floor(floor(n / outliers) / 3)) that are not in {@code kept} (ascending), thinned evenly to
     * {@code need} when there are more.
     */
    static int[] uniformExtras(int n, int outliers, int[] kept, int need) {
        int step = Math.max(1, (n / Math.max(1, outliers)) / 3);
        List<Integer> u = new ArrayList<>();
        for (int p = 0; p < n - 1; p += step) {
            if (Arrays.binarySearch(kept, p) < 0) {
                u.add(p);
            }
        }
        if (u.size() <= need) {
            return u.stream().mapToInt(Integer::intValue).toArray();
        }
        int[] out = new int[need];
        for (int j = 0; j < need; j++) {
            out[j] = u.get((int) ((long) j * u.size() / need));
        }
        return out;
    }

    /**
     * Positions of the {@code count} patches most similar to patch i by normalised key (i excluded; ties to
     * the lower index), ascending; all other patches when there are fewer.
     */
    static int[] neighbours(float[][] kn, int i, int count) {
        float[] sim = new float[kn.length];
        for (int j = 0; j < kn.length; j++) {
            sim[j] = (float) BaselineMath.dot(kn[i], kn[j]);
        }
        int[] others = java.util.stream.IntStream.range(0, kn.length).filter(j -> j != i).toArray();
        return Select.topK(sim, others, count);
    }

    /** y_i = x_i + sum over the neighbours j of a_j x_j. */
    static float[] merged(float[][] x, float[] a, float[][] kn, int i, int count) {
        double[] y = new double[x[i].length];
        for (int c = 0; c < y.length; c++) {
            y[c] = x[i][c];
        }
        for (int j : neighbours(kn, i, count)) {
            for (int c = 0; c < y.length; c++) {
                y[c] += (double) a[j] * x[j][c];
            }
        }
        return toFloat(y);
    }

    /** z = sum of a_j x_j over the patches not in {@code kept} (ascending). */
    static float[] summary(float[][] x, float[] a, int[] kept) {
        double[] z = new double[x[0].length];
        for (int j = 0; j < x.length; j++) {
            if (Arrays.binarySearch(kept, j) >= 0) {
                continue;
            }
            for (int c = 0; c < z.length; c++) {
                z[c] += (double) a[j] * x[j][c];
            }
        }
        return toFloat(z);
    }

    private static float[] toFloat(double[] d) {
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = (float) d[i];
        }
        return out;
    }
}
