package io.tokensieve.train;

import io.tokensieve.core.train.TrainExample;
import io.tokensieve.datasets.shapes.Colour;
import io.tokensieve.datasets.shapes.PatchLabels;
import io.tokensieve.datasets.shapes.Scene2d;
import io.tokensieve.datasets.shapes.SceneObject;
import io.tokensieve.datasets.shapes.Shape2d;
import io.tokensieve.datasets.shapes.Size;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Attention targets for the training-only pointing loss ({@code TrainingForward.withPointing}): which patches the
 * position predicting an answer token should look at, from the scene graph (never from pixels).
 *
 * <p>For a question, the objects its noun phrases name ("the red circle", "blue objects", "squares", "objects"),
 * all of them: a question about two objects points at both, a count at every counted object. For a caption, the
 * object each word describes. An object's patches are the cells it owns ({@link PatchLabels#objects}) and the cell
 * of its printed character. Questions that name no object present (a "no" probe) get no target. Optionally, the
 * {@code [SEG]} position of a segmentation answer points at the referred object, and a 3D question's answer at its
 * objects in every view.
 */
final class Pointing {
    private Pointing() {}

    /** Targets for an answer of {@code answerTokens} tokens: the first token points at the question's objects. */
    static int[][] forQuestion(String question, Scene2d scene, int grid, int answerTokens) {
        return forQuestion(question, scene, grid, answerTokens, false);
    }

    /**
     * As {@link #forQuestion(String, Scene2d, int, int)}; with {@code absentAtFirstToken}, a question that names no object
     * of the scene (a "no" probe, a count of zero) points at the sequence's first token instead of nowhere
     * ({@link TrainExample#FIRST_TOKEN}), so "nothing here matches" has a place to look.
     */
    static int[][] forQuestion(String question, Scene2d scene, int grid, int answerTokens, boolean absentAtFirstToken) {
        int[][] out = new int[answerTokens][];
        if (answerTokens > 0) {
            List<SceneObject> named = referred(question, scene);
            int[] cells = cells(scene, named, grid);
            out[0] = cells.length > 0 ? cells : named.isEmpty() && absentAtFirstToken ? new int[] {TrainExample.FIRST_TOKEN} : null;
        }
        return out;
    }

    /**
     * Pointing groups of a count ("How many red objects are there?", {@link TrainExample#pointingGroups}): each
     * counted object's cells, then the sequence's first token, so that the pointed heads share their attention evenly
     * among the {@code n} objects and the first token, whose share {@code 1 / (n + 1)} then tells the count (a
     * softmax average over the objects alone is the same for any number of them). A count of zero gives the first
     * token alone. Null when an object counted owns no cell (hidden), which would leave it out of the share.
     */
    static int[][] forCount(String question, Scene2d scene, int grid) {
        List<SceneObject> counted = referred(question, scene);
        int[] owner = PatchLabels.objects(scene, grid);
        int[][] out = new int[counted.size() + 1][];
        for (int i = 0; i < counted.size(); i++) {
            out[i] = cells(owner, List.of(counted.get(i)), grid);
            if (out[i].length == 0) {
                return null;
            }
        }
        out[counted.size()] = new int[] {TrainExample.FIRST_TOKEN};
        return out;
    }

    /** Targets for a caption: every token of an object's words points at that object ({@code objectTokens[i]} tokens). */
    static int[][] forCaption(List<SceneObject> objects, int[] objectTokens, Scene2d scene, int grid, int answerTokens) {
        int[][] out = new int[answerTokens][];
        int[] owner = PatchLabels.objects(scene, grid); // once per caption, not once per object
        int k = 0;
        for (int i = 0; i < objects.size(); i++) {
            int[] cells = cells(owner, List.of(objects.get(i)), grid);
            for (int t = 0; t < objectTokens[i] && k < answerTokens; t++, k++) {
                out[k] = cells.length == 0 ? null : cells;
            }
        }
        return out;
    }

    /**
     * Targets for a segmentation answer {@code answer} (its ids, without EOS): the position of its {@code [SEG]} token
     * ({@code segId}), whose hidden state the mask head reads, points at the cells the referred object owns (its body,
     * as the mask; not its printed character). That position predicts the token after {@code [SEG]}, so that entry
     * is set; none is when the answer has no {@code [SEG]} or the object owns no cell.
     */
    static int[][] forSegmentation(Scene2d scene, int targetId, int grid, long[] answer, long segId, int answerTokens) {
        int[][] out = new int[answerTokens][];
        int segAt = java.util.stream.IntStream.range(0, answer.length).filter(k -> answer[k] == segId).findFirst().orElse(-1);
        if (segAt >= 0 && segAt + 1 < answerTokens) {
            int[] owner = PatchLabels.objects(scene, grid);
            int[] cells = java.util.stream.IntStream.range(0, owner.length).filter(p -> owner[p] == targetId).toArray();
            out[segAt + 1] = cells.length > 0 ? cells : null;
        }
        return out;
    }

