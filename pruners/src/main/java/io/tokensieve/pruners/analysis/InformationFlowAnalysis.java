package io.tokensieve.pruners.analysis;

import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.SequenceLayout;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * AdaToken-3D's offline information-flow profile (spec section 5.1), over unpruned prefills. Per layer:
 * head-mean attention average-pooled in {@code window x window} blocks (stride = window); intra-spatial
 * flow {@code I = 100 * sum of blocks with spatial query and earlier spatial key}; cross-modal flow
 * {@code X = 100 * (kappa * sum(spatial query, prefix key) + theta * sum(text query, spatial key after the
 * first spatial block))}, in the transposed reading (query = row, the only one that is not zero under causal
 * attention; {@code literal} reproduces the reference's indexing, which reads the upper triangle). Then the
 * running sum {@code M_l = M_{l-1} + 0.73 I_l} ({@code M_0 = I_0}), {@code C_l = 0.4 I_l + 0.3 X_l + 0.3 M_l}
 * for {@code l = 1..L-1}, min-max normalised per sample, averaged over samples and scaled to percent, and
 * fitted with {@link DecayFit} ({@code f(1) = 100}, {@code f(L) = 10}). The schedule keeps
 * {@code clamp(f(b) / 100, rhoMin, 1)} (non-increasing) from each boundary b.
 *
 * <p>Spatial tokens are those of multi-view images, or every visual token when a request has none; the
 * spatial segment runs from the first to the last of them (on several views it includes the few text tokens
 * between images), the prefix is everything before it and the text everything after it.
 */
public final class InformationFlowAnalysis {
    /** Parameters of the profile (the reference's values in {@link #DEFAULTS}). */
    public record Settings(int window, double kappa, double theta, double decay, double alpha, double beta,
                           double gamma, boolean literal, boolean diagonalBlocks) {}

    public static final Settings DEFAULTS = new Settings(10, 0.7, 0.3, 0.73, 0.4, 0.3, 0.3, false, false);

    private final int layers;
    private final Settings settings;
    private final double[] ySum;
    private final double[] intraSum;
    private final double[] crossSum;
    private int samples;

    public InformationFlowAnalysis(int layers, Settings settings) {
        if (layers < 2) {
            throw new IllegalArgumentException("the information-flow profile needs at least 2 decoder layers");
        }
        this.layers = layers;
        this.settings = settings;
        this.ySum = new double[layers - 1];
        this.intraSum = new double[layers];
        this.crossSum = new double[layers];
    }

    /** Adds one recorded prefill (skipped without visual tokens). */
    public void add(AttentionRecorder.Prefill p) {
        int[] span = spatialSpan(p.layout(), p.images());
        if (span == null) {
            return;
        }
        double[] intra = new double[layers];
        double[] cross = new double[layers];
        for (int l = 0; l < layers; l++) {
            double[][] pooled = pool(p.attention()[l], settings.window());
            double[] f = flow(pooled, span[0] / settings.window(), span[1] / settings.window(), settings);
            intra[l] = f[0];
            cross[l] = f[1];
            intraSum[l] += f[0];
            crossSum[l] += f[1];
        }
        double[] y = minMax(mix(intra, cross, settings));
        for (int i = 0; i < y.length; i++) {
            ySum[i] += y[i];
        }
        samples++;
    }

    public int samples() {
        return samples;
    }

    /** The mean normalised curve in percent at x = 1..L-1. */
    public double[] curve() {
        return Arrays.stream(ySum).map(v -> samples == 0 ? 0 : 100 * v / samples).toArray();
    }

    /** [first spatial slot, last spatial slot + 1) in the unpruned layout, or null without visual tokens. */
    static int[] spatialSpan(SequenceLayout seq, List<ImageSpan> images) {
        boolean anyMultiView = images.stream().anyMatch(ImageSpan::multiView);
        int first = -1;
        int last = -1;
        for (int slot : seq.visualSlots()) {
            int v = seq.visualIndex(slot);
            boolean spatial = !anyMultiView || images.stream().anyMatch(s -> s.multiView() && s.contains(v));
            if (spatial) {
                if (first < 0) {
                    first = slot;
                }
                last = slot;
            }
        }
        return first < 0 ? null : new int[] {first, last + 1};
    }

    /** Average pooling with a {@code w x w} window and stride w: {@code [n][n] -> [n/w][n/w]}. */
    static double[][] pool(float[][] a, int w) {
        int t = a.length / w;
        double[][] p = new double[t][t];
        for (int i = 0; i < t * w; i++) {
            for (int j = 0; j < t * w; j++) {
                p[i / w][j / w] += a[i][j];
            }
        }
        for (double[] row : p) {
            for (int j = 0; j < t; j++) {
                row[j] /= (double) w * w;
            }
        }
        return p;
    }

    /**
     * {I, X} of one pooled layer with spatial blocks {@code [s2, e2)}; rows are query blocks, columns key
     * blocks (transposed first in literal mode).
     */
    static double[] flow(double[][] pooled, int s2, int e2, Settings st) {
        double[][] p = st.literal() ? transpose(pooled) : pooled;
        int t = p.length;
        double intra = 0;
        for (int q = s2; q < Math.min(e2, t); q++) {
            for (int k = s2; k < q || (st.diagonalBlocks() && k == q); k++) {
                intra += p[q][k];
            }
        }
        double spatialReadsPrefix = 0;
        for (int q = s2; q < Math.min(e2, t); q++) {
            for (int k = 0; k < Math.min(s2, t); k++) {
                spatialReadsPrefix += p[q][k];
            }
        }
        double textReadsSpatial = 0;
        for (int q = e2; q < t; q++) {
            for (int k = s2 + 1; k < Math.min(e2, t); k++) {
                textReadsSpatial += p[q][k];
            }
        }
        return new double[] {100 * intra, 100 * (st.kappa() * spatialReadsPrefix + st.theta() * textReadsSpatial)};
    }

    /** {@code C_l} for {@code l = 1..L-1} from the per-layer flows. */
    static double[] mix(double[] intra, double[] cross, Settings st) {
        double m = intra[0];
        double[] c = new double[intra.length - 1];
        for (int l = 1; l < intra.length; l++) {
            m += st.decay() * intra[l];
            c[l - 1] = st.alpha() * intra[l] + st.beta() * cross[l] + st.gamma() * m;
        }
        return c;
    }

    /** Min-max normalisation to [0, 1] (all zeros for a constant curve). */
    static double[] minMax(double[] c) {
        double lo = Arrays.stream(c).min().orElse(0);
        double hi = Arrays.stream(c).max().orElse(0);
        return Arrays.stream(c).map(v -> hi > lo ? (v - lo) / (hi - lo) : 0).toArray();
    }

    private static double[][] transpose(double[][] p) {
        double[][] t = new double[p.length][p.length];
        for (int i = 0; i < p.length; i++) {
            for (int j = 0; j < p.length; j++) {
                t[j][i] = p[i][j];
            }
        }
        return t;
    }

    /** Keep ratios at the boundaries from the fitted curve: {@code clamp(f(b) / 100, rhoMin, 1)}, non-increasing. */
    public static double[] ratios(DecayFit.Curve f, int[] boundaries, double rhoMin) {
        double[] r = new double[boundaries.length];
        for (int k = 0; k < r.length; k++) {
            r[k] = Math.max(rhoMin, Math.min(1, f.at(boundaries[k]) / 100));
            if (k > 0) {
                r[k] = Math.min(r[k], r[k - 1]);
            }
        }
        return r;
    }

    /** Fits the curve ({@code f(1) = 100}, {@code f(L) = end}) and returns the schedule file's content. */
    public Map<String, Object> toSchedule(int[] boundaries, double rhoMin, double end, Map<String, Object> provenance) {
        DecayFit.Curve f = DecayFit.fit(curve(), 100, layers, end);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", "adatoken3d");
        m.putAll(provenance);
        m.put("layers", layers);
        m.put("samples", samples);
        m.put("boundaries", boundaries);
        m.put("ratios", ratios(f, boundaries, rhoMin));
        m.put("boundaries_meaning", "stage starts: steps before these 0-indexed layers; ratios of the spatial tokens "
                + "kept from each on, f(b)/100 clamped to [rho_min, 1]");
        m.put("rho_min", rhoMin);
        m.put("curve", curve());
        Map<String, Object> fit = new LinkedHashMap<>();
        fit.put("formula", "f(x) = A*exp(-B*(x-C)) + D, x = 1.." + (layers - 1) + ", f(1) = 100, f(" + layers + ") = "
                + end);
        fit.put("A", f.a());
        fit.put("B", f.b());
        fit.put("C", f.c());
        fit.put("D", f.d());
        fit.put("objective", f.objective());
        fit.put("values", IntStream.rangeClosed(1, layers).mapToDouble(f::at).toArray());
        m.put("fit", fit);
        m.put("intra_flow", Arrays.stream(intraSum).map(v -> samples == 0 ? 0 : v / samples).toArray());
        m.put("cross_flow", Arrays.stream(crossSum).map(v -> samples == 0 ? 0 : v / samples).toArray());
        m.put("window", settings.window());
        return m;
    }
}
