package io.tokensieve.pruners;

import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.ResolvedBudget;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Per-stage visual-token counts of a multi-stage pruner whose budget is a layer average
 * ({@link io.tokensieve.core.prune.BudgetConvention#LAYER_AVERAGE}): the sum over decoder layers of the
 * visual tokens entering each layer, divided by the number of layers, must be within one token of the
 * budget.
 *
 * <p>A method gives a {@link Rule}: per-stage counts as a function of one scale, non-decreasing in it
 * (AdaptInfer: a multiple of its stage ratios; PDrop/AdaToken-3D: a power of the ratio schedule;
 * SparseVLM: a multiple of its schedule, plus the recycled clusters). For each group of tokens ranked
 * together (an image, or the whole request) the plan takes the largest scale whose average does not pass
 * the group's target, then adds single tokens to single stages, always the one that raises the request's
 * average least, until the average reaches the budget; it keeps whichever of the last two plans is closer.
 * Every such step moves the average by at most one token, so the result is within one token whenever the
 * stages can reach the budget at all.
 *
 * <p>The layers before the first boundary see every token, so a small budget can be out of reach (on a
 * 4-layer model a first boundary at layer 1 alone averages a quarter of the tokens). When the scheduled
 * boundaries cannot reach the budget, or would have to drop every token at their first stage, the first
 * stage moves to {@code BEFORE_LAYER(0)} (a hook every such pruner schedules for this purpose; it does
 * nothing otherwise).
 */
final class StagePlan {
    private static final double EPS = 1e-9;

    /** How one method turns a scale into stage counts for a group of {@code n} tokens. */
    interface Rule {
        /** A scale at which every count is at its maximum. */
        double maxScale(int n);

        /** Tokens the ranking keeps at each of {@code stages} stages; non-decreasing in {@code s}. */
        int[] select(double s, int n, int stages);

        /** Live tokens after each stage for these selection counts, or null if the counts are not allowed. */
        int[] live(int[] select, int n);
    }

    /**
     * Tokens ranked together: the images it covers, its token count and its share of the budget (in
     * tokens, as a layer average).
     */
    record Group(int[] images, int size, int target) {
        boolean contains(List<ImageSpan> spans, int v) {
            for (int i : images) {
                if (spans.get(i).contains(v)) {
                    return true;
                }
            }
            return false;
        }

        /** The live tokens of this group, ascending. */
        int[] liveOf(List<ImageSpan> spans, int[] live) {
            return Arrays.stream(live).filter(v -> contains(spans, v)).toArray();
        }
    }

    /** Counts for one set of boundaries. */
    record Counts(int[] boundaries, int[][] select, int[][] live, double[] scales, double average) {}

    private final int layers;
    private final int[] hooks;
    private final int[] stageOfHook;
    private final Counts counts;
    private final List<Group> groups;
    private final int fixed;

    private StagePlan(int layers, int[] hooks, int[] stageOfHook, Counts counts, List<Group> groups, int fixed) {
        this.layers = layers;
        this.hooks = hooks;
        this.stageOfHook = stageOfHook;
        this.counts = counts;
        this.groups = groups;
        this.fixed = fixed;
    }

    /** The hooks a pruner schedules: its boundaries, preceded by hook 0 for budgets they cannot reach. */
    static int[] hooks(int[] boundaries) {
        if (boundaries.length > 0 && boundaries[0] == 0) {
            return boundaries.clone();
        }
        int[] h = new int[boundaries.length + 1];
        System.arraycopy(boundaries, 0, h, 1, boundaries.length);
        return h;
    }

    /**
     * The groups of a request: one per image marked in {@code gated} (scope image) or one for all of them
     * (scope request). Tokens of the other images are never pruned; their excess over their own share of
     * the budget is taken from the gated groups.
     */
    static List<Group> groups(String prunerId, List<ImageSpan> images, boolean[] gated, ResolvedBudget budget) {
        int fixedTokens = 0;
        int fixedExcess = 0;
        List<Integer> gatedImages = new ArrayList<>();
        for (ImageSpan s : images) {
            if (gated[s.image()]) {
                gatedImages.add(s.image());
            } else {
                fixedTokens += s.count();
                fixedExcess += s.count() - budget.forImage(s.image());
            }
        }
        List<Group> out = new ArrayList<>();
        if (gatedImages.isEmpty()) {
            return out;
        }
        if (budget.budget().scope() == Budget.Scope.REQUEST) {
            int size = gatedImages.stream().mapToInt(i -> images.get(i).count()).sum();
            int target = budget.total() - fixedTokens;
            if (target < 0) {
                throw tooSmall(prunerId, budget, fixedTokens);
            }
            out.add(new Group(gatedImages.stream().mapToInt(Integer::intValue).toArray(), size, Math.min(size, target)));
            return out;
        }
        int[] own = gatedImages.stream().mapToInt(budget::forImage).toArray();
        int total = Arrays.stream(own).sum() - fixedExcess;
        if (total < 0) {
            throw tooSmall(prunerId, budget, fixedTokens);
        }
        int[] targets = new int[own.length];
        Budget.split(total, own, targets);
        for (int i = 0; i < own.length; i++) {
            int img = gatedImages.get(i);
            out.add(new Group(new int[] {img}, images.get(img).count(), targets[i]));
        }
        return out;
    }

    private static PruneException tooSmall(String prunerId, ResolvedBudget budget, int fixedTokens) {
        return new PruneException("pruner " + prunerId + ": budget " + budget.budget().label() + " (" + budget.total()
                + " tokens as a layer average) is below the " + fixedTokens + " tokens of the images it does not prune");
    }

    /** A plan that keeps everything (budget keeps all tokens). */
    static StagePlan keepAll(int layers, int[] hooks, List<Group> groups, int fixed) {
        int[] none = new int[hooks.length];
        Arrays.fill(none, -1);
        int[][] empty = new int[groups.size()][0];
        return new StagePlan(layers, hooks, none, new Counts(new int[0], empty, empty, new double[groups.size()],
                groups.stream().mapToInt(Group::size).sum() + fixed), groups, fixed);
    }

    /**
     * Solves the counts for the method's {@code boundaries} (ascending, as scheduled by {@link #hooks}),
     * falling back to a first stage at {@code BEFORE_LAYER(0)} when they cannot reach the budget or would drop
     * every token of a group at their first stage. {@code fixed} tokens are never pruned.
     */
    static StagePlan solve(int layers, int[] boundaries, List<Group> groups, int fixed, Rule rule) {
        int[] hooks = hooks(boundaries);
        int[] sizes = groups.stream().mapToInt(Group::size).toArray();
        int[] targets = groups.stream().mapToInt(Group::target).toArray();
        double target = Arrays.stream(targets).sum();
        Counts main = boundaries.length == 0 ? null : counts(layers, boundaries, sizes, targets, rule);
        Counts chosen = main;
        if (main == null || !acceptable(main, target)) {
            if (boundaries.length == 0 || boundaries[0] > 0) {
                int[] early = boundaries.length == 0 ? new int[] {0} : boundaries.clone();
                early[0] = 0;
                Counts alt = counts(layers, early, sizes, targets, rule);
                if (main == null || acceptable(alt, target)
                        || Math.abs(alt.average() - target) < Math.abs(main.average() - target)) {
                    chosen = alt;
                }
            }
        }
        if (Math.abs(chosen.average() - target) > 1.0 + EPS) {
            throw new PruneException(String.format(java.util.Locale.ROOT,
                    "a budget of %.0f visual tokens per layer on average cannot be reached on a %d-layer model with "
                            + "%d visual tokens: the closest schedule (stages before layers %s) averages %.2f",
                    target, layers, Arrays.stream(sizes).sum(), Arrays.toString(chosen.boundaries()), chosen.average()));
        }
        int[] stageOfHook = new int[hooks.length];
        for (int h = 0; h < hooks.length; h++) {
            stageOfHook[h] = -1;
            for (int k = 0; k < chosen.boundaries().length; k++) {
                if (chosen.boundaries()[k] == hooks[h]) {
                    stageOfHook[h] = k;
                }
            }
        }
        return new StagePlan(layers, hooks, stageOfHook, new Counts(chosen.boundaries(), chosen.select(), chosen.live(),
                chosen.scales(), chosen.average() + (double) fixed), groups, fixed);
    }

    private static boolean acceptable(Counts c, double target) {
        if (Math.abs(c.average() - target) > 1.0 + EPS) {
            return false;
        }
        for (int[] s : c.select()) {
            if (s.length > 0 && s[0] == 0) {
                return false;
            }
        }
        return true;
    }

    /** Layer average of one group of {@code n} tokens with these live counts after each boundary. */
    static double groupAverage(int layers, int[] b, int n, int[] live) {
        if (b.length == 0) {
            return n;
        }
        double sum = (double) b[0] * n;
        for (int k = 0; k < b.length; k++) {
            int end = k + 1 < b.length ? b[k + 1] : layers;
            sum += (double) (end - b[k]) * live[k];
        }
        return sum / layers;
    }

    /** The counts for one set of boundaries (see the class comment). */
    static Counts counts(int layers, int[] b, int[] sizes, int[] targets, Rule rule) {
        int groups = sizes.length;
        int stages = b.length;
        int[][] sel = new int[groups][];
        int[][] live = new int[groups][];
        double[] scales = new double[groups];
        for (int g = 0; g < groups; g++) {
            int n = sizes[g];
            double lo = 0;
            double hi = rule.maxScale(n);
            if (avgAt(layers, b, n, hi, rule) <= targets[g] + EPS) {
                lo = hi;
            } else {
                for (int it = 0; it < 100; it++) {
                    double mid = (lo + hi) / 2;
                    if (avgAt(layers, b, n, mid, rule) <= targets[g] + EPS) {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
            }
            scales[g] = lo;
            sel[g] = rule.select(lo, n, stages);
            live[g] = rule.live(sel[g], n);
        }
        double target = Arrays.stream(targets).sum();
        double avg = 0;
        for (int g = 0; g < groups; g++) {
            avg += groupAverage(layers, b, sizes[g], live[g]);
        }
        int[][] prevSel = null;
        int[][] prevLive = null;
        double prevAvg = avg;
        while (avg < target - EPS) {
            int bestG = -1;
            int bestK = -1;
            double bestDelta = Double.POSITIVE_INFINITY;
            int[] bestLive = null;
            for (int g = 0; g < groups; g++) {
                double base = groupAverage(layers, b, sizes[g], live[g]);
                for (int k = 0; k < stages; k++) {
                    int[] s = sel[g].clone();
                    s[k]++;
                    int[] l = rule.live(s, sizes[g]);
                    if (l == null) {
                        continue;
                    }
                    double d = groupAverage(layers, b, sizes[g], l) - base;
                    if (d > EPS && d < bestDelta - EPS) {
                        bestDelta = d;
                        bestG = g;
                        bestK = k;
                        bestLive = l;
                    }
                }
            }
            if (bestG < 0) {
                break;
            }
            prevSel = deepCopy(sel);
            prevLive = deepCopy(live);
            prevAvg = avg;
            sel[bestG][bestK]++;
            live[bestG] = bestLive;
            avg += bestDelta;
        }
        if (prevSel != null && Math.abs(prevAvg - target) < Math.abs(avg - target) - EPS) {
            sel = prevSel;
            live = prevLive;
            avg = prevAvg;
        }
        return new Counts(b.clone(), sel, live, scales, avg);
    }

    private static double avgAt(int layers, int[] b, int n, double s, Rule rule) {
        return groupAverage(layers, b, n, rule.live(rule.select(s, n, b.length), n));
    }

    private static int[][] deepCopy(int[][] a) {
        int[][] c = new int[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    /** The stage that acts at {@code hook}, or -1 if the step there keeps every live token. */
    int stageAt(int hook) {
        for (int h = 0; h < hooks.length; h++) {
            if (hooks[h] == hook) {
                return stageOfHook[h];
            }
        }
        return -1;
    }

    /** Tokens of group {@code g} the ranking keeps at stage {@code k}. */
    int select(int g, int k) {
        return counts.select()[g][k];
    }

    /** Live tokens of group {@code g} after stage {@code k}. */
    int live(int g, int k) {
        return counts.live()[g][k];
    }

    List<Group> groups() {
        return groups;
    }

    /** The boundaries in use (the scheduled ones, or with the first moved to 0). */
    int[] boundaries() {
        return counts.boundaries().clone();
    }

    /** The scale each group's counts came from before single-token adjustments. */
    double scale(int g) {
        return counts.scales()[g];
    }

    /** Planned equivalent average (visual tokens per layer, never-pruned tokens included). */
    double average() {
        return counts.average();
    }

    /** Planned visual tokens entering each decoder layer. */
    int[] perLayer() {
        int[] out = new int[layers];
        int[] b = counts.boundaries();
        for (int l = 0; l < layers; l++) {
            int stage = -1;
            for (int k = 0; k < b.length; k++) {
                if (b[k] <= l) {
                    stage = k;
                }
            }
            int sum = fixed;
            for (int g = 0; g < groups.size(); g++) {
                sum += stage < 0 ? groups.get(g).size() : counts.live()[g][stage];
            }
            out[l] = sum;
        }
        return out;
    }
}
