package io.tokensieve.pruners;

import io.tokensieve.core.prune.PruneException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * The arithmetic of LVLM_CSP on plain arrays (lvlm-csp.md sections 4-6 and 9): the representative
 * selections, the stage-3 top-k, the SEG_FIRST quotas, the feature-region instance masks used in place of an
 * external segmenter, the image-token reduction rho, and the mapping from a budget to the schedule
 * ({@link #plan}).
 */
public final class CspMath {
    private CspMath() {}

    /** The spec's presets, in 32-layer terms with token shares of N (lvlm-csp.md section 6). */
    public enum Preset {
        CSP65(8, 16, 1.0 / 4, 1.0 / 16),
        CSP70(10, 16, 1.0 / 4, 1.0 / 16);

        final int clusterLayer32;
        final int pruneLayer32;
        final double clusterShare;
        final double pruneShare;

        Preset(int clusterLayer32, int pruneLayer32, double clusterShare, double pruneShare) {
            this.clusterLayer32 = clusterLayer32;
            this.pruneLayer32 = pruneLayer32;
            this.clusterShare = clusterShare;
            this.pruneShare = pruneShare;
        }

        /** Mean image tokens per layer over N (csp65: 11/32 = 0.34375; csp70: 9.5/32 = 0.296875). */
        public double keep() {
            return (clusterLayer32 * clusterShare + (pruneLayer32 - clusterLayer32) + (32 - pruneLayer32) * pruneShare) / 32;
        }

        /** sigma: the share of the token-layers the scattering stage spends (csp65: 8/11). */
        double scatterShare() {
            return (pruneLayer32 - clusterLayer32) / (32 * keep());
        }

        /** phi: the share of the remaining token-layers that stage 1 spends (csp65: 2/3). */
        double stage1Share() {
            double c = clusterLayer32 * clusterShare;
            return c / (c + (32 - pruneLayer32) * pruneShare);
        }

        public static Preset parse(String s) {
            return valueOf(s.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /**
     * One request's schedule in total visual tokens: stage 1 keeps {@code clusterTokens} for layers
     * {@code [0, clusterLayer)}, scattering brings back all {@code visual} tokens for
     * {@code [clusterLayer, pruneLayer)}, stage 3 keeps {@code pruneTokens} for {@code [pruneLayer, layers)}.
     * With {@code clusterLayer == pruneLayer} there is no scattering and stage 3 ranks the representatives.
     */
    public record Plan(int layers, int visual, int clusterLayer, int pruneLayer, int clusterTokens, int pruneTokens) {
        /** Whether stage 1 drops anything. */
        public boolean clusters() {
            return clusterLayer > 0 && clusterTokens < visual;
        }

        /** Whether a scattering step brings dropped tokens back. */
        public boolean scatters() {
            return clusters() && pruneLayer > clusterLayer;
        }

        /** Whether stage 3 drops anything. */
        public boolean prunes() {
            return pruneLayer < layers && pruneTokens < liveBeforePrune();
        }

        int liveBeforePrune() {
            return clusters() && pruneLayer == clusterLayer ? clusterTokens : visual;
        }

        /** Live visual tokens entering layer {@code l}. */
        public int countAt(int l) {
            if (l < clusterLayer) {
                return clusters() ? clusterTokens : visual;
            }
            if (l < pruneLayer) {
                return visual;
            }
            return prunes() ? pruneTokens : liveBeforePrune();
        }

        public int[] counts() {
            return IntStream.range(0, layers).map(this::countAt).toArray();
        }

        /** Equivalent average: sum over layers of live visual tokens / layers. */
        public double average() {
            return Arrays.stream(counts()).average().orElse(0);
        }

        /** Image-token reduction {@code 1 - sum_l n_l / (L N)}. */
        public double rho() {
            return 1 - average() / visual;
        }
    }

    /** Closed form of rho (spec 5): {@code 1 - (Lc Nc + (Lp - Lc) N + (L - Lp) Np) / (L N)}. */
    public static double rho(int layers, int clusterLayer, int pruneLayer, int n, int nc, int np) {
        return 1 - (double) (clusterLayer * nc + (pruneLayer - clusterLayer) * n + (layers - pruneLayer) * np)
                / ((double) layers * n);
    }

    /**
     * The schedule that reaches an equivalent average of {@code target} visual tokens (within one token) on
     * a model of {@code layers} layers with {@code visual} tokens. Boundaries: {@code Lc} is the preset's
     * layer mapped by relative depth (at least 1); the scattering window is the preset's width when the
     * budget allows, scaled down so that scattering keeps the preset's share sigma of the token-layers
     * ({@code w = round(sigma L target / visual)}, at least 1), and narrowed further (down to no scattering)
     * until the counts fit; stage 1 gets the preset's share phi of the remaining token-layers and stage 3 the
     * rest. {@code clusterLayer} / {@code pruneLayer} fix a boundary when non-negative. {@code minTokens}
     * bounds both stage counts from below (one per image).
     */
    public static Plan plan(int layers, int visual, int target, int minTokens, Preset preset, int clusterLayer,
                            int pruneLayer) {
        if (target >= visual) {
            return new Plan(layers, visual, 0, layers, visual, visual);
        }
        int lc = clusterLayer >= 0 ? clusterLayer
                : clamp((int) Math.round(preset.clusterLayer32 * layers / 32.0), 1, Math.max(1, layers - 2));
        int lpMax;
        if (pruneLayer >= 0) {
            lpMax = pruneLayer;
        } else {
            int scaled = (int) Math.round(preset.pruneLayer32 * layers / 32.0);
            lpMax = Math.max(lc, Math.min(layers - 1, Math.max(lc + 1, scaled)));
        }
        if (lc > layers || lpMax > layers || lpMax < lc) {
            throw new PruneException("lvlm-csp: clusterLayer=" + lc + " and pruneLayer=" + lpMax + " must satisfy "
                    + "0 <= clusterLayer <= pruneLayer <= " + layers + " on this model");
        }
        int wMax = lpMax - lc;
        int wMin = pruneLayer >= 0 ? wMax : 0;
        int wPref = pruneLayer >= 0 ? wMax : clamp((int) Math.round(preset.scatterShare() * layers * target / visual),
                Math.min(1, wMax), wMax);
        for (int w = wPref; w >= wMin; w--) {
            Plan p = solve(layers, visual, target, minTokens, preset.stage1Share(), lc, lc + w);
            if (p != null) {
                return p;
            }
        }
        throw new PruneException("lvlm-csp: " + target + " visual tokens per layer on average cannot be reached with "
                + "clusterLayer=" + lc + " and pruneLayer=" + lpMax + " on a " + layers + "-layer model with " + visual
                + " visual tokens (the scattering layers alone average " + String.format("%.2f", (double) wMax * visual
                / layers) + ")");
    }

    private static Plan solve(int layers, int n, int target, int min, double phi, int lc, int lp) {
        int a = lc;
        int w = lp - lc;
        int b = layers - lp;
        long r = (long) layers * target - (long) w * n; // token-layers left for stages 1 and 3
        int nc = n;
        int np = n;
        double share = a == 0 ? 0 : b == 0 ? 1 : phi;
        if (a > 0) {
            nc = clamp((int) Math.round(share * r / a), Math.min(min, n), n);
        }
        if (b > 0) {
            int cap = w == 0 && a > 0 ? nc : n;
            int raw = (int) Math.round((double) (r - (long) a * nc) / b);
            np = clamp(raw, Math.min(min, cap), cap);
            if (a > 0 && np != raw) {
                int lo = w == 0 ? Math.max(min, np) : min;
                nc = clamp((int) Math.round((double) (r - (long) b * np) / a), Math.min(lo, n), n);
            }
        }
        Plan p = new Plan(layers, n, lc, lp, nc, np);
        return Math.abs(p.average() - target) < 1.0 ? p : null;
    }

    static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    /** UNIFORM: {@code i * floor(n / k)} for {@code i = 0..k-1} (raster stride). */
    public static int[] uniform(int n, int k) {
        k = clamp(k, 0, n);
        if (k == 0) {
            return new int[0];
        }
        int stride = n / k;
        return IntStream.range(0, k).map(i -> i * stride).toArray();
    }

    /**
     * UNIFORM_2D: the lattice of the largest stride {@code s} in both axes that still has at least {@code k}
     * points ({@code s = sqrt(n/k)} when that is whole), then {@code k} of its points evenly spaced in raster
     * order. Returns ascending raster indices.
     */
    public static int[] uniform2d(int rows, int cols, int k) {
        k = clamp(k, 0, rows * cols);
        if (k == 0) {
            return new int[0];
        }
        int s = Math.max(1, (int) Math.floor(Math.sqrt((double) rows * cols / k)));
        while (s > 1 && ceilDiv(rows, s) * ceilDiv(cols, s) < k) {
            s--;
        }
        List<Integer> lattice = new ArrayList<>();
        for (int r = 0; r < rows; r += s) {
            for (int c = 0; c < cols; c += s) {
                lattice.add(r * cols + c);
            }
        }
        int m = lattice.size();
        int kk = k;
        return IntStream.range(0, k).map(i -> lattice.get((int) ((long) i * m / kk))).sorted().toArray();
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** RANDOM: {@code k} distinct indices of {@code [0, n)} (partial Fisher-Yates), ascending. */
    public static int[] random(Random rng, int n, int k) {
        k = clamp(k, 0, n);
        int[] pool = IntStream.range(0, n).toArray();
        for (int i = 0; i < k; i++) {
            int j = i + rng.nextInt(n - i);
            int t = pool[i];
            pool[i] = pool[j];
            pool[j] = t;
        }
        int[] out = Arrays.copyOf(pool, k);
        Arrays.sort(out);
        return out;
    }

    /** The {@code k} highest scores (ties: lower index), ascending. */
    public static int[] topK(double[] s, int k) {
        k = clamp(k, 0, s.length);
        Integer[] o = IntStream.range(0, s.length).boxed().toArray(Integer[]::new);
        Arrays.sort(o, (x, y) -> s[x] != s[y] ? Double.compare(s[y], s[x]) : Integer.compare(x, y));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = o[i];
        }
        Arrays.sort(out);
        return out;
    }

    /** SEG_FIRST quotas: {@code max(1, floor(k * area_i / total area))}, capped at each instance's area. */
    public static int[] quotas(int[] areas, int k) {
        long total = Arrays.stream(areas).asLongStream().sum();
        int[] q = new int[areas.length];
        for (int i = 0; i < areas.length; i++) {
            q[i] = areas[i] == 0 ? 0 : Math.min(areas[i], (int) Math.max(1, (long) k * areas[i] / total));
        }
        return q;
    }

    /**
     * SEG_FIRST (spec 4.1 with our completion): each instance (ascending token list) gets its quota of evenly
     * spaced members; shared tokens count once; a shortfall is filled evenly from tokens outside every
     * instance (background first, then the rest); an excess is removed one pick at a time from the largest
     * instance that still has more than one pick (then from the smallest instances). No instances: UNIFORM.
     */
    public static int[] segFirst(List<int[]> instances, int n, int k) {
        k = clamp(k, 0, n);
        if (instances.isEmpty()) {
            return uniform(n, k);
        }
        int[] areas = instances.stream().mapToInt(a -> a.length).toArray();
        int[] q = quotas(areas, k);
        boolean[] chosen = new boolean[n];
        List<List<Integer>> picks = new ArrayList<>();
        for (int i = 0; i < instances.size(); i++) {
            int[] members = instances.get(i);
            List<Integer> mine = new ArrayList<>();
            for (int t = 0; t < q[i]; t++) {
                int v = members[(int) ((long) t * members.length / q[i])];
                if (!chosen[v]) {
                    chosen[v] = true;
                    mine.add(v);
                }
            }
            picks.add(mine);
        }
        int count = picks.stream().mapToInt(List::size).sum();
        Integer[] bySize = IntStream.range(0, instances.size()).boxed().toArray(Integer[]::new);
        Arrays.sort(bySize, Comparator.<Integer>comparingInt(i -> -areas[i]).thenComparingInt(i -> i));
        while (count > k) {
            int from = -1;
            for (int i : bySize) {
                if (picks.get(i).size() > 1) {
                    from = i;
                    break;
                }
            }
            if (from < 0) {
                for (int t = bySize.length - 1; t >= 0; t--) {
                    if (!picks.get(bySize[t]).isEmpty()) {
                        from = bySize[t];
                        break;
                    }
                }
            }
            List<Integer> l = picks.get(from);
            chosen[l.remove(l.size() - 1)] = false;
            count--;
        }
        if (count < k) {
            boolean[] inInstance = new boolean[n];
            for (int[] members : instances) {
                for (int v : members) {
                    inInstance[v] = true;
                }
            }
            int[] background = IntStream.range(0, n).filter(v -> !chosen[v] && !inInstance[v]).toArray();
            count = fill(background, chosen, count, k);
            int[] rest = IntStream.range(0, n).filter(v -> !chosen[v]).toArray();
            fill(rest, chosen, count, k);
        }
        return IntStream.range(0, n).filter(v -> chosen[v]).toArray();
    }

    private static int fill(int[] pool, boolean[] chosen, int count, int k) {
        int need = Math.min(k - count, pool.length);
        for (int t = 0; t < need; t++) {
            chosen[pool[(int) ((long) t * pool.length / need)]] = true;
        }
        return count + need;
    }

    /**
     * The built-in instance masks for SEG_FIRST: regions of the patch grid whose neighbouring features are
     * alike. The {@code join} share of 4-neighbour grid edges with the highest feature cosine (ties: lower
     * edge index) are joined; the largest region (ties: the one with the lowest token) is background; every
     * other region of at least two tokens is an instance. Returns ascending token lists.
     */
    public static List<int[]> featureRegions(float[][] x, int rows, int cols, double join) {
        int n = rows * cols;
        List<int[]> edges = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int v = r * cols + c;
                if (c + 1 < cols) {
                    edges.add(new int[] {v, v + 1});
                }
                if (r + 1 < rows) {
                    edges.add(new int[] {v, v + cols});
                }
            }
        }
        double[] sim = new double[edges.size()];
        for (int e = 0; e < sim.length; e++) {
            sim[e] = CatpMath.cos(x[edges.get(e)[0]], x[edges.get(e)[1]]);
        }
        Integer[] order = IntStream.range(0, sim.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, (p, q) -> sim[p] != sim[q] ? Double.compare(sim[q], sim[p]) : Integer.compare(p, q));
        int[] parent = IntStream.range(0, n).toArray();
        int joined = (int) Math.round(join * sim.length);
        for (int t = 0; t < joined; t++) {
            int[] e = edges.get(order[t]);
            int ra = find(parent, e[0]);
            int rb = find(parent, e[1]);
            if (ra != rb) {
                parent[Math.max(ra, rb)] = Math.min(ra, rb);
            }
        }
        List<List<Integer>> regions = new ArrayList<>();
        int[] regionOf = new int[n];
        Arrays.fill(regionOf, -1);
        for (int v = 0; v < n; v++) {
            int root = find(parent, v);
            if (regionOf[root] < 0) {
                regionOf[root] = regions.size();
                regions.add(new ArrayList<>());
            }
            regions.get(regionOf[root]).add(v);
        }
        int background = 0;
        for (int i = 1; i < regions.size(); i++) {
            if (regions.get(i).size() > regions.get(background).size()) {
                background = i;
            }
        }
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < regions.size(); i++) {
            if (i != background && regions.get(i).size() >= 2) {
                out.add(regions.get(i).stream().mapToInt(Integer::intValue).toArray());
            }
        }
        return out;
    }

    private static int find(int[] parent, int v) {
        while (parent[v] != v) {
            parent[v] = parent[parent[v]];
            v = parent[v];
        }
        return v;
    }

    /**
     * For RESIDUAL_BROADCAST: the representative of each token, the one with the highest cosine similarity
     * (ties: lower index); {@code sim[i][j]} is the similarity of tokens i and j, {@code reps} ascending.
     * Representatives map to themselves.
     */
    public static int[] nearestRepresentative(double[][] sim, int[] reps) {
        int n = sim.length;
        int[] out = new int[n];
        boolean[] isRep = new boolean[n];
        for (int r : reps) {
            isRep[r] = true;
        }
        for (int i = 0; i < n; i++) {
            if (isRep[i]) {
                out[i] = i;
                continue;
            }
            int best = -1;
            for (int r : reps) {
                if (best < 0 || sim[i][r] > sim[i][best]) {
                    best = r;
                }
            }
            out[i] = best;
        }
        return out;
    }
}
