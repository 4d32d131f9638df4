package io.tokensieve.core.filter;

import ai.djl.ndarray.NDArray;

import java.util.Objects;

/**
 * The visual tokens of one image as a serving engine holds them: the embeddings that would enter the LLM
 * ({@code [N, D]}, float32) with either the patch grid they came from or a 3D origin per token, plus optional
 * extras some pruners read: the projector inputs ({@code features}, {@code [N, Dv']}), the vision tower's
 * CLS attention over the N tokens (summed over heads, as VisionZip scores them) and the keys of the feature
 * layer ({@code [N, K]}). Immutable; the {@code opt*} methods return a copy with one more input. The arrays
 * stay owned by the caller: the filter only reads them and never closes them.
 *
 * <pre>{@code
 * ImageTokens img = ImageTokens.grid(embeddings, 24, 24)     // [576, 4096], a 24x24 patch grid
 *         .optFeatures(features)                              // [576, 1024], for zoo
 *         .optClsAttention(clsRow);                           // float[576], for visionzip
 * }</pre>
 *
 * @param embeddings visual embeddings {@code [N, D]} (after the projector)
 * @param gridRows patch rows (1 when only xyz origins were given)
 * @param gridCols patch columns (N when only xyz origins were given)
 * @param xyz per-token scene coordinates {@code [N][3]} for multi-view 3D inputs, or null
 * @param features projector inputs {@code [N, Dv']}, or null
 * @param clsAttention the CLS token's attention to each of the N tokens in the feature layer, or null
 * @param keys keys of the feature layer {@code [N, K]} (one head, or heads averaged), or null: then the
 *     embeddings serve as keys
 */
public record ImageTokens(NDArray embeddings, int gridRows, int gridCols, float[][] xyz, NDArray features,
                          float[] clsAttention, NDArray keys) {

    public ImageTokens {
        Objects.requireNonNull(embeddings, "embeddings");
        xyz = xyz == null ? null : deepCopy(xyz);
        clsAttention = clsAttention == null ? null : clsAttention.clone();
    }

    /** Tokens laid out on a {@code rows x cols} patch grid in raster order ({@code N = rows * cols}). */
    public static ImageTokens grid(NDArray embeddings, int rows, int cols) {
        return new ImageTokens(embeddings, rows, cols, null, null, null, null);
    }

    /**
     * Tokens of one view of a 3D scene with a scene coordinate each ({@code xyz[i] = {x, y, z}}); their grid
     * is taken as one row of N cells, which is what grid-based pruners (pool) then see.
     */
    public static ImageTokens xyz(NDArray embeddings, float[][] xyz) {
        Objects.requireNonNull(xyz, "xyz");
        return new ImageTokens(embeddings, 1, xyz.length, xyz, null, null, null);
    }

    /** Tokens on a patch grid that also carry scene coordinates. */
    public static ImageTokens gridWithXyz(NDArray embeddings, int rows, int cols, float[][] xyz) {
        Objects.requireNonNull(xyz, "xyz");
        return new ImageTokens(embeddings, rows, cols, xyz, null, null, null);
    }

    /** With the projector inputs {@code [N, Dv']} (zoo perturbs them; VISION-hook pruners act on them). */
    public ImageTokens optFeatures(NDArray features) {
        return new ImageTokens(embeddings, gridRows, gridCols, xyz, features, clsAttention, keys);
    }

    /** With the CLS token's attention to each token of the feature layer, summed over heads (length N). */
    public ImageTokens optClsAttention(float[] clsAttention) {
        return new ImageTokens(embeddings, gridRows, gridCols, xyz, features, clsAttention, keys);
    }

    /** With the keys of the feature layer {@code [N, K]}; average multi-head keys over heads first. */
    public ImageTokens optKeys(NDArray keys) {
        return new ImageTokens(embeddings, gridRows, gridCols, xyz, features, clsAttention, keys);
    }

    /** Tokens of this image (rows of the embeddings). */
    public int count() {
        return embeddings.getShape().dimension() == 0 ? 0 : (int) embeddings.getShape().get(0);
    }

    private static float[][] deepCopy(float[][] a) {
        float[][] out = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] == null ? null : a[i].clone();
        }
        return out;
    }
}