    /**
     * Targets for a reasoning sentence's segmentation answer that finds its target through another object, the
     * {@code anchorId} ("the blue triangle" of "Which shape is to the left of the blue triangle?"): {@code [0]} as
     * {@link #forSegmentation(Scene2d, int, int, long[], long, int)} (the target, for the first half of the pointed
     * heads), {@code [1]} the cells the anchor owns at the same position (for the second half). Null when either
     * owns no cell or the answer has no {@code [SEG]} (then the unsplit targets apply).
     */
    static int[][][] forSegmentation(Scene2d scene, int targetId, int anchorId, int grid, long[] answer, long segId,
                                     int answerTokens) {
        int[][] first = forSegmentation(scene, targetId, grid, answer, segId, answerTokens);
        int[][] second = forSegmentation(scene, anchorId, grid, answer, segId, answerTokens);
        for (int k = 0; k < answerTokens; k++) {
            if ((first[k] == null) != (second[k] == null)) {
                return null;
            }
        }
        return java.util.Arrays.stream(first).allMatch(java.util.Objects::isNull) ? null : new int[][][] {first, second};
    }

    /**
     * Targets for a 3D question: the first answer token points at the patches of every view that show the objects
     * the answer is about, numbered across the views ({@code view * grid * grid + cell}); {@code owners} holds each
     * view's cell owners ({@link PatchLabels#objects(int[], int, int)}).
     */
    static int[][] forViews(List<int[]> owners, List<Integer> objectIds, int answerTokens) {
        int[][] out = new int[answerTokens][];
        if (answerTokens == 0 || objectIds.isEmpty()) {
            return out;
        }
        List<Integer> cells = new ArrayList<>();
        int offset = 0;
        for (int[] owner : owners) {
            for (int p = 0; p < owner.length; p++) {
                if (owner[p] >= 0 && objectIds.contains(owner[p])) {
                    cells.add(offset + p);
                }
            }
            offset += owner.length;
        }
        out[0] = cells.isEmpty() ? null : cells.stream().mapToInt(Integer::intValue).toArray();
        return out;
    }

    /**
     * Targets for a question that compares two things ("Is the red circle to the left or to the right of the blue
     * square?"): the first answer token points at the first noun phrase's objects ({@code [0]}, for the first half of
     * the pointed heads) and at the second's ({@code [1]}, for the second half). Null when the question does not name
     * exactly two things, both present and apart (then {@link #forQuestion} applies).
     */
    static int[][][] forComparison(String question, Scene2d scene, int grid, int answerTokens) {
        List<List<SceneObject>> named = phrases(question, scene);
        if (answerTokens == 0 || named.size() != 2 || named.get(0).isEmpty() || named.get(1).isEmpty()
                || named.get(0).stream().anyMatch(named.get(1)::contains)) {
            return null;
        }
        int[] owner = PatchLabels.objects(scene, grid);
        int[] first = cells(owner, named.get(0), grid);
        int[] second = cells(owner, named.get(1), grid);
        if (first.length == 0 || second.length == 0) {
            return null;
        }
        int[][][] out = new int[2][answerTokens][];
        out[0][0] = first;
        out[1][0] = second;
        return out;
    }

    /**
     * Read-out labels of a question that compares two objects ("Is the red circle to the left or to the right of the
     * blue square?"): the cell column and row of the first noun phrase's object's centre, then of the second's
     * ({@code grid} classes each), from the scene graph. Null unless each of exactly two phrases names exactly one
     * object, the two apart.
     */
    static int[] comparisonReadout(String question, Scene2d scene, int grid) {
        List<List<SceneObject>> named = phrases(question, scene);
        if (named.size() != 2 || named.get(0).size() != 1 || named.get(1).size() != 1
                || named.get(0).get(0).id() == named.get(1).get(0).id()) {
            return null;
        }
        SceneObject a = named.get(0).get(0);
        SceneObject b = named.get(1).get(0);
        return new int[] {cell(a.cx(), grid), cell(a.cy(), grid), cell(b.cx(), grid), cell(b.cy(), grid)};
    }

    /** Read-out kinds of {@link #comparisonReadout}: column and row of each of the two objects. */
    static final int READOUT_KINDS = 4;

