package io.tokensieve.core.runtime;

import io.tokensieve.core.image.PixelValues;

/**
 * One image of a request, preprocessed, with optional per-patch xyz origins for multi-view 3D inputs
 * ({@code xyz[p] = {x, y, z}} for patch p in raster order; null for plain images).
 */
public record VisualInput(String name, PixelValues pixels, float[][] xyz) {
    public static VisualInput of(String name, PixelValues pixels) {
        return new VisualInput(name, pixels, null);
    }
}
