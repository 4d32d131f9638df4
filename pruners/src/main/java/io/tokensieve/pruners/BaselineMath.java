package io.tokensieve.pruners;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.PruneContext;

import java.util.Arrays;

/**
 * Small array helpers shared by the pre-LLM and early-LLM baselines (pool, VisionZip, DivPrune, DART,
 * PruMerge). Everything here is a pure function on Java arrays, so the methods' math can be tested
 * without a model; dot products accumulate in double.
 */
final class BaselineMath {
    private BaselineMath() {}

    /** A 2-D array [n, d] as rows. */
    static float[][] rows(NDArray a) {
        if (a.getShape().dimension() != 2) {
            throw new IllegalArgumentException("expected a 2-D array, got " + a.getShape());
        }
        int n = (int) a.getShape().get(0);
        int d = (int) a.getShape().get(1);
        float[] flat = a.toFloatArray();
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            out[i] = Arrays.copyOfRange(flat, i * d, (i + 1) * d);
        }
        return out;
    }

    /** Rows as a float32 array [n, d] in {@code m}. */
    static NDArray array(NDManager m, float[][] rows) {
        int d = rows.length == 0 ? 0 : rows[0].length;
        float[] flat = new float[rows.length * d];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * d, d);
        }
        return m.create(flat, new Shape(rows.length, d));
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    static double norm(float[] a) {
        return Math.sqrt(dot(a, a));
    }

    /** Cosine similarity; 0 when either vector is zero. */
    static double cosine(float[] a, float[] b) {
        double na = norm(a);
        double nb = norm(b);
        return na == 0 || nb == 0 ? 0 : dot(a, b) / (na * nb);
    }

    /** L2-normalised copy (a zero vector stays zero). */
    static float[] normalized(float[] a) {
        double n = norm(a);
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = n == 0 ? 0f : (float) (a[i] / n);
        }
        return out;
    }

    /** Position of {@code v} in the ascending array {@code sorted} (fails if absent). */
    static int indexIn(int[] sorted, int v) {
        int i = Arrays.binarySearch(sorted, v);
        if (i < 0) {
            throw new IllegalStateException("token " + v + " is not live");
        }
        return i;
    }

    /** The rows of {@code all} (ordered as {@code live}) that belong to {@code tokens}. */
    static float[][] select(float[][] all, int[] live, int[] tokens) {
        float[][] out = new float[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            out[i] = all[indexIn(live, tokens[i])];
        }
        return out;
    }

    /** Whether the image's first visual token is its CLS token (vision_feature_select_strategy "full"). */
    static boolean hasClsToken(PruneContext ctx, ImageSpan span) {
        return span.count() > 0 && ctx.origin(span.firstVisual()).row() < 0;
    }
}
