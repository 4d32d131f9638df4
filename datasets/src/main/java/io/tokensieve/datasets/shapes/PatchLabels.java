package io.tokensieve.datasets.shapes;

import java.util.List;

/**
 * Per-patch labels of a 2D scene from its scene graph (never from pixels), for auxiliary training signals:
 * for each cell of a {@code grid x grid} patch grid, the colour and shape of the object covering most of it
 * (0 = background; an object counts when it covers at least 15% of the cell) and the printed character
 * whose glyph centre lies in the cell (0 = none).
 */
public final class PatchLabels {
    /** Classes of each label kind, background or none included. */
    public static final int COLOURS = Colour.values().length + 1;
    public static final int SHAPES = Shape2d.values().length + 1;
    public static final int GLYPHS = BitmapFont.characters().size() + 1;
    /** Classes of the 3D-shape kind of a rendered 3D view's labels ({@link #ofView}), background included. */
    public static final int SHAPES_3D = Shape3d.values().length + 1;

    private PatchLabels() {}

    /**
     * The word of every label class, per kind ({colour, shape, glyph}), as answers spell it; index 0
     * (background or none) is null.
     */
    public static String[][] words() {
        String[] colour = new String[COLOURS];
        for (Colour c : Colour.values()) {
            colour[c.ordinal() + 1] = c.word();
        }
        String[] shape = new String[SHAPES];
        for (Shape2d s : Shape2d.values()) {
            shape[s.ordinal() + 1] = s.word();
        }
        String[] glyph = new String[GLYPHS];
        List<Character> chars = BitmapFont.characters();
        for (int i = 0; i < chars.size(); i++) {
            glyph[i + 1] = Phrases.characterAnswer(chars.get(i));
        }
        return new String[][] {colour, shape, glyph};
    }

    /** The word of every 3D-shape class ({@link #SHAPES_3D}); index 0 (background) is null. */
    public static String[] words3d() {
        String[] out = new String[SHAPES_3D];
        for (Shape3d s : Shape3d.values()) {
            out[s.ordinal() + 1] = s.word();
        }
        return out;
    }

    /**
     * Per-patch labels of one rendered view of a 3D scene, from the scene graph and the view's object-id map (never
     * from its pixels), as {colour[grid^2], shape[grid^2], glyph[grid^2], shape3d[grid^2]}: colour and 3D shape of the
     * object owning each cell as {@link #objects(int[], int, int)} assigns it (0 = floor, sky); the 2D shape kind is
     * -1 (no label: no 2D shape is there) and the glyph kind 0 (3D objects carry no printed character).
     */
    public static int[][] ofView(PosedView view, Scene3d scene, int grid) {
        int[] owner = objects(view.objectIds(), scene.objects().size(), grid);
        int n = grid * grid;
        int[] colour = new int[n];
        int[] shape = new int[n];
        int[] glyph = new int[n];
        int[] shape3d = new int[n];
        java.util.Arrays.fill(shape, -1);
        for (int p = 0; p < n; p++) {
            if (owner[p] >= 0) {
                Object3d o = scene.object(owner[p]);
                colour[p] = o.colour().ordinal() + 1;
                shape3d[p] = o.shape().ordinal() + 1;
            }
        }
        return new int[][] {colour, shape, glyph, shape3d};
    }

    /** {colour[grid^2], shape[grid^2], glyph[grid^2]} in raster order. */
    public static int[][] of(Scene2d scene, int grid) {
        return of(scene, objects(scene, grid), grid);
    }

    /** As {@link #of(Scene2d, int)} with each cell's owning object already known ({@link #objects}). */
    public static int[][] of(Scene2d scene, int[] owner, int grid) {
        int n = grid * grid;
        int[] colour = new int[n];
        int[] shape = new int[n];
        int[] glyph = new int[n];
        for (int p = 0; p < n; p++) {
            if (owner[p] >= 0) {
                SceneObject o = scene.object(owner[p]);
                colour[p] = o.colour().ordinal() + 1;
                shape[p] = o.shape().ordinal() + 1;
            }
        }
        List<Character> chars = BitmapFont.characters();
        for (SceneObject o : scene.objects()) {
            if (o.hasGlyph()) {
                glyph[glyphCell(o, grid)] = chars.indexOf(o.glyph()) + 1;
            }
        }
        return new int[][] {colour, shape, glyph};
    }

    /**
     * {@code labels} followed by the column and the row ({@code 0..grid-1}) of each cell an object owns (raster order;
     * -1, no label, for background cells, whose position a tower learns readily and which would outnumber the
     * objects' cells in a mean): labels of where an object's patch is, for a head that should keep it in the features.
     *
     * @param owner each cell's owning object, -1 for background ({@link #objects})
     */
    public static int[][] withPosition(int[][] labels, int[] owner, int grid) {
        int n = grid * grid;
        if (owner.length != n) {
            throw new IllegalArgumentException("owner has " + owner.length + " cells, a " + grid + "x" + grid + " grid " + n);
        }
        int[][] out = java.util.Arrays.copyOf(labels, labels.length + 2);
        out[labels.length] = new int[n];
        out[labels.length + 1] = new int[n];
        for (int p = 0; p < n; p++) {
            out[labels.length][p] = owner[p] < 0 ? -1 : p % grid;
            out[labels.length + 1][p] = owner[p] < 0 ? -1 : p / grid;
        }
        return out;
    }

    /**
     * The object id owning each cell of a {@code grid x grid} patch grid, raster order: the object covering most
     * of the cell, if it covers at least 15% of it; -1 for background.
     */
    public static int[] objects(Scene2d scene, int grid) {
        return objects(scene.idMap(), scene.objects().size(), grid);
    }

    /**
     * As {@link #objects(Scene2d, int)} for any per-pixel map of object ids ({@code IMAGE_SIZE} square, row-major,
     * -1 for background), such as a rendered 3D view's {@link PosedView#objectIds}.
     */
    public static int[] objects(int[] idMap, int objects, int grid) {
        int size = ShapesBench.IMAGE_SIZE;
        int cell = size / grid;
        int n = grid * grid;
        int[][] counts = new int[n][objects];
        for (int y = 0; y < grid * cell; y++) {
            for (int x = 0; x < grid * cell; x++) {
                int id = idMap[y * size + x];
                if (id >= 0) {
                    counts[(y / cell) * grid + x / cell][id]++;
                }
            }
        }
        int[] owner = new int[n];
        for (int p = 0; p < n; p++) {
            int best = -1;
            for (int id = 0; id < objects; id++) {
                if (counts[p][id] >= 0.15 * cell * cell && (best < 0 || counts[p][id] > counts[p][best])) {
                    best = id;
                }
            }
            owner[p] = best;
        }
        return owner;
    }

    /** The cell (raster index) holding the centre of an object's printed character. */
    public static int glyphCell(SceneObject o, int grid) {
        int size = ShapesBench.IMAGE_SIZE;
        int cell = size / grid;
        int gx = Math.min(size - 1, o.glyphX() + 5);
        int gy = Math.min(size - 1, o.glyphY() + 7);
        return Math.min(grid - 1, gy / cell) * grid + Math.min(grid - 1, gx / cell);
    }
}
