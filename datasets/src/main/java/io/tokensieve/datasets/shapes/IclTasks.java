package io.tokensieve.datasets.shapes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * In-context episodes. Every image shows one to five copies of a single object kind (one colour, shape and
 * size), so every image can answer every attribute; the episode's hidden attribute (colour, shape, count or
 * size) shows only in the demos' answers. Instruction and question are the same for every episode.
 */
final class IclTasks {
    static final String INSTRUCTION = "Answer the last question the way the examples are answered.";
    static final String QUESTION = "What is it?";
    static final List<String> ATTRIBUTES = List.of("colour", "shape", "count", "size");
    static final int MAX_COPIES = 5;

    private IclTasks() {}

    /** A scene of 1..{@link #MAX_COPIES} non-overlapping copies of one object kind. */
    static Scene2d scene(Rng rng) {
        int size = ShapesBench.IMAGE_SIZE;
        while (true) {
            Colour colour = Colour.values()[rng.nextInt(Colour.values().length)];
            Shape2d shape = Shape2d.values()[rng.nextInt(Shape2d.values().length)];
            Size sz = rng.nextBoolean() ? Size.SMALL : Size.LARGE;
            int copies = rng.nextInt(1, MAX_COPIES);
            int[] idMap = new int[size * size];
            Arrays.fill(idMap, -1);
            List<SceneObject> objects = new ArrayList<>();
            for (int t = 0; t < 200 && objects.size() < copies; t++) {
                int r = rng.nextInt(sz.minRadius(), sz.maxRadius());
                int cx = rng.nextInt(r + 3, size - 4 - r);
                int cy = rng.nextInt(r + 3, size - 4 - r);
                boolean free = true;
                for (SceneObject o : objects) {
                    free &= StrictMath.hypot(cx - o.cx(), cy - o.cy()) >= r + o.radius() + 4;
                }
                if (!free) {
                    continue;
                }
                Polygon outline = ShapeGeometry.outline(shape, cx, cy, r);
                int[] px = outline.pixelIndices(size, size);
                int id = objects.size();
                for (int p : px) {
                    idMap[p] = id;
                }
                objects.add(new SceneObject(id, colour, shape, sz, cx, cy, r, outline, (char) 0, 0, 0, px.length, px.length));
            }
            if (objects.size() == copies) {
                return new Scene2d(objects, rng.nextLong(), idMap);
            }
        }
    }

    /** The answer of {@code attribute} for a single-kind scene. */
    static String answer(String attribute, Scene2d scene) {
        SceneObject o = scene.object(0);
        return switch (attribute) {
            case "colour" -> o.colour().word();
            case "shape" -> o.shape().word();
            case "count" -> Integer.toString(scene.objects().size());
            case "size" -> o.size().word();
            default -> throw new IllegalArgumentException("unknown in-context attribute " + attribute);
        };
    }
}
