package io.tokensieve.pruners;

import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.PruneContext;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Selection helpers shared by pruners; every tie goes to the lower original index. */
public final class Select {
    private Select() {}

    /**
     * The {@code k} candidates with the highest score (ties: lower index first), returned ascending.
     * {@code scores} is indexed by original visual index.
     */
    public static int[] topK(float[] scores, int[] candidates, int k) {
        k = Math.max(0, Math.min(k, candidates.length));
        Integer[] c = Arrays.stream(candidates).boxed().toArray(Integer[]::new);
        Arrays.sort(c, (a, b) -> {
            int cmp = Float.compare(scores[b], scores[a]);
            return cmp != 0 ? cmp : Integer.compare(a, b);
        });
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = c[i];
        }
        Arrays.sort(out);
        return out;
    }

    /** Candidates in descending score order (ties: lower index first). */
    public static int[] rank(float[] scores, int[] candidates) {
        Integer[] c = Arrays.stream(candidates).boxed().toArray(Integer[]::new);
        Arrays.sort(c, (a, b) -> {
            int cmp = Float.compare(scores[b], scores[a]);
            return cmp != 0 ? cmp : Integer.compare(a, b);
        });
        return Arrays.stream(c).mapToInt(Integer::intValue).toArray();
    }

    /** Index of the maximum (lowest index on ties), over all entries not masked. */
    public static int argmax(float[] values, boolean[] masked) {
        int best = -1;
        for (int i = 0; i < values.length; i++) {
            if (masked != null && masked[i]) {
                continue;
            }
            if (best < 0 || values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Live tokens of each image, in image order. */
    public static List<int[]> livePerImage(PruneContext ctx, int[] live) {
        List<int[]> out = new ArrayList<>();
        for (ImageSpan span : ctx.images()) {
            out.add(Arrays.stream(live).filter(span::contains).toArray());
        }
        return out;
    }

    /**
     * Top-k per image with the budget's per-image counts (scope image), or globally with the total
     * (scope request). Returns ascending original indices.
     */
    public static int[] topKByBudget(PruneContext ctx, float[] scores, int[] live) {
        if (ctx.budget().budget().scope() == io.tokensieve.core.prune.Budget.Scope.REQUEST) {
            return topK(scores, live, ctx.budget().total());
        }
        List<int[]> per = livePerImage(ctx, live);
        int[] out = new int[0];
        for (int i = 0; i < per.size(); i++) {
            out = union(out, topK(scores, per.get(i), ctx.budget().forImage(i)));
        }
        return out;
    }

    public static int[] union(int[] a, int[] b) {
        return java.util.stream.IntStream.concat(Arrays.stream(a), Arrays.stream(b)).distinct().sorted().toArray();
    }

    /** A float[N] of NaN with the given entries set. */
    public static float[] scoresOf(int n, int[] idx, float[] values) {
        float[] s = new float[n];
        Arrays.fill(s, Float.NaN);
        for (int i = 0; i < idx.length; i++) {
            s[idx[i]] = values[i];
        }
        return s;
    }
}
