package io.tokensieve.datasets.shapes;

import java.util.Locale;

/** POPE's three negative-sampling settings; each has its own JSON-lines file. */
public enum PopeVariant {
    /** Absent objects drawn uniformly at random. */
    RANDOM,
    /** The absent objects with the highest sampling prior (the most frequent objects of the dataset). */
    POPULAR,
    /** Absent objects that share a colour or a shape with present ones, most shared first. */
    ADVERSARIAL;

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code coco_pope_random.json}, ... */
    public String fileName() {
        return "coco_pope_" + word() + ".json";
    }
}
