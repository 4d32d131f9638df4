package io.tokensieve.datasets.shapes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Samples 2D scene graphs: 2-8 objects with unique (colour, shape) pairs, some partly occluding earlier ones.
 * Every object keeps at least {@link #MIN_VISIBLE} of its area visible and no object ever covers a printed
 * character, so every answer computed from the graph is visible in the image.
 */
final class SceneSampler2d {
    static final double MIN_VISIBLE = 0.65;
    private static final int MARGIN = 3;
    private static final int TRIES_PER_OBJECT = 60;

    private SceneSampler2d() {}

    static Scene2d sample(SceneSpec spec, Rng rng) {
        while (true) {
            Scene2d s = attempt(spec, rng);
            if (s != null) {
                return s;
            }
        }
    }

    private static Scene2d attempt(SceneSpec spec, Rng rng) {
        int size = ShapesBench.IMAGE_SIZE;
        int target = rng.nextInt(spec.minObjects(), spec.maxObjects());
        int[] idMap = new int[size * size];
        Arrays.fill(idMap, -1);
        boolean[] glyphGuard = new boolean[size * size];
        List<SceneObject> objects = new ArrayList<>();
        int glyphs = 0;
        for (int k = 0; k < target; k++) {
            boolean needGlyph = glyphs < spec.minGlyphs() && k == target - 1 - (spec.minGlyphs() - glyphs - 1);
            SceneObject placed = null;
            for (int t = 0; t < TRIES_PER_OBJECT && placed == null; t++) {
                placed = tryPlace(spec, rng, objects, idMap, glyphGuard, needGlyph);
            }
            if (placed == null) {
                continue;
            }
            objects.add(placed);
            if (placed.hasGlyph()) {
                glyphs++;
            }
        }
        if (objects.size() < spec.minObjects() || glyphs < spec.minGlyphs()) {
            return null;
        }
        return new Scene2d(objects, rng.nextLong(), idMap);
    }

    /** Places one candidate or returns null (and leaves the maps untouched) when it breaks a constraint. */
    private static SceneObject tryPlace(SceneSpec spec, Rng rng, List<SceneObject> objects, int[] idMap,
                                        boolean[] glyphGuard, boolean needGlyph) {
        int size = ShapesBench.IMAGE_SIZE;
        Colour colour = Colour.values()[rng.weighted(Colour.priors())];
        Shape2d shape = Shape2d.values()[rng.weighted(Shape2d.priors())];
        for (SceneObject o : objects) {
            if (o.colour() == colour && o.shape() == shape) {
                return null;
            }
        }
        Size sz = needGlyph || rng.nextBoolean() ? Size.LARGE : Size.SMALL;
        int r = rng.nextInt(sz.minRadius(), sz.maxRadius());
        int cx = rng.nextInt(r + MARGIN, size - 1 - r - MARGIN);
        int cy = rng.nextInt(r + MARGIN, size - 1 - r - MARGIN);
        boolean mayOverlap = rng.nextDouble() < spec.overlapChance();
        for (SceneObject o : objects) {
            double d = StrictMath.hypot(cx - o.cx(), cy - o.cy());
            double need = mayOverlap ? 0.6 * (r + o.radius()) : r + o.radius() + MARGIN;
            if (d < need) {
                return null;
            }
        }
        Polygon outline = ShapeGeometry.outline(shape, cx, cy, r);
        int[] own = outline.pixelIndices(size, size);
        int[] covered = new int[objects.size()];
        int area = own.length;
        for (int p : own) {
            if (glyphGuard[p]) {
                return null;
            }
            if (idMap[p] >= 0) {
                covered[idMap[p]]++;
            }
        }
        for (SceneObject o : objects) {
            if (o.visible() - covered[o.id()] < MIN_VISIBLE * o.area()) {
                return null;
            }
        }
        char glyph = 0;
        int gx = cx - BitmapFont.drawnWidth() / 2;
        int gy = cy - BitmapFont.drawnHeight() / 2;
        boolean wantGlyph = sz == Size.LARGE && (needGlyph || rng.nextDouble() < spec.glyphChance());
        if (wantGlyph && glyphFits(outline, gx, gy)) {
            List<Character> chars = BitmapFont.characters();
            glyph = chars.get(rng.nextInt(chars.size()));
        } else if (needGlyph) {
            return null;
        }
        // accept: update visibility of the objects below and claim the pixels
        for (int i = 0; i < objects.size(); i++) {
            SceneObject o = objects.get(i);
            if (covered[i] > 0) {
                objects.set(i, o.withVisible(o.visible() - covered[i]));
            }
        }
        int id = objects.size();
        for (int p : own) {
            idMap[p] = id;
        }
        if (glyph != 0) {
            guard(glyphGuard, gx, gy);
        }
        return new SceneObject(id, colour, shape, sz, cx, cy, r, outline, glyph, gx, gy, area, area);
    }

    /** The glyph box plus a 1 px margin must lie inside the object's own pixels. */
    private static boolean glyphFits(Polygon outline, int gx, int gy) {
        int size = ShapesBench.IMAGE_SIZE;
        for (int y = gy - 1; y <= gy + BitmapFont.drawnHeight(); y++) {
            for (int x = gx - 1; x <= gx + BitmapFont.drawnWidth(); x++) {
                if (x < 0 || y < 0 || x >= size || y >= size || !outline.contains(x, y)) {
                    return false;
                }
            }
        }
        return true;
    }

    private static void guard(boolean[] glyphGuard, int gx, int gy) {
        int size = ShapesBench.IMAGE_SIZE;
        for (int y = gy - 1; y <= gy + BitmapFont.drawnHeight(); y++) {
            for (int x = gx - 1; x <= gx + BitmapFont.drawnWidth(); x++) {
                glyphGuard[y * size + x] = true;
            }
        }
    }
}
