package io.tokensieve.datasets.shapes;

import java.util.ArrayList;
import java.util.List;

/**
 * A description of 2D objects by any of size, colour and shape ("the small red circle", "the blue object",
 * "the square"). A referring expression is valid only when exactly one object of the scene matches it.
 */
record Referent(Size size, Colour colour, Shape2d shape) {
    boolean matches(SceneObject o) {
        return (size == null || o.size() == size) && (colour == null || o.colour() == colour)
                && (shape == null || o.shape() == shape);
    }

    int count(Scene2d scene) {
        int n = 0;
        for (SceneObject o : scene.objects()) {
            if (matches(o)) {
                n++;
            }
        }
        return n;
    }

    boolean unique(Scene2d scene) {
        return count(scene) == 1;
    }

    /** "small red circle", "blue object", "square". */
    String noun() {
        StringBuilder b = new StringBuilder();
        if (size != null) {
            b.append(size.word()).append(' ');
        }
        if (colour != null) {
            b.append(colour.word()).append(' ');
        }
        b.append(shape == null ? "object" : shape.word());
        return b.toString();
    }

    /** "the small red circle". */
    String definite() {
        return "the " + noun();
    }

    /** "an orange star", "a square". */
    String indefinite() {
        return Phrases.article(noun()) + " " + noun();
    }

    static Referent of(SceneObject o) {
        return new Referent(null, o.colour(), o.shape());
    }

    /**
     * Unique descriptions of {@code o} that leave out the attribute being asked about ({@code withoutColour}
     * or {@code withoutShape}), shortest first.
     */
    static List<Referent> uniqueWithout(Scene2d scene, SceneObject o, boolean withoutColour, boolean withoutShape) {
        List<Referent> out = new ArrayList<>();
        Colour c = withoutColour ? null : o.colour();
        Shape2d s = withoutShape ? null : o.shape();
        for (Referent r : List.of(new Referent(null, c, s), new Referent(o.size(), c, s))) {
            if ((r.colour() != null || r.shape() != null) && r.unique(scene) && !out.contains(r)) {
                out.add(r);
            }
        }
        return out;
    }
}
