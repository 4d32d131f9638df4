package io.tokensieve.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.config.LlamaTextConfig;
import io.tokensieve.core.model.LlamaDecoderLayer;
import io.tokensieve.core.model.LlamaRotaryEmbedding;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.datasets.shapes.PatchLabels;
import io.tokensieve.datasets.shapes.Scene2d;
import io.tokensieve.datasets.shapes.SceneObject;
import io.tokensieve.datasets.shapes.ShapesBench;
import io.tokensieve.datasets.shapes.VqaExample;

import java.util.ArrayList;
import java.util.List;

/**
 * Whether a decoder layer's keys let any query find an object by its colour, by its shape or by its size: for each
 * layer, key-value head and attribute value ("triangle"), the query that puts the most attention on the patches of
 * the objects with that value is fit by gradient ascent on the first half of the held-out images, and the attention
 * mass it puts there is measured on the second half. The scores are those of the question's answer position, keys
 * rotated by their distance from it (rotary embedding), softmax over the image's visual tokens only (text tokens
 * left out, so the mass is an upper bound of what a head could reach). The same without the rotation shows what
 * the rotary embedding costs: a pair of key dimensions that turns fast with the position scrambles content across
 * the image, so only slowly turning pairs can carry a lookup by content.
 *
 * <p>A head that answers "What colour is the triangle?" must find the triangle this way; when the best query finds
 * colours but not shapes in a layer's keys, the failure is in the keys, not in the queries the model forms.
 */
public final class LookupProbe {
    /** Attribute kinds looked up: an object's colour, shape and size. */
    static final String[] KINDS = {"colour", "shape", "size"};
    /** Largest query norm, with keys scaled to unit root-mean-square norm (a guess: logits within about +-10). */
    static final double QUERY_NORM = 10;
    /** Gradient-ascent steps (Adam) per fitted query. */
    static final int STEPS = 150;
    private static final double LR = 0.3;

    /**
     * One key-value head of one layer.
     *
     * @param rotated held-out mass of the best query per kind ({@link #KINDS}), rotary embedding applied
     * @param plain the same with the keys unrotated
     * @param share the mean share of the visual tokens the targets cover, per kind (what uniform attention gets)
     * @param states the same from the layer's normalised input states, unrotated: what any key projection could
     *               select (the same for every key-value head of a layer)
     */
    public record Row(int layer, int kvHead, double[] rotated, double[] plain, double[] share, double[] states) {}

    private LookupProbe() {}

