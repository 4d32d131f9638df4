package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;

/**
 * LISA-style mask head, an extra of the embedded model. The last-layer hidden state of the {@code [SEG]}
 * token is projected into a small space and compared with two views of the full (unpruned) image: the
 * vision features of every patch (coarse, semantic; bilinearly upsampled) and the raw pixels of small
 * cells (full resolution, so boundaries follow the image). Output: mask logits per pixel cell.
 *
 * <p>The fine term alone knows nothing of where the object is: it scores a cell's colours wherever the cell
 * lies. The optional refinement ({@code sieve_extras.seg_refine_hidden} > 0) adds a per-cell two-layer
 * correction over three numbers: the coarse logit, the fine logit, and the squared distance between the
 * cell's mean colour and the colour where the first pass is most certain (its mean weighted by the softmax of
 * the first-pass logits over the cells: a sigmoid weighting would let the many background cells outweigh the
 * few object cells). So a cell can count as object only where the coarse map allows it and its colour matches.
 * The correction's output layer starts at zero in a continued run, so it starts from the plain head's masks.
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
    private final Linear refine1; // null without the refinement
    private final Linear refine2;

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
        boolean refine = w.has(CheckpointKeys.segHead("refine.fc1.weight"));
        this.refine1 = refine ? new Linear(w, CheckpointKeys.segHead("refine.fc1.weight"), CheckpointKeys.segHead("refine.fc1.bias")) : null;
        this.refine2 = refine ? new Linear(w, CheckpointKeys.segHead("refine.fc2.weight"), CheckpointKeys.segHead("refine.fc2.bias")) : null;
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
        NDArray logits = Ops.scale(up.add(fine), scale).add(bias); // [B, C*C]
        if (refine1 == null) {
            return logits;
        }
        NDArray colour = px.reshape(b, (long) cells * cells, 3, (long) cell * cell).mean(new int[] {3}); // [B, C*C, 3]
        NDArray p = logits.stopGradient().softmax(1).expandDims(2); // [B, C*C, 1], the first pass's most certain cells
        NDArray proto = colour.mul(p).sum(new int[] {1}, true); // [B, 1, 3]
        NDArray dist = colour.sub(proto).square().sum(new int[] {2}); // [B, C*C]
        NDArray in = NDArrays.stack(new NDList(Ops.scale(up, scale), Ops.scale(fine, scale), dist), 2); // [B, C*C, 3]
        NDArray r = refine2.forward(Activation.relu(refine1.forward(in))).squeeze(2); // [B, C*C]
        return logits.add(r); // [B, C*C]
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
