package io.tokensieve.eval.run;

import io.tokensieve.core.image.PixelValues;
import io.tokensieve.datasets.mask.LabelMask;

/**
 * Turns the runtime's per-patch mask logits of one image into a binary mask at the source image's
 * resolution: the patch grid is bilinearly upsampled over the model's crop (half-pixel centres, edges
 * clamped, as PyTorch's {@code interpolate(align_corners=False)}), mapped back through the crop's scale and
 * offset, and thresholded at {@code > 0}. Source pixels outside the crop are background.
 */
public final class MaskDecoder {
    private MaskDecoder() {}

    public static LabelMask toSourceMask(float[] logits, int rows, int cols, PixelValues crop) {
        if (logits.length != rows * cols) {
            throw new IllegalArgumentException(logits.length + " mask logits for a " + rows + "x" + cols + " grid");
        }
        int w = crop.sourceWidth();
        int h = crop.sourceHeight();
        byte[] out = new byte[w * h];
        for (int y = 0; y < h; y++) {
            double cy = (y + 0.5) * crop.scale() - crop.offsetY();
            if (cy < 0 || cy >= crop.height()) {
                continue;
            }
            double gy = clamp(cy * rows / crop.height() - 0.5, rows - 1);
            int y0 = (int) Math.floor(gy);
            int y1 = Math.min(y0 + 1, rows - 1);
            double fy = gy - y0;
            for (int x = 0; x < w; x++) {
                double cx = (x + 0.5) * crop.scale() - crop.offsetX();
                if (cx < 0 || cx >= crop.width()) {
                    continue;
                }
                double gx = clamp(cx * cols / crop.width() - 0.5, cols - 1);
                int x0 = (int) Math.floor(gx);
                int x1 = Math.min(x0 + 1, cols - 1);
                double fx = gx - x0;
                double top = logits[y0 * cols + x0] * (1 - fx) + logits[y0 * cols + x1] * fx;
                double bottom = logits[y1 * cols + x0] * (1 - fx) + logits[y1 * cols + x1] * fx;
                if (top * (1 - fy) + bottom * fy > 0) {
                    out[y * w + x] = 1;
                }
            }
        }
        return new LabelMask(w, h, out);
    }

    private static double clamp(double v, int max) {
        return Math.max(0, Math.min(max, v));
    }
}
