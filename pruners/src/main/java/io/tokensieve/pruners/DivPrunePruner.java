package io.tokensieve.pruners;

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
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.PrunerParams;
import io.tokensieve.core.prune.PrunerProvider;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * DivPrune: keep the most diverse visual tokens by greedy max-min diversity on the projected embeddings,
 * before the LLM. "DivPrune: Diversity-based Visual Token Pruning for Large Multimodal Models", Alvar et
 * al., arXiv 2503.02175 (baselines.md section 3).
 *
 * <p>Distances are D_ij = 1 - cos(E_i, E_j) on the projected embeddings (PROJECTED). The first pick is the
 * token with the largest nearest-neighbour distance (the second-smallest entry of its column); then each
 * pick maximises the distance to the selected set, kept as a running minimum m_j = min(m_j, D_new,j)
 * (O(k N) after the distance matrix), and ties go to the lower index. Scores: for kept tokens the max-min
 * distance at which they were picked (the first pick: its nearest-neighbour distance), for dropped tokens
 * their final distance to the kept set.
 *
 * <p>Differences from the reference code: picked tokens are masked, so exact duplicates can never be picked
 * twice (the reference can return an index twice when every remaining score is 0); distances are computed in
 * double on the host; several images run one by one with the per-image budgets (scope image, as the spec
 * recommends for multi-crop inputs) or jointly over all visual tokens of the request with the total budget
 * (scope request); positions are renumbered by default, as after the reference's re-assembly.
 */
public final class DivPrunePruner implements PrunerProvider {
    @Override
    public String id() {
        return "divprune";
    }

    @Override
    public String summary() {
        return "greedy max-min diversity (cosine distance) on the projected visual embeddings, before the LLM";
    }

    @Override
    public String paper() {
        return "DivPrune: Diversity-based Visual Token Pruning for Large Multimodal Models, arXiv 2503.02175";
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of();
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
        return new Pruner() {
            @Override
            public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
                return List.of(PruneStep.of("diversity", HookPoint.PROJECTED, Need.HIDDEN_STATES));
            }

            @Override
            public PositionPolicy defaultPositionPolicy() {
                return PositionPolicy.RENUMBER;
            }

            @Override
            public PruneDecision decide(PruneContext ctx) {
                return divPrune(ctx);
            }
        };
    }

    private static PruneDecision divPrune(PruneContext ctx) {
        int[] live = ctx.live();
        if (ctx.budget().budget().keepsAll() || live.length == 0) {
            return PruneDecision.keep(live);
        }
        float[][] e = BaselineMath.rows(ctx.hidden()); // [n, D] ordered as live
        boolean request = ctx.budget().budget().scope() == Budget.Scope.REQUEST;
        List<int[]> groups = request ? List.of(live) : Select.livePerImage(ctx, live);
        float[] scores = new float[ctx.visualTotal()];
        Arrays.fill(scores, Float.NaN);
        List<Integer> kept = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) {
            int[] tokens = groups.get(g);
            int k = Math.min(request ? ctx.budget().total() : ctx.budget().forImage(g), tokens.length);
            if (k == 0) {
                continue;
            }
            MaxMin mm = maxMin(cosineDistances(BaselineMath.select(e, live, tokens)), k);
            for (int i = 0; i < tokens.length; i++) {
                scores[tokens[i]] = mm.scores[i];
            }
            for (int p : mm.picks) {
                kept.add(tokens[p]);
            }
        }
        return PruneDecision.keep(kept.stream().mapToInt(Integer::intValue).sorted().toArray()).withScores(scores);
    }

    /** D_ij = 1 - cos(e_i, e_j), symmetric, with an exact 0 diagonal. */
    static double[][] cosineDistances(float[][] e) {
        int n = e.length;
        float[][] en = new float[n][];
        for (int i = 0; i < n; i++) {
            en[i] = BaselineMath.normalized(e[i]);
        }
        double[][] d = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                d[i][j] = 1 - BaselineMath.dot(en[i], en[j]);
                d[j][i] = d[i][j];
            }
        }
        return d;
    }

    /** Greedy picks in pick order and per-token scores (see the class comment). */
    record MaxMin(int[] picks, float[] scores) {}

    /** Greedy max-min diversity: {@code k} picks from the distance matrix {@code d} (1 <= k <= n). */
    static MaxMin maxMin(double[][] d, int k) {
        int n = d.length;
        float[] scores = new float[n];
        int[] picks = new int[k];
        boolean[] picked = new boolean[n];
        int first = 0;
        double firstScore = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            double nn = nearestOther(d, j);
            if (nn > firstScore) {
                firstScore = nn;
                first = j;
            }
        }
        picks[0] = first;
        picked[first] = true;
        scores[first] = (float) (n == 1 ? 0 : firstScore);
        double[] m = d[first].clone();
        for (int p = 1; p < k; p++) {
            int best = -1;
            for (int j = 0; j < n; j++) {
                if (!picked[j] && (best < 0 || m[j] > m[best])) {
                    best = j;
                }
            }
            picks[p] = best;
            picked[best] = true;
            scores[best] = (float) m[best];
            for (int j = 0; j < n; j++) {
                m[j] = Math.min(m[j], d[best][j]);
            }
        }
        for (int j = 0; j < n; j++) {
            if (!picked[j]) {
                scores[j] = (float) m[j];
            }
        }
        return new MaxMin(picks, scores);
    }

    /** Second-smallest entry of column j (the smallest being the self-distance); +inf for a single token. */
    private static double nearestOther(double[][] d, int j) {
        double[] col = new double[d.length];
        for (int i = 0; i < d.length; i++) {
            col[i] = d[i][j];
        }
        Arrays.sort(col);
        return col.length > 1 ? col[1] : Double.POSITIVE_INFINITY;
    }
}
