package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;

/**
 * LISA-style mask head, an extra of the embedded model. The last-layer hidden state of the {@code [SEG]}
 * token is projected into a small space and compared with two views of the full (unpruned) image: the
 * vision features of every patch (coarse, semantic; bilinearly upsampled) and the raw pixels of small
 * cells (full resolution, so boundaries follow the image). Output: mask logits per pixel cell.
 */
public final class SegMaskHead {
    private final Linear textProj;
    private final Linear visualProj;
    private final Linear pixelProj;
    private final NDArray bias; // [1]
    private final float scale;
    private final int cell;
    private final int cells;
    private final int grid;
    private final float[] upsample; // [cells^2, grid^2], bilinear (align_corners = false)

    public SegMaskHead(ModelWeights w, int dim, int cell, int imageSize, int grid) {
        this.textProj = new Linear(w, CheckpointKeys.segHead("text_proj.weight"), CheckpointKeys.segHead("text_proj.bias"));
        this.visualProj = new Linear(w, CheckpointKeys.segHead("visual_proj.weight"), CheckpointKeys.segHead("visual_proj.bias"));
        this.pixelProj = new Linear(w, CheckpointKeys.segHead("pixel_proj.weight"), CheckpointKeys.segHead("pixel_proj.bias"));
        this.bias = w.get(CheckpointKeys.segHead("bias"));
        this.scale = (float) (1 / Math.sqrt(dim));
        this.cell = cell;
        this.cells = imageSize / cell;
        this.grid = grid;
        this.upsample = bilinear(grid, cells);
    }

    /** Side of the output mask grid (image size / cell). */
    public int cellsPerSide() {
        return cells;
    }

    /**
     * segHidden [B, D], patchFeatures [B, N, Dv], pixels [B, 3, H, W] (normalised) -> mask logits per cell
     * [B, C*C] in raster order.
     */
    public NDArray forward(NDArray segHidden, NDArray patchFeatures, NDArray pixels) {
        long b = segHidden.getShape().get(0);
        NDArray t = textProj.forward(segHidden).expandDims(2); // [B, h, 1]
        NDArray patch = visualProj.forward(patchFeatures).matMul(t).squeeze(2); // [B, N]
        NDArray up = patch.matMul(patch.getManager().create(upsample, new Shape((long) cells * cells, (long) grid * grid))
                .transpose()); // [B, C*C]
        NDArray px = pixels.reshape(b, 3, cells, cell, cells, cell).transpose(0, 2, 4, 1, 3, 5)
                .reshape(b, (long) cells * cells, 3L * cell * cell); // [B, C*C, 3*c*c]
        NDArray fine = pixelProj.forward(px).matMul(t).squeeze(2); // [B, C*C]
        return Ops.scale(up.add(fine), scale).add(bias); // [B, C*C]
    }

    /** Bilinear interpolation weights from a g x g grid to a c x c grid (pixel centres, edges clamped). */
    static float[] bilinear(int g, int c) {
        float[] m = new float[c * c * g * g];
        for (int y = 0; y < c; y++) {
            double sy = Math.max(0, Math.min(g - 1, (y + 0.5) * g / c - 0.5));
            int y0 = (int) Math.floor(sy);
            int y1 = Math.min(g - 1, y0 + 1);
            double fy = sy - y0;
            for (int x = 0; x < c; x++) {
                double sx = Math.max(0, Math.min(g - 1, (x + 0.5) * g / c - 0.5));
                int x0 = (int) Math.floor(sx);
                int x1 = Math.min(g - 1, x0 + 1);
                double fx = sx - x0;
                int row = (y * c + x) * g * g;
                m[row + y0 * g + x0] += (float) ((1 - fy) * (1 - fx));
                m[row + y0 * g + x1] += (float) ((1 - fy) * fx);
                m[row + y1 * g + x0] += (float) (fy * (1 - fx));
                m[row + y1 * g + x1] += (float) (fy * fx);
            }
        }
        return m;
    }
}
