package io.tokensieve.train;

import io.tokensieve.core.image.RgbImage;
import io.tokensieve.datasets.shapes.Scene2d;
import io.tokensieve.datasets.shapes.SceneObject;
import io.tokensieve.datasets.shapes.ShapesExample;
import io.tokensieve.datasets.shapes.ShapesPrompts;
import io.tokensieve.datasets.shapes.Track;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A training-only alignment example (LLaVA stage-1 style): "What objects are there?" answered with every
 * visible object, left to right, as colour, shape and printed character. No question prior predicts the
 * answer, so the only way to lower its loss is to read the visual tokens. Never written to a benchmark file.
 *
 * <p>The shape-first variant ("Which objects are there?") names each object's shape before its colour. A
 * colour-first caption teaches the decoder to find an object by its colour and read its shape, and only that; the
 * benchmark also asks the other way round ("What colour is the triangle?", "Is there a square?"). Its question
 * shares no opening with a benchmark question: worded "What shape objects are there?", a full run lost "What shape is
 * the red object?" (VQA shape 88.4 -> 44.2 while colour rose 38.1 -> 71.4). We blamed the shared opening at
 * first, but a later full run without shape-first captions lost shape questions as well (see the model card).
 */
record CaptionExample(RgbImage image, Scene2d scene, String question, boolean shapeFirst, String caption)
        implements ShapesExample {
    static final String QUESTION = "What objects are there?";
    static final String SHAPE_FIRST_QUESTION = "Which objects are there?";
    /** Objects with fewer visible pixels than this are left out of the caption (hidden behind others). */
    static final int MIN_VISIBLE_PIXELS = 60;

    static CaptionExample of(RgbImage image, Scene2d scene) {
        return of(image, scene, false);
    }

    /** The caption of a scene, shape before colour when {@code shapeFirst}. */
    static CaptionExample of(RgbImage image, Scene2d scene, boolean shapeFirst) {
        List<String> words = new ArrayList<>();
        for (SceneObject o : described(scene)) {
            words.add(words(o, shapeFirst));
        }
        return new CaptionExample(image, scene, shapeFirst ? SHAPE_FIRST_QUESTION : QUESTION, shapeFirst,
                String.join(" ", words));
    }

    /** The objects the caption describes, in its order: visible ones, left to right. */
    static List<SceneObject> described(Scene2d scene) {
        List<SceneObject> objs = new ArrayList<>();
        for (SceneObject o : scene.objects()) {
            if (o.visible() >= MIN_VISIBLE_PIXELS) {
                objs.add(o);
            }
        }
        objs.sort(Comparator.comparingInt(SceneObject::cx).thenComparingInt(SceneObject::cy));
        return objs;
    }

    /** The caption's words for one object: colour and shape (in the caption's order), then printed character. */
    static String words(SceneObject o, boolean shapeFirst) {
        String pair = shapeFirst ? o.shape().word() + " " + o.colour().word() : o.colour().word() + " " + o.shape().word();
        return pair + (o.hasGlyph() ? " " + Character.toLowerCase(o.glyph()) : "");
    }

    @Override
    public Track track() {
        return Track.VQA;
    }

    @Override
    public String id() {
        return "caption";
    }

    @Override
    public String family() {
        return "caption";
    }

    @Override
    public List<RgbImage> images() {
        return List.of(image);
    }

    @Override
    public String prompt() {
        return ShapesPrompts.shortAnswer(question, 1);
    }

    @Override
    public List<String> answers() {
        return List.of(caption);
    }
}
