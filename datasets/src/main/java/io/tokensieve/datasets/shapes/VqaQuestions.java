package io.tokensieve.datasets.shapes;

import java.util.ArrayList;
import java.util.List;

/**
 * VQAv2-style questions about a 2D scene graph, one family at a time. Each family returns null when the
 * scene cannot support an unambiguous question; {@link #ask} then moves on to the next family.
 */
final class VqaQuestions {
    static final String EXIST = "exist";
    static final String COUNT = "count";
    static final String COLOUR = "colour";
    static final String SHAPE = "shape";
    static final String SIZE = "size";
    static final String POSITION = "relative position";
    static final String READING = "reading";
    /** Families in rotation order: example i asks family i mod 7 first. */
    static final List<String> FAMILIES = List.of(EXIST, COUNT, COLOUR, SHAPE, SIZE, POSITION, READING);

    /** A question with its answer and VQAv2 answer_type ({@code yes/no}, {@code number}, {@code other}). */
    record Question(String family, String text, String answer, String answerType) {}

    private VqaQuestions() {}

    /**
     * The question of example {@code index}: family {@code index mod 7} first (so families are balanced), and
     * for yes/no questions the answer alternates with {@code index / 7} (so yes and no are balanced).
     */
    static Question ask(Scene2d scene, int index, Rng rng) {
        int first = index % FAMILIES.size();
        boolean yes = (index / FAMILIES.size()) % 2 == 0;
        for (int k = 0; k < FAMILIES.size(); k++) {
            String family = FAMILIES.get((first + k) % FAMILIES.size());
            Question q = family(scene, family, yes, rng);
            if (q != null) {
                return q;
            }
        }
        throw new IllegalStateException("no VQA family fits the scene");
    }

    static Question family(Scene2d scene, String family, boolean yes, Rng rng) {
        return switch (family) {
            case EXIST -> exist(scene, yes, rng);
            case COUNT -> count(scene, rng);
            case COLOUR -> colour(scene, rng);
            case SHAPE -> shape(scene, rng);
            case SIZE -> size(scene, rng);
            case POSITION -> position(scene, rng);
            case READING -> reading(scene, rng);
            default -> throw new IllegalArgumentException("unknown VQA family " + family);
        };
    }

    /** "Is there a red circle?" / "Is there a star?" / "Is there a blue object?", with the asked answer. */
    private static Question exist(Scene2d scene, boolean yes, Rng rng) {
        int form = rng.nextInt(3);
        List<Referent> pool = new ArrayList<>();
        for (Colour c : Colour.values()) {
            for (Shape2d s : Shape2d.values()) {
                Referent r = switch (form) {
                    case 0 -> new Referent(null, c, s);
                    case 1 -> new Referent(null, null, s);
                    default -> new Referent(null, c, null);
                };
                if (!pool.contains(r) && (r.count(scene) > 0) == yes) {
                    pool.add(r);
                }
            }
        }
        if (pool.isEmpty()) {
            return null;
        }
        Referent r = rng.pick(pool);
        return new Question(EXIST, "Is there " + r.indefinite() + "?", yes ? "yes" : "no", "yes/no");
    }

    /** "How many circles are there?" / "How many red objects are there?" / "... large objects ..." / all. */
    private static Question count(Scene2d scene, Rng rng) {
        int form = rng.nextInt(4);
        SceneObject any = rng.pick(scene.objects());
        Referent r;
        String text;
        switch (form) {
            case 0 -> {
                Shape2d s = rng.nextInt(5) == 0 ? Shape2d.values()[rng.nextInt(Shape2d.values().length)] : any.shape();
                r = new Referent(null, null, s);
                text = "How many " + s.plural() + " are there?";
            }
            case 1 -> {
                Colour c = rng.nextInt(5) == 0 ? Colour.values()[rng.nextInt(Colour.values().length)] : any.colour();
                r = new Referent(null, c, null);
                text = "How many " + c.word() + " objects are there?";
            }
            case 2 -> {
                Size s = rng.nextBoolean() ? Size.SMALL : Size.LARGE;
                r = new Referent(s, null, null);
                text = "How many " + s.word() + " objects are there?";
            }
            default -> {
                r = new Referent(null, null, null);
                text = "How many objects are there?";
            }
        }
        return new Question(COUNT, text, Integer.toString(r.count(scene)), "number");
    }