    /** Measures {@code images} held-out images of {@link TokenProbe#SEED} (at least two: half fit, half measured). */
    public static List<Row> run(VlmModel vm, int images) {
        if (images < 2) {
            throw new IllegalArgumentException("the lookup probe needs at least two images, got " + images);
        }
        LlamaTextConfig t = vm.config().text();
        int per = vm.config().vision().numPatches();
        int grid = (int) Math.round(Math.sqrt(per));
        int d = (int) t.hiddenSize();
        List<int[][]> labels = new ArrayList<>(); // per image: [kind][patch] value + 1, 0 for background
        int[] distance = new int[images]; // answer position minus the first visual slot
        for (int i = 0; i < images; i++) {
            VqaExample v = ShapesBench.vqa(TokenProbe.SEED, i * ShapesBench.VQA_QUESTIONS_PER_IMAGE);
            labels.add(labels(v.scene(), grid));
            long[] prompt = vm.promptIdsForContent(v.prompt());
            int image = indexOf(prompt, vm.config().imageTokenIndex());
            distance[i] = (prompt.length - 1 + per - 1) - image;
        }
        float[][][] stages = PositionProbe.decoderStates(vm, images); // [image][stage][N * D]
        List<LlamaDecoderLayer> layers = vm.model().languageModel().layers();
        int hd = layers.get(0).selfAttn().headDim();
        LlamaRotaryEmbedding rotary = new LlamaRotaryEmbedding(hd, t.ropeTheta());
        float[] invFreq = rotary.inverseFrequencies();
        List<Row> rows = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            LlamaDecoderLayer layer = layers.get(l);
            int kv = layer.selfAttn().kvHeads();
            float[][][] keys = new float[kv][images][]; // [kv head][image][N * hd], unrotated
            float[][] normed = new float[images][]; // [image][N * D], the layer's normalised input
            try (NDManager m = NDManager.newBaseManager(vm.device())) {
                LlamaRotaryEmbedding.Rope none = rotary.forPositions(m, new long[1][per]); // position 0: no rotation
                for (int i = 0; i < images; i++) {
                    NDArray h = m.create(stages[i][l], new Shape(1, per, d)); // [1, N, D], the layer's input
                    NDArray x = layer.inputLayernorm().forward(h); // [1, N, D]
                    normed[i] = x.toFloatArray();
                    float[] k = layer.selfAttn().keys(x, none).toFloatArray(); // [Hkv * N * hd]
                    for (int g = 0; g < kv; g++) {
                        keys[g][i] = java.util.Arrays.copyOfRange(k, g * per * hd, (g + 1) * per * hd);
                    }
                }
            }
            float[][] states = scaled(normed, d);
            double[] fromStates = new double[KINDS.length];
            for (int kind = 0; kind < KINDS.length; kind++) {
                fromStates[kind] = measure(states, labels, kind, d)[0];
            }
            for (int g = 0; g < kv; g++) {
                float[][] plain = scaled(keys[g], hd);
                float[][] rotated = new float[images][];
                for (int i = 0; i < images; i++) {
                    rotated[i] = rotate(plain[i], hd, invFreq, -distance[i]);
                }
                double[][] out = new double[3][KINDS.length];
                for (int kind = 0; kind < KINDS.length; kind++) {
                    double[] r = measure(rotated, labels, kind, hd);
                    out[0][kind] = r[0];
                    out[1][kind] = measure(plain, labels, kind, hd)[0];
                    out[2][kind] = r[1];
                }
                rows.add(new Row(l + 1, g, out[0], out[1], out[2], fromStates));
            }
        }
        return rows;
    }

    /** Per patch: the owning object's colour, shape and size, each its ordinal + 1; 0 for background. */
    static int[][] labels(Scene2d scene, int grid) {
        int[] owner = PatchLabels.objects(scene, grid);
        int[][] out = new int[KINDS.length][owner.length];
        for (int p = 0; p < owner.length; p++) {
            if (owner[p] >= 0) {
                SceneObject o = scene.object(owner[p]);
                out[0][p] = o.colour().ordinal() + 1;
                out[1][p] = o.shape().ordinal() + 1;
                out[2][p] = o.size().ordinal() + 1;
            }
        }
        return out;
    }

    /**
     * For one kind: per value present, the best query fit on the first half of the images (rounded up) that hold it,
     * and its mean mass on the second half's; returns {mean over values of that mass, mean target share}, in percent.
     */
    static double[] measure(float[][] keys, List<int[][]> labels, int kind, int hd) {
        int images = keys.length;
        int fit = (images + 1) / 2;
        int values = 0;
        for (int[][] l : labels) {
            for (int v : l[kind]) {
                values = Math.max(values, v);
            }
        }
        double massSum = 0;
        double shareSum = 0;
        int counted = 0;
        for (int v = 1; v <= values; v++) {
            List<Integer> train = new ArrayList<>();
            List<Integer> test = new ArrayList<>();
            for (int i = 0; i < images; i++) {
                if (contains(labels.get(i)[kind], v)) {
                    (i < fit ? train : test).add(i);
                }
            }
            if (train.isEmpty() || test.isEmpty()) {
                continue;
            }
            double[] q = fitQuery(keys, labels, kind, v, train, hd);
            double mass = 0;
            double share = 0;
            for (int i : test) {
                mass += targetMass(q, keys[i], labels.get(i)[kind], v, hd, null);
                share += (double) count(labels.get(i)[kind], v) / labels.get(i)[kind].length;
            }
            massSum += mass / test.size();
            shareSum += share / test.size();
            counted++;
        }
        return counted == 0 ? new double[] {Double.NaN, Double.NaN}
                : new double[] {100 * massSum / counted, 100 * shareSum / counted};
    }

    /** The query maximising the mean log attention mass on value {@code v}'s patches (Adam, norm at most {@link #QUERY_NORM}). */
    static double[] fitQuery(float[][] keys, List<int[][]> labels, int kind, int v, List<Integer> images, int hd) {
        double[] q = new double[hd];
        double[] m1 = new double[hd];
        double[] m2 = new double[hd];
        double[] grad = new double[hd];
        for (int step = 1; step <= STEPS; step++) {
            java.util.Arrays.fill(grad, 0);
            for (int i : images) {
                targetMass(q, keys[i], labels.get(i)[kind], v, hd, grad);
            }
            double norm = 0;
            for (int c = 0; c < hd; c++) {
                double g = grad[c] / images.size();
                m1[c] = 0.9 * m1[c] + 0.1 * g;
                m2[c] = 0.999 * m2[c] + 0.001 * g * g;
                double mh = m1[c] / (1 - Math.pow(0.9, step));
                double vh = m2[c] / (1 - Math.pow(0.999, step));
                q[c] += LR * mh / (Math.sqrt(vh) + 1e-8);
                norm += q[c] * q[c];
            }
            norm = Math.sqrt(norm);
            if (norm > QUERY_NORM) {
                for (int c = 0; c < hd; c++) {
                    q[c] *= QUERY_NORM / norm;
                }
            }
        }
        return q;
    }

    /**
     * Attention mass of query {@code q} on the patches labelled {@code v} ({@code keys} [N * hd], softmax over the N
     * patches); adds the gradient of its log with respect to q to {@code grad} when that is not null.
     */
    static double targetMass(double[] q, float[] keys, int[] label, int v, int hd, double[] grad) {
        int n = label.length;
        double[] s = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            double dot = 0;
            for (int c = 0; c < hd; c++) {
                dot += q[c] * keys[j * hd + c];
            }
            s[j] = dot;
            max = Math.max(max, dot);
        }
        double all = 0;
        double on = 0;
        for (int j = 0; j < n; j++) {
            s[j] = Math.exp(s[j] - max);
            all += s[j];
            on += label[j] == v ? s[j] : 0;
        }
        if (grad != null && on > 0) {
            // d log(on / all) / dq = E_target[k] - E_all[k]
            for (int j = 0; j < n; j++) {
                double w = (label[j] == v ? s[j] / on : 0) - s[j] / all;
                for (int c = 0; c < hd; c++) {
                    grad[c] += w * keys[j * hd + c];
                }
            }
        }
        return on / all;
    }

    /** Keys divided by their root-mean-square norm over all images, so one query-norm budget fits every layer. */
    static float[][] scaled(float[][] keys, int hd) {
        double sq = 0;
        long n = 0;
        for (float[] k : keys) {
            for (float x : k) {
                sq += x * x;
            }
            n += k.length / hd;
        }
        float f = (float) (1 / Math.sqrt(sq / n));
        float[][] out = new float[keys.length][];
        for (int i = 0; i < keys.length; i++) {
            out[i] = new float[keys[i].length];
            for (int x = 0; x < keys[i].length; x++) {
                out[i][x] = keys[i][x] * f;
            }
        }
        return out;
    }

    /**
     * Each patch's key rotated as the rotary embedding turns it relative to the query, patch j lying
     * {@code offset + j} positions from the query's position (HF's rotate_half pairing: dimension c with c + hd/2).
     */
    static float[] rotate(float[] keys, int hd, float[] invFreq, int offset) {
        int half = hd / 2;
        int n = keys.length / hd;
        float[] out = new float[keys.length];
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < half; c++) {
                double angle = (double) (offset + j) * invFreq[c];
                double cos = Math.cos(angle);
                double sin = Math.sin(angle);
                float x1 = keys[j * hd + c];
                float x2 = keys[j * hd + c + half];
                out[j * hd + c] = (float) (x1 * cos - x2 * sin);
                out[j * hd + c + half] = (float) (x2 * cos + x1 * sin);
            }
        }
        return out;
    }

    /** The probe as a Markdown table: per layer and key-value head, each kind's held-out mass, rotated and plain. */
    public static String table(List<Row> rows, int images) {
        int fit = (images + 1) / 2;
        StringBuilder b = new StringBuilder(String.format("Lookup by content in the keys: attention mass of the best "
                + "query on the patches of the objects of one colour, shape or size (fit on the %d first held-out "
                + "images, measured on the other %d; softmax over the visual tokens; in brackets without the rotary "
                + "embedding)%n%n", fit, images - fit));
        b.append("| layer | kv head | colour | shape | size |\n|---|---|---|---|---|\n");
        for (Row r : rows) {
            if (r.kvHead() == 0) {
                b.append("| ").append(r.layer()).append(" | input states (any key)");
                for (int k = 0; k < KINDS.length; k++) {
                    b.append(String.format(" | %.1f%%", r.states()[k]));
                }
                b.append(" |\n");
            }
            b.append("| ").append(r.layer()).append(" | ").append(r.kvHead());
            for (int k = 0; k < KINDS.length; k++) {
                b.append(String.format(" | %.1f%% (%.1f%%)", r.rotated()[k], r.plain()[k]));
            }
            b.append(" |\n");
        }
        if (!rows.isEmpty()) {
            double[] s = rows.get(0).share();
            b.append(String.format("%nTargets cover %.1f%% (colour), %.1f%% (shape) and %.1f%% (size) of the visual "
                    + "tokens on average: what uniform attention puts there.%n", s[0], s[1], s[2]));
        }
        return b.toString();
    }

    private static boolean contains(int[] label, int v) {
        return count(label, v) > 0;
    }

    private static int count(int[] label, int v) {
        int c = 0;
        for (int x : label) {
            c += x == v ? 1 : 0;
        }
        return c;
    }

    private static int indexOf(long[] ids, long id) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == id) {
                return i;
            }
        }
        throw new IllegalStateException("the prompt holds no image token " + id);
    }
}
