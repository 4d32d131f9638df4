package io.tokensieve.pruners.analysis;

import io.tokensieve.core.prune.SequenceLayout;
import io.tokensieve.pruners.AdaptInferPruner;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdaptInfer's offline discovery of its pruning layers (spec section 3.5), over unpruned prefills: per layer
 * the text-to-vision attention mass of every visual token (summed over heads and over the text block, the
 * text after the first visual token); the top share of tokens by total mass; for each, the cumulative curve
 * over layers and its one change point by an exhaustive least-squares split (segments of at least 2 layers);
 * split {@code s} records layer {@code s - 1}. The histogram of recorded layers over all tokens and samples
 * gives the inflection layers, the most frequent ones (0-indexed layers whose output a stage prunes).
 *
 * <p>Accumulate with {@link #add}, then read {@link #histogram()}, {@link #inflectionLayers(int)} and
 * {@link #meanMassPerLayer()}. Not thread-safe.
 */
public final class InflectionAnalysis {
    /** Minimum segment length of the split (the change-point library's default in the reference). */
    public static final int MIN_SEGMENT = 2;

    private final int layers;
    private final double topShare;
    private final int[] histogram;
    private final double[] massSum;
    private int samples;
    private int tokens;

    /**
     * @param layers decoder layers of the model
     * @param topShare share of each sample's visual tokens whose curves are split (the reference: 58 of 576)
     */
    public InflectionAnalysis(int layers, double topShare) {
        this.layers = layers;
        this.topShare = topShare;
        this.histogram = new int[layers];
        this.massSum = new double[layers];
    }

    /** Adds one recorded prefill (skipped when it has no visual tokens or no text after them). */
    public void add(AttentionRecorder.Prefill p) {
        double[][] mass = textToVisionMass(p);
        if (mass.length == 0 || mass[0].length == 0) {
            return;
        }
        for (int l = 0; l < layers; l++) {
            massSum[l] += Arrays.stream(mass[l]).sum();
        }
        int[] recorded = changeLayers(mass, topShare);
        for (int l : recorded) {
            histogram[l]++;
        }
        samples++;
        tokens += recorded.length;
    }

    public int samples() {
        return samples;
    }

    /** Tokens whose change points were recorded, over all samples. */
    public int tokens() {
        return tokens;
    }

    public int[] histogram() {
        return histogram.clone();
    }

    /** Mean over samples of the text-to-vision attention mass of each layer (summed over visual tokens). */
    public double[] meanMassPerLayer() {
        return Arrays.stream(massSum).map(m -> samples == 0 ? 0 : m / samples).toArray();
    }

    /** The {@code k} most frequent recorded layers (ties: the lower layer), ascending; fewer if fewer occur. */
    public int[] inflectionLayers(int k) {
        return topLayers(histogram, k);
    }

    /**
     * Per layer and visual token (in original index order) the attention the text block pays to it, summed
     * over heads (the recorded head mean times the head count): {@code [L][V]}.
     */
    static double[][] textToVisionMass(AttentionRecorder.Prefill p) {
        SequenceLayout seq = p.layout();
        int[] vis = seq.visualSlots();
        int[] text = AdaptInferPruner.textBlock(seq);
        if (vis.length == 0 || text.length == 0) {
            return new double[0][0];
        }
        double[][] out = new double[p.layers()][vis.length];
        for (int l = 0; l < p.layers(); l++) {
            for (int t : text) {
                float[] row = p.attention()[l][t];
                for (int v = 0; v < vis.length; v++) {
                    out[l][v] += row[vis[v]];
                }
            }
            for (int v = 0; v < vis.length; v++) {
                out[l][v] *= p.heads();
            }
        }
        return out;
    }

    /** The recorded layer ({@code s - 1}) of each of the top tokens by total mass; tokens without a split are skipped. */
    static int[] changeLayers(double[][] mass, double topShare) {
        int n = mass[0].length;
        double[] total = new double[n];
        for (double[] layer : mass) {
            for (int v = 0; v < n; v++) {
                total[v] += layer[v];
            }
        }
        int top = Math.max(1, Math.min(n, (int) Math.round(topShare * n)));
        Integer[] order = new Integer[n];
        for (int v = 0; v < n; v++) {
            order[v] = v;
        }
        Arrays.sort(order, (a, b) -> total[a] != total[b] ? Double.compare(total[b], total[a]) : Integer.compare(a, b));
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < top; i++) {
            int v = order[i];
            double[] c = new double[mass.length];
            double run = 0;
            for (int l = 0; l < mass.length; l++) {
                run += mass[l][v];
                c[l] = run;
            }
            int s = changePoint(c, MIN_SEGMENT);
            if (s > 0) {
                out.add(s - 1);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The split {@code s} minimising {@code SSE(c[0:s]) + SSE(c[s:n])} with both segments at least
     * {@code minSegment} long (ties: the smaller s), or -1 if the curve is too short to split.
     */
    public static int changePoint(double[] c, int minSegment) {
        int n = c.length;
        double[] prefix = new double[n + 1];
        double[] prefixSq = new double[n + 1];
        for (int i = 0; i < n; i++) {
            prefix[i + 1] = prefix[i] + c[i];
            prefixSq[i + 1] = prefixSq[i] + c[i] * c[i];
        }
        int best = -1;
        double bestCost = Double.POSITIVE_INFINITY;
        for (int s = minSegment; s <= n - minSegment; s++) {
            double cost = sse(prefix, prefixSq, 0, s) + sse(prefix, prefixSq, s, n);
            if (best < 0 || cost < bestCost - 1e-12 * Math.max(1, Math.abs(bestCost))) {
                bestCost = cost;
                best = s;
            }
        }
        return best;
    }

    private static double sse(double[] prefix, double[] prefixSq, int from, int to) {
        double sum = prefix[to] - prefix[from];
        double sq = prefixSq[to] - prefixSq[from];
        return Math.max(0, sq - sum * sum / (to - from));
    }

    /** The {@code k} most frequent non-empty bins (ties: the lower bin), ascending. */
    public static int[] topLayers(int[] histogram, int k) {
        Integer[] order = new Integer[histogram.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> histogram[a] != histogram[b] ? Integer.compare(histogram[b], histogram[a])
                : Integer.compare(a, b));
        int[] out = Arrays.stream(order).limit(k).filter(i -> histogram[i] > 0).mapToInt(Integer::intValue).toArray();
        Arrays.sort(out);
        return out;
    }

    /** The schedule file's content (stage layers and the analysis behind them). */
    public Map<String, Object> toSchedule(int stages, Map<String, Object> provenance) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", "adaptinfer");
        m.putAll(provenance);
        m.put("layers", layers);
        m.put("samples", samples);
        m.put("stage_layers", inflectionLayers(stages));
        m.put("stage_layers_meaning", "0-indexed decoder layers whose output is pruned (steps before layer l+1)");
        m.put("top_share", topShare);
        m.put("tokens", tokens);
        m.put("histogram", histogram());
        m.put("mean_mass_per_layer", meanMassPerLayer());
        return m;
    }
}
