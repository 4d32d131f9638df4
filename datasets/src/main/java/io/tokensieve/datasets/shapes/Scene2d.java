package io.tokensieve.datasets.shapes;

import java.util.List;

/**
 * A 2D scene graph: objects in draw order over a procedural background.
 *
 * @param objects objects, bottom first; each (colour, shape) pair occurs at most once, so "the red circle"
 *     always names one object
 * @param textureSeed seed of the background texture and the pixel noise
 * @param idMap per pixel (row-major, {@link ShapesBench#IMAGE_SIZE} squared) the id of the top-most object
 *     covering it, or -1 for background; derived from the polygons, not from rendered pixels
 */
public record Scene2d(List<SceneObject> objects, long textureSeed, int[] idMap) {
    public Scene2d {
        objects = List.copyOf(objects);
    }

    public SceneObject object(int id) {
        return objects.get(id);
    }

    /** The object with this colour and shape, or null. */
    public SceneObject find(Colour colour, Shape2d shape) {
        for (SceneObject o : objects) {
            if (o.colour() == colour && o.shape() == shape) {
                return o;
            }
        }
        return null;
    }
}
