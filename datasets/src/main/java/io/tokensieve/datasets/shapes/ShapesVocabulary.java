package io.tokensieve.datasets.shapes;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every word that can appear in a ShapesBench prompt, question, instruction or answer (all tracks), plus the
 * prompt wrappers the loaders add, for building a word-level tokenizer. Words are lower-cased and split like
 * a whitespace + punctuation pre-tokenizer ({@code \w+|[^\w\s]+}). Special tokens ({@code <image>},
 * {@code [SEG]}) are not included: the tokenizer adds them itself.
 */
public final class ShapesVocabulary {
    /** The pre-tokenizer split. */
    public static final Pattern WORD = Pattern.compile("\\w+|[^\\w\\s]+");

    /** The fixed words of every question and expression template (placeholders left out). */
    private static final List<String> TEMPLATES = List.of(
            // VQA
            "Is there a an ?", "How many objects are there?", "What colour is the ?", "What shape is the object?",
            "Is the small or large?", "Is the to the left or to the right of the ?", "Is the above or below the ?",
            "What is written on the ?",
            // POPE
            "Is there a in the image?",
            // segmentation
            "the object", "Which shape is to the left of the ?", "Which shape is to the right of the ?",
            "Which shape is above the ?", "Which shape is below the ?", "Which shape is closest to the ?",
            "Which shape is farthest from the ?", "Which shape has the same colour as the ?",
            "Which object has the same shape as the ?", "Which shape is furthest to the left?",
            "Which shape is furthest to the right?", "Which shape is at the top?", "Which shape is at the bottom?",
            "Which shape is the largest?", "Which shape is the smallest?",
            // in-context
            IclTasks.INSTRUCTION, IclTasks.QUESTION,
            // 3D
            "Which object is closest to the ?", "Which object is farthest from the ?", "Which object is the tallest?",
            "What is on top of the ?", "What is under the ?",
            // answers
            "yes no left right above below");

    private ShapesVocabulary() {}

    /** Sorted, distinct words. */
    public static List<String> words() {
        TreeSet<String> out = new TreeSet<>();
        for (String t : TEMPLATES) {
            out.addAll(split(t));
        }
        for (String w : ShapesPrompts.WRAPPERS) {
            out.addAll(split(w));
        }
        for (Colour c : Colour.values()) {
            out.add(c.word());
        }
        for (Shape2d s : Shape2d.values()) {
            out.add(s.word());
            out.add(s.plural());
        }
        for (Shape3d s : Shape3d.values()) {
            out.add(s.word());
            out.add(s.plural());
        }
        for (Size s : Size.values()) {
            out.add(s.word());
        }
        for (char c : BitmapFont.characters()) {
            out.add(Phrases.characterAnswer(c));
        }
        // counts: VQA scenes hold at most 8 objects, 3D scenes at most 7
        for (int i = 0; i <= 9; i++) {
            out.add(Integer.toString(i));
        }
        return new ArrayList<>(out);
    }

    /** Lower-cased pre-tokenizer words of {@code text}. */
    public static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = WORD.matcher(text.toLowerCase(Locale.ROOT));
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }
}
