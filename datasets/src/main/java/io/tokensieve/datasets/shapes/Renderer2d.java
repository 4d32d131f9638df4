package io.tokensieve.datasets.shapes;

import io.tokensieve.core.image.RgbImage;

/**
 * Draws a {@link Scene2d}: background texture, then each object's polygon in draw order with the exact
 * {@link Polygon} fill rule (no anti-aliasing, so masks and pixels agree), then printed characters, then noise.
 * Output values are whole numbers in 0..255, exactly what the PNG file stores.
 */
final class Renderer2d {
    private Renderer2d() {}

    static RgbImage render(Scene2d scene) {
        int size = ShapesBench.IMAGE_SIZE;
        float[] rgb = new float[size * size * 3];
        Rng rng = new Rng(scene.textureSeed());
        Texture.background(rgb, size, rng);
        for (SceneObject o : scene.objects()) {
            // a slight per-object tone shift, within the colour's hue
            float shift = (float) rng.uniform(-12, 12);
            float r = o.colour().r() + shift;
            float g = o.colour().g() + shift;
            float b = o.colour().b() + shift;
            for (int p : o.outline().pixelIndices(size, size)) {
                rgb[p * 3] = r;
                rgb[p * 3 + 1] = g;
                rgb[p * 3 + 2] = b;
            }
        }
        for (SceneObject o : scene.objects()) {
            if (o.hasGlyph()) {
                drawGlyph(rgb, size, o);
            }
        }
        Texture.noiseAndQuantise(rgb, rng);
        return new RgbImage(size, size, rgb);
    }

    /** Ink pixels of an object's printed character, as row-major indices. */
    static int[] glyphInk(SceneObject o) {
        int size = ShapesBench.IMAGE_SIZE;
        int s = BitmapFont.SCALE;
        int n = 0;
        int[] out = new int[BitmapFont.WIDTH * BitmapFont.HEIGHT * s * s];
        for (int row = 0; row < BitmapFont.HEIGHT; row++) {
            for (int col = 0; col < BitmapFont.WIDTH; col++) {
                if (!BitmapFont.ink(o.glyph(), col, row)) {
                    continue;
                }
                for (int dy = 0; dy < s; dy++) {
                    for (int dx = 0; dx < s; dx++) {
                        out[n++] = (o.glyphY() + row * s + dy) * size + o.glyphX() + col * s + dx;
                    }
                }
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** Dark ink on light colours, light ink on dark ones. */
    static float ink(Colour c) {
        return c.luma() > 140 ? 18f : 240f;
    }

    private static void drawGlyph(float[] rgb, int size, SceneObject o) {
        float ink = ink(o.colour());
        for (int p : glyphInk(o)) {
            rgb[p * 3] = ink;
            rgb[p * 3 + 1] = ink;
            rgb[p * 3 + 2] = ink;
        }
    }
}