    /**
     * Read-out labels of the words a question names its objects by: for its first two noun phrases, the colour, the
     * shape and the size named ({@link #NAME_CLASSES} classes each: 0 when the phrase names none, else the value's
     * ordinal + 1; "object" names no shape); -1 (left out) for the second phrase's kinds when there is one phrase.
     * Null when the question has no noun phrase. From the question's words alone, so a lookup's query has them.
     */
    static int[] nameReadout(String question) {
        List<Phrase> named = parse(question);
        if (named.isEmpty()) {
            return null;
        }
        int[] out = new int[NAME_KINDS];
        java.util.Arrays.fill(out, -1);
        for (int p = 0; p < Math.min(2, named.size()); p++) {
            Phrase ph = named.get(p);
            out[3 * p] = ph.colour() == null ? 0 : ph.colour().ordinal() + 1;
            out[3 * p + 1] = ph.shape() == null ? 0 : ph.shape().ordinal() + 1;
            out[3 * p + 2] = ph.size() == null ? 0 : ph.size().ordinal() + 1;
        }
        return out;
    }

    /** Classes of each kind of {@link #nameReadout}: colour, shape and size of the first phrase, then of the second. */
    static final int[] NAME_CLASSES = {Colour.values().length + 1, Shape2d.values().length + 1, Size.values().length + 1,
            Colour.values().length + 1, Shape2d.values().length + 1, Size.values().length + 1};

    static final int NAME_KINDS = 6;

    /** The cell (0..grid-1) of a pixel coordinate of a ShapesBench image. */
    private static int cell(int px, int grid) {
        return Math.min(grid - 1, Math.max(0, px * grid / io.tokensieve.datasets.shapes.ShapesBench.IMAGE_SIZE));
    }

    /** The objects named by the question's noun phrases, phrase by phrase (each in scene order), no repeats. */
    static List<SceneObject> referred(String question, Scene2d scene) {
        Set<SceneObject> out = new LinkedHashSet<>();
        phrases(question, scene).forEach(out::addAll);
        return new ArrayList<>(out);
    }

    /**
     * The question's noun phrases ([size] [colour] shape|object), in the question's order: for each, the scene's
     * objects it names, in scene order (empty for a phrase naming nothing present).
     */
    static List<List<SceneObject>> phrases(String question, Scene2d scene) {
        List<List<SceneObject>> out = new ArrayList<>();
        for (Phrase p : parse(question)) {
            List<SceneObject> phrase = new ArrayList<>();
            for (SceneObject o : scene.objects()) {
                if ((p.size() == null || o.size() == p.size()) && (p.colour() == null || o.colour() == p.colour())
                        && (p.shape() == null || o.shape() == p.shape())) {
                    phrase.add(o);
                }
            }
            out.add(phrase);
        }
        return out;
    }

    /** A noun phrase's words: size and colour if named, the shape (null for "object(s)"). */
    private record Phrase(Size size, Colour colour, Shape2d shape) {}

    /** The question's noun phrases ([size] [colour] shape|object), in order. */
    private static List<Phrase> parse(String question) {
        List<Phrase> out = new ArrayList<>();
        Size size = null;
        Colour colour = null;
        for (String w : question.toLowerCase(Locale.ROOT).split("[^a-z0-9]+")) {
            Size sz = size(w);
            Colour c = colour(w);
            Shape2d sh = shape(w);
            if (sz != null) {
                size = sz;
            } else if (c != null) {
                colour = c;
            } else if (sh != null || w.equals("object") || w.equals("objects")) {
                out.add(new Phrase(size, colour, sh));
                size = null;
                colour = null;
            } else {
                size = null;
                colour = null;
            }
        }
        return out;
    }

    /** Cells owned by the objects, plus the cells of their printed characters, ascending. */
    static int[] cells(Scene2d scene, List<SceneObject> objects, int grid) {
        return cells(PatchLabels.objects(scene, grid), objects, grid);
    }

    /** As {@link #cells(Scene2d, List, int)}, with the scene's cell owners already computed. */
    private static int[] cells(int[] owner, List<SceneObject> objects, int grid) {
        Set<Integer> ids = new LinkedHashSet<>();
        objects.forEach(o -> ids.add(o.id()));
        java.util.TreeSet<Integer> cells = new java.util.TreeSet<>();
        for (int p = 0; p < owner.length; p++) {
            if (owner[p] >= 0 && ids.contains(owner[p])) {
                cells.add(p);
            }
        }
        for (SceneObject o : objects) {
            if (o.hasGlyph()) {
                cells.add(PatchLabels.glyphCell(o, grid));
            }
        }
        return cells.stream().mapToInt(Integer::intValue).toArray();
    }

    private static Size size(String w) {
        for (Size s : Size.values()) {
            if (s.word().equals(w)) {
                return s;
            }
        }
        return null;
    }

    private static Colour colour(String w) {
        for (Colour c : Colour.values()) {
            if (c.word().equals(w)) {
                return c;
            }
        }
        return null;
    }

    private static Shape2d shape(String w) {
        for (Shape2d s : Shape2d.values()) {
            if (s.word().equals(w) || s.plural().equals(w)) {
                return s;
            }
        }
        return null;
    }
}
