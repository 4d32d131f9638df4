package io.tokensieve.core;

import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.SafetensorsReader;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * An independent LLaVA forward pass in plain Java doubles (no DJL), written from the HF module
 * definitions, for checking the runtime stage by stage on tiny checkpoints. Unpruned, one image per
 * placeholder, no KV cache: it recomputes everything.
 */
public final class ReferenceLlava {
    private final LlavaConfig c;
    private final Map<String, double[]> w = new HashMap<>();

    public ReferenceLlava(Path dir) {
        this.c = LlavaConfig.load(dir);
        SafetensorsReader r = SafetensorsReader.openDir(dir);
        for (String k : r.tensors().keySet()) {
            float[] f = r.readFloats(k);
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            w.put(CheckpointKeys.canonical(k), d);
        }
    }

    private double[] p(String key) {
        double[] a = w.get(key);
        if (a == null) {
            throw new IllegalArgumentException("missing " + key);
        }
        return a;
    }

    // ---------------------------------------------------------------- vision

    /** Vision hidden state {@code index} of one image (CHW pixels): [1+N][Dv]. */
    public double[][] visionHidden(float[] chw, int index) {
        var v = c.vision();
        int dv = v.hiddenSize();
        int g = v.gridSize();
        int ps = v.patchSize();
        int size = v.imageSize();
        double[] conv = p(CheckpointKeys.patchEmbedding());
        double[] cls = p(CheckpointKeys.classEmbedding());
        double[] pos = p(CheckpointKeys.positionEmbedding());
        double[][] x = new double[g * g + 1][dv];
        for (int o = 0; o < dv; o++) {
            x[0][o] = cls[o] + pos[o];
        }
        for (int gy = 0; gy < g; gy++) {
            for (int gx = 0; gx < g; gx++) {
                int t = gy * g + gx + 1;
                for (int o = 0; o < dv; o++) {
                    double s = 0;
                    for (int ch = 0; ch < 3; ch++) {
                        for (int py = 0; py < ps; py++) {
                            for (int px = 0; px < ps; px++) {
                                double pix = chw[(ch * size + gy * ps + py) * size + gx * ps + px];
                                s += pix * conv[((o * 3 + ch) * ps + py) * ps + px];
                            }
                        }
                    }
                    x[t][o] = s + pos[t * dv + o];
                }
            }
        }
        x = layerNorm(x, CheckpointKeys.preLayrnorm("weight"), CheckpointKeys.preLayrnorm("bias"), v.layerNormEps());
        for (int l = 0; l < index; l++) {
            x = clipLayer(x, l);
        }
        return x;
    }

