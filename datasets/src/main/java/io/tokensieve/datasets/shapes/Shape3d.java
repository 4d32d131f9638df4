package io.tokensieve.datasets.shapes;

import java.util.Locale;

/** Primitives of the 3D track, all upright on the floor (or on top of a cube or cylinder). */
public enum Shape3d {
    SPHERE,
    CUBE,
    CYLINDER,
    CONE;

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    public String plural() {
        return word() + "s";
    }

    /** Only flat-topped primitives can carry another object. */
    boolean flatTop() {
        return this == CUBE || this == CYLINDER;
    }
}