    /** "What colour is the square?" (the object named without its colour). */
    private static Question colour(Scene2d scene, Rng rng) {
        List<Object[]> options = new ArrayList<>();
        for (SceneObject o : scene.objects()) {
            for (Referent r : Referent.uniqueWithout(scene, o, true, false)) {
                options.add(new Object[] {o, r});
            }
        }
        if (options.isEmpty()) {
            return null;
        }
        Object[] pick = rng.pick(options);
        SceneObject o = (SceneObject) pick[0];
        return new Question(COLOUR, "What colour is " + ((Referent) pick[1]).definite() + "?", o.colour().word(), "other");
    }

    /** "What shape is the blue object?" (the object named without its shape). */
    private static Question shape(Scene2d scene, Rng rng) {
        List<Object[]> options = new ArrayList<>();
        for (SceneObject o : scene.objects()) {
            for (Referent r : Referent.uniqueWithout(scene, o, false, true)) {
                options.add(new Object[] {o, r});
            }
        }
        if (options.isEmpty()) {
            return null;
        }
        Object[] pick = rng.pick(options);
        SceneObject o = (SceneObject) pick[0];
        return new Question(SHAPE, "What shape is " + ((Referent) pick[1]).definite() + "?", o.shape().word(), "other");
    }

    /** "Is the red circle small or large?" */
    private static Question size(Scene2d scene, Rng rng) {
        SceneObject o = rng.pick(scene.objects());
        String text = "Is " + Referent.of(o).definite() + " small or large?";
        return new Question(SIZE, text, o.size().word(), "other");
    }

    /** "Is the red circle to the left or to the right of the blue square?" / "... above or below ...". */
    private static Question position(Scene2d scene, Rng rng) {
        List<SceneObject[]> pairs = new ArrayList<>();
        List<Boolean> horizontal = new ArrayList<>();
        for (SceneObject a : scene.objects()) {
            for (SceneObject b : scene.objects()) {
                if (a == b) {
                    continue;
                }
                if (Math.abs(a.cx() - b.cx()) >= ShapesBench.POSITION_MARGIN) {
                    pairs.add(new SceneObject[] {a, b});
                    horizontal.add(true);
                }
                if (Math.abs(a.cy() - b.cy()) >= ShapesBench.POSITION_MARGIN) {
                    pairs.add(new SceneObject[] {a, b});
                    horizontal.add(false);
                }
            }
        }
        if (pairs.isEmpty()) {
            return null;
        }
        int i = rng.nextInt(pairs.size());
        SceneObject a = pairs.get(i)[0];
        SceneObject b = pairs.get(i)[1];
        String an = Referent.of(a).definite();
        String bn = Referent.of(b).definite();
        if (horizontal.get(i)) {
            return new Question(POSITION, "Is " + an + " to the left or to the right of " + bn + "?",
                    a.cx() < b.cx() ? "left" : "right", "other");
        }
        return new Question(POSITION, "Is " + an + " above or below " + bn + "?", a.cy() < b.cy() ? "above" : "below",
                "other");
    }

    /** "What is written on the red circle?" -> the printed digit or letter. */
    private static Question reading(Scene2d scene, Rng rng) {
        List<SceneObject> printed = new ArrayList<>();
        for (SceneObject o : scene.objects()) {
            if (o.hasGlyph()) {
                printed.add(o);
            }
        }
        if (printed.isEmpty()) {
            return null;
        }
        SceneObject o = rng.pick(printed);
        return new Question(READING, "What is written on " + Referent.of(o).definite() + "?",
                Phrases.characterAnswer(o.glyph()), BitmapFont.isDigit(o.glyph()) ? "number" : "other");
    }
}