    private double[][] clipLayer(double[][] x, int l) {
        var v = c.vision();
        int n = x.length;
        int dv = v.hiddenSize();
        int h = v.numAttentionHeads();
        int hd = dv / h;
        double[][] xn = layerNorm(x, CheckpointKeys.visionLayer(l, "layer_norm1.weight"),
                CheckpointKeys.visionLayer(l, "layer_norm1.bias"), v.layerNormEps());
        double[][] q = linear(xn, CheckpointKeys.visionLayer(l, "self_attn.q_proj.weight"),
                CheckpointKeys.visionLayer(l, "self_attn.q_proj.bias"));
        double[][] k = linear(xn, CheckpointKeys.visionLayer(l, "self_attn.k_proj.weight"),
                CheckpointKeys.visionLayer(l, "self_attn.k_proj.bias"));
        double[][] val = linear(xn, CheckpointKeys.visionLayer(l, "self_attn.v_proj.weight"),
                CheckpointKeys.visionLayer(l, "self_attn.v_proj.bias"));
        double[][] att = new double[n][dv];
        double scale = 1 / Math.sqrt(hd);
        for (int head = 0; head < h; head++) {
            for (int i = 0; i < n; i++) {
                double[] s = new double[n];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    double d = 0;
                    for (int e = 0; e < hd; e++) {
                        d += q[i][head * hd + e] * k[j][head * hd + e];
                    }
                    s[j] = d * scale;
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int j = 0; j < n; j++) {
                    for (int e = 0; e < hd; e++) {
                        att[i][head * hd + e] += s[j] / sum * val[j][head * hd + e];
                    }
                }
            }
        }
        double[][] o = linear(att, CheckpointKeys.visionLayer(l, "self_attn.out_proj.weight"),
                CheckpointKeys.visionLayer(l, "self_attn.out_proj.bias"));
        double[][] r = add(x, o);
        double[][] rn = layerNorm(r, CheckpointKeys.visionLayer(l, "layer_norm2.weight"),
                CheckpointKeys.visionLayer(l, "layer_norm2.bias"), v.layerNormEps());
        double[][] f1 = linear(rn, CheckpointKeys.visionLayer(l, "mlp.fc1.weight"), CheckpointKeys.visionLayer(l, "mlp.fc1.bias"));
        for (double[] row : f1) {
            for (int i = 0; i < row.length; i++) {
                row[i] = row[i] / (1 + Math.exp(-1.702 * row[i])); // quick_gelu
            }
        }
        return add(r, linear(f1, CheckpointKeys.visionLayer(l, "mlp.fc2.weight"), CheckpointKeys.visionLayer(l, "mlp.fc2.bias")));
    }

    /** Visual features (feature layer, CLS dropped): [N][Dv]. */
    public double[][] features(float[] chw) {
        double[][] h = visionHidden(chw, c.resolvedFeatureLayers()[0]);
        double[][] f = new double[h.length - 1][];
        System.arraycopy(h, 1, f, 0, f.length);
        return f;
    }

    /** Projector output: [N][D]. */
    public double[][] project(double[][] features) {
        double[][] a = linear(features, CheckpointKeys.projector("linear_1.weight"), CheckpointKeys.projector("linear_1.bias"));
        for (double[] row : a) {
            for (int i = 0; i < row.length; i++) {
                row[i] = 0.5 * row[i] * (1 + erf(row[i] / Math.sqrt(2))); // exact GELU
            }
        }
        return linear(a, CheckpointKeys.projector("linear_2.weight"), CheckpointKeys.projector("linear_2.bias"));
    }

    // ---------------------------------------------------------------- language model

    /** Logits of the last position for prompt ids with image placeholders expanded to {@code images}. */
    public double[] lastLogits(long[] ids, float[][] images) {
        var t = c.text();
        int d = t.hiddenSize();
        java.util.List<double[]> seq = new java.util.ArrayList<>();
        double[] emb = p(CheckpointKeys.embedTokens());
        int img = 0;
        for (long id : ids) {
            if (id == c.imageTokenIndex()) {
                for (double[] row : project(features(images[img++]))) {
                    seq.add(row);
                }
            } else {
                double[] row = new double[d];
                System.arraycopy(emb, (int) id * d, row, 0, d);
                seq.add(row);
            }
        }
        double[][] x = seq.toArray(new double[0][]);
        for (int l = 0; l < t.numHiddenLayers(); l++) {
            x = llamaLayer(x, l);
        }
        double[][] last = {x[x.length - 1]};
        double[] normed = rmsNorm(last, CheckpointKeys.finalNorm())[0];
        String head = t.tieWordEmbeddings() ? CheckpointKeys.embedTokens() : CheckpointKeys.LM_HEAD;
        double[] wh = p(head);
        double[] logits = new double[t.vocabSize()];
        for (int v = 0; v < logits.length; v++) {
            double s = 0;
            for (int e = 0; e < d; e++) {
                s += normed[e] * wh[v * d + e];
            }
            logits[v] = s;
        }
        return logits;
    }

    private double[][] llamaLayer(double[][] x, int l) {
        var t = c.text();
        int n = x.length;
        int h = t.numAttentionHeads();
        int kvh = t.numKeyValueHeads();
        int hd = t.headDim();
        double[][] xn = rmsNorm(x, CheckpointKeys.textLayer(l, "input_layernorm.weight"));
        double[][] q = linear(xn, CheckpointKeys.textLayer(l, "self_attn.q_proj.weight"), null);
        double[][] k = linear(xn, CheckpointKeys.textLayer(l, "self_attn.k_proj.weight"), null);
        double[][] v = linear(xn, CheckpointKeys.textLayer(l, "self_attn.v_proj.weight"), null);
        for (int i = 0; i < n; i++) {
            rope(q[i], h, hd, i, t.ropeTheta());
            rope(k[i], kvh, hd, i, t.ropeTheta());
        }
        double[][] att = new double[n][h * hd];
        int group = h / kvh;
        for (int head = 0; head < h; head++) {
            int kv = head / group;
            for (int i = 0; i < n; i++) {
                double[] s = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    double dot = 0;
                    for (int e = 0; e < hd; e++) {
                        dot += q[i][head * hd + e] * k[j][kv * hd + e];
                    }
                    s[j] = dot / Math.sqrt(hd);
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j <= i; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int j = 0; j <= i; j++) {
                    for (int e = 0; e < hd; e++) {
                        att[i][head * hd + e] += s[j] / sum * v[j][kv * hd + e];
                    }
                }
            }
        }
        double[][] r = add(x, linear(att, CheckpointKeys.textLayer(l, "self_attn.o_proj.weight"), null));
        double[][] rn = rmsNorm(r, CheckpointKeys.textLayer(l, "post_attention_layernorm.weight"));
        double[][] gate = linear(rn, CheckpointKeys.textLayer(l, "mlp.gate_proj.weight"), null);
        double[][] up = linear(rn, CheckpointKeys.textLayer(l, "mlp.up_proj.weight"), null);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < gate[i].length; j++) {
                double g = gate[i][j];
                gate[i][j] = g / (1 + Math.exp(-g)) * up[i][j];
            }
        }
        return add(r, linear(gate, CheckpointKeys.textLayer(l, "mlp.down_proj.weight"), null));
    }

    private static void rope(double[] x, int heads, int hd, int pos, double theta) {
        int half = hd / 2;
        for (int head = 0; head < heads; head++) {
            int b = head * hd;
            double[] out = new double[hd];
            for (int i = 0; i < half; i++) {
                double freq = 1.0 / Math.pow(theta, (2.0 * i) / hd);
                double a = pos * freq;
                double cos = Math.cos(a);
                double sin = Math.sin(a);
                out[i] = x[b + i] * cos - x[b + i + half] * sin;
                out[i + half] = x[b + i + half] * cos + x[b + i] * sin;
            }
            System.arraycopy(out, 0, x, b, hd);
        }
    }

    // ---------------------------------------------------------------- helpers

    private double[][] linear(double[][] x, String wKey, String bKey) {
        double[] wt = p(wKey);
        double[] b = bKey == null ? null : p(bKey);
        int in = x[0].length;
        int out = wt.length / in;
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int e = 0; e < in; e++) {
                    s += x[i][e] * wt[o * in + e];
                }
                y[i][o] = s;
            }
        }
        return y;
    }

    private double[][] layerNorm(double[][] x, String wKey, String bKey, double eps) {
        double[] g = p(wKey);
        double[] b = p(bKey);
        double[][] y = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            double mean = 0;
            for (double v : x[i]) {
                mean += v;
            }
            mean /= x[i].length;
            double var = 0;
            for (double v : x[i]) {
                var += (v - mean) * (v - mean);
            }
            var /= x[i].length;
            y[i] = new double[x[i].length];
            for (int j = 0; j < x[i].length; j++) {
                y[i][j] = (x[i][j] - mean) / Math.sqrt(var + eps) * g[j] + b[j];
            }
        }
        return y;
    }

    private double[][] rmsNorm(double[][] x, String wKey) {
        double[] g = p(wKey);
        double eps = c.text().rmsNormEps();
        double[][] y = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            double ms = 0;
            for (double v : x[i]) {
                ms += v * v;
            }
            ms /= x[i].length;
            y[i] = new double[x[i].length];
            for (int j = 0; j < x[i].length; j++) {
                y[i][j] = x[i][j] / Math.sqrt(ms + eps) * g[j];
            }
        }
        return y;
    }

    private static double[][] add(double[][] a, double[][] b) {
        double[][] y = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            y[i] = new double[a[i].length];
            for (int j = 0; j < a[i].length; j++) {
                y[i][j] = a[i][j] + b[i][j];
            }
        }
        return y;
    }

    /**
     * erf: Maclaurin series below |x| = 3 (about 1e-12 absolute), Abramowitz-Stegun 7.1.26 above
     * (1.5e-7 absolute, where erf is within 3e-5 of 1 anyway).
     */
    static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 3) {
            double term = ax;
            double sum = ax;
            for (int n = 1; n < 100; n++) {
                term *= -ax * ax / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17) {
                    break;
                }
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            double t = 1 / (1 + 0.3275911 * ax);
            double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
            r = 1 - poly * Math.exp(-ax * ax);
        }
        return x < 0 ? -r : r;
    }

    public LlavaConfig config() {
        return c;
    }
}
