package io.tokensieve.datasets.shapes;

import java.util.List;

/**
 * A 3D scene graph: primitives on a textured floor, lit by one directional light.
 *
 * @param objects the primitives; each (colour, shape) pair occurs at most once
 * @param light unit vector towards the light
 * @param textureSeed seed of the floor texture, camera jitter and pixel noise
 */
public record Scene3d(List<Object3d> objects, double[] light, long textureSeed) {
    public Scene3d {
        objects = List.copyOf(objects);
    }

    public Object3d object(int id) {
        return objects.get(id);
    }

    /** The object standing on {@code base}, or null. */
    public Object3d onTopOf(Object3d base) {
        for (Object3d o : objects) {
            if (o.supportId() == base.id()) {
                return o;
            }
        }
        return null;
    }
}
