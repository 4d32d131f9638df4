package io.tokensieve.datasets.shapes;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * POPE probes for one image: {@link #PER_IMAGE} questions alternating yes, no, yes, ... The yes probes are
 * present objects and are the same in all three variants (as in POPE); the no probes are absent
 * (colour, shape) pairs chosen by the variant's rule.
 */
final class PopeQuestions {
    static final int PER_IMAGE = 6;

    /** One probe: the object asked about and whether it is present. */
    record Probe(Colour colour, Shape2d shape, boolean present) {
        String question() {
            String noun = colour.word() + " " + shape.word();
            return "Is there " + Phrases.article(noun) + " " + noun + " in the image?";
        }
    }

    private PopeQuestions() {}

    /**
     * @param positives shuffles the present objects (shared by all variants)
     * @param negatives breaks ties among absent objects (one stream per variant)
     */
    static List<Probe> probes(Scene2d scene, PopeVariant variant, Rng positives, Rng negatives) {
        int half = PER_IMAGE / 2;
        List<SceneObject> present = new ArrayList<>(scene.objects());
        positives.shuffle(present);
        List<Probe> absent = absent(scene);
        negatives.shuffle(absent);
        switch (variant) {
            case RANDOM -> { }
            case POPULAR -> absent.sort(Comparator.comparingDouble(p -> -p.colour().prior() * p.shape().prior()));
            case ADVERSARIAL -> absent.sort(Comparator.comparingInt(p -> -shared(scene, p)));
        }
        List<Probe> out = new ArrayList<>();
        for (int i = 0; i < half; i++) {
            SceneObject o = present.get(i % present.size());
            out.add(new Probe(o.colour(), o.shape(), true));
            out.add(absent.get(i));
        }
        return out;
    }

    /** Every (colour, shape) pair not in the scene, in enum order. */
    static List<Probe> absent(Scene2d scene) {
        List<Probe> out = new ArrayList<>();
        for (Colour c : Colour.values()) {
            for (Shape2d s : Shape2d.values()) {
                if (scene.find(c, s) == null) {
                    out.add(new Probe(c, s, false));
                }
            }
        }
        return out;
    }

    /** How many present objects share the probe's colour, plus how many share its shape. */
    static int shared(Scene2d scene, Probe p) {
        int n = 0;
        for (SceneObject o : scene.objects()) {
            n += (o.colour() == p.colour() ? 1 : 0) + (o.shape() == p.shape() ? 1 : 0);
        }
        return n;
    }
}
