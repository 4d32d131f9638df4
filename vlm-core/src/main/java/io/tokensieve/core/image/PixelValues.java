package io.tokensieve.core.image;

/**
 * A preprocessed image ready for the vision tower: normalised CHW floats of the crop, and how the crop
 * maps back to the source image (for overlays and masks): source pixel = (crop pixel + offset) / scale.
 */
public record PixelValues(float[] chw, int height, int width, int sourceWidth, int sourceHeight,
                          double scale, double offsetX, double offsetY) {

    /** Source-image rectangle {x0, y0, x1, y1} covered by crop rectangle [cx0, cx1) x [cy0, cy1). */
    public double[] toSource(double cx0, double cy0, double cx1, double cy1) {
        return new double[] {(cx0 + offsetX) / scale, (cy0 + offsetY) / scale, (cx1 + offsetX) / scale,
            (cy1 + offsetY) / scale};
    }
}
