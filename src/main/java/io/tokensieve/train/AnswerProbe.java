package io.tokensieve.train;

import ai.djl.ndarray.NDManager;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.train.TrainExample;
import io.tokensieve.core.train.TrainingForward;
import io.tokensieve.datasets.shapes.Colour;
import io.tokensieve.datasets.shapes.Shape2d;
import io.tokensieve.datasets.shapes.ShapesBench;
import io.tokensieve.datasets.shapes.VqaExample;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the decoder holds where it answers a relative-position question ("Is the red circle to the left or to the
 * right of the blue square?"): at the position predicting the answer, before the first decoder layer and after each
 * one, a linear classifier of the column and of the row of each of the two objects named (cells of their centres,
 * from the scene graph; one ridge read-out per class against one-hot targets, the largest wins), fit on the first
 * half of held-out questions and measured on the second half; each read-out's ridge is chosen by cross-validation
 * within the first half ({@link LinearReadout#fitChosen}). A further read-out takes the answer itself (which of
 * the two lies first along the asked axis) straight from the hidden state. It tells apart "the decoder does not fetch
 * the two positions" (columns at chance in every layer) from "it fetches them and does not compare them" (columns
 * read, order not), which {@link PositionProbe} (are positions in the tokens?) and {@link AttentionProbe} (does it
 * look at the objects?) cannot.
 */
public final class AnswerProbe {
    /** Held-out questions come from this ShapesBench seed (as {@link TokenProbe}: neither training data nor the test split). */
    public static final long SEED = TokenProbe.SEED;
    private static final int BATCH = 16;

    /**
     * One stage of the decoder.
     *
     * @param stage "embedding" (before the first layer) or "after layer K" (1-based)
     * @param exact per kind (first object's column, its row, second object's column, its row): share read in the
     *     true cell
     * @param ordered share where the two read cells on the asked axis order the objects as the answer does (a tie
     *     counts as wrong)
     * @param answer share where a read-out of the answer's sign (first object before or after the second along the
     *     asked axis) is right
     * @param axis share where a read-out of the asked axis (left/right or above/below, which the question's words
     *     give) is right: the control, which a working read-out finds once the answer position has read the question
     */
    public record Row(String stage, double[] exact, double ordered, double answer, double axis) {}

    /**
     * The probe's result: questions measured (the second half of those kept), the rows, and the share of the
     * measured questions in the most frequent cell of the fitted half, per kind (what a read-out that ignores the
     * hidden state gets).
     */
    public record Report(int measured, List<Row> rows, double[] frequent) {}

    private AnswerProbe() {}

    /** Measures the first {@code questions} held-out relative-position questions (at least four). */
    public static Report run(VlmModel vm, int questions) {
        if (questions < 4) {
            throw new IllegalArgumentException("the answer probe needs at least four questions, got " + questions);
        }
        int per = vm.config().vision().numPatches();
        int grid = (int) Math.round(Math.sqrt(per));
        long eos = vm.eosIds().iterator().next();
        TrainingForward forward = new TrainingForward(vm.model(), 0f);
        List<int[]> labels = new ArrayList<>(); // per question: 4 cells, asked axis, answer sign
        List<float[][]> hidden = new ArrayList<>(); // per question: [stage][D]
        List<TrainExample> batch = new ArrayList<>();
        for (int i = 0; i < questions; i++) {
            VqaExample v = ShapesBench.vqaOfFamily(SEED, i, ShapesBench.RELATIVE_POSITION);
            int[] cells = v.family().equals(ShapesBench.RELATIVE_POSITION)
                    ? Pointing.comparisonReadout(v.question(), v.scene(), grid) : null;
            if (cells == null) {
                continue; // the scene fits no comparison, or a phrase names more than one object
            }
            String a = v.answer();
            int axis = a.equals("left") || a.equals("right") ? 0 : 1;
            int sign = a.equals("left") || a.equals("above") ? -1 : 1;
            labels.add(new int[] {cells[0], cells[1], cells[2], cells[3], axis, sign});
            long[] plain = vm.tokenizer().encodePlain(a);
            long[] answer = java.util.Arrays.copyOf(plain, plain.length + 1);
            answer[plain.length] = eos;
            float[] px = vm.processor().preprocess(ShapesTrainData.quantised(v.image())).chw();
            batch.add(new TrainExample(vm.promptIdsForContent(v.prompt()), answer, List.of(px), null, null, "vqa"));
            if (batch.size() >= BATCH || i == questions - 1) {
                read(forward, vm, batch, hidden);
            }
        }
        read(forward, vm, batch, hidden);
        if (hidden.size() < 4) {
            throw new IllegalArgumentException("only " + hidden.size() + " of " + questions
                    + " questions compare two single objects: probe more questions");
        }
        return measure(hidden, labels, grid);
    }

    private static void read(TrainingForward forward, VlmModel vm, List<TrainExample> batch, List<float[][]> hidden) {
        if (batch.isEmpty()) {
            return;
        }
        try (NDManager m = NDManager.newBaseManager(vm.device())) {
            for (float[][] h : forward.answerHidden(m, batch)) {
                hidden.add(h);
            }
        }
        batch.clear();
    }

    /**
     * The measures for given hidden states: {@code hidden.get(q)[stage]} is question q's state (stage 0 before the
     * first layer), {@code labels.get(q)} its four cells ({@code 0..grid-1}), asked axis (0 columns, 1 rows) and
     * answer sign (-1: the first object lies first). Fit on the first half (rounded up), measured on the rest.
     */
    static Report measure(List<float[][]> hidden, List<int[]> labels, int grid) {
        int n = hidden.size();
        int fit = (n + 1) / 2;
        int stages = hidden.get(0).length;
        int d = hidden.get(0)[0].length;
        double[][][] oneHot = new double[4][grid][fit]; // [kind][class][question]
        double[][] sign = new double[1][fit];
        double[][] axes = new double[1][fit];
        for (int q = 0; q < fit; q++) {
            for (int k = 0; k < 4; k++) {
                oneHot[k][labels.get(q)[k]][q] = 1;
            }
            sign[0][q] = labels.get(q)[5];
            axes[0][q] = labels.get(q)[4] == 0 ? -1 : 1;
        }
        double[] frequent = new double[4];
        for (int k = 0; k < 4; k++) {
            int best = 0;
            for (int c = 1; c < grid; c++) {
                best = java.util.Arrays.stream(oneHot[k][c]).sum() > java.util.Arrays.stream(oneHot[k][best]).sum() ? c : best;
            }
            int hits = 0;
            for (int q = fit; q < n; q++) {
                hits += labels.get(q)[k] == best ? 1 : 0;
            }
            frequent[k] = (double) hits / (n - fit);
        }
        List<Row> rows = new ArrayList<>();
        for (int s = 0; s < stages; s++) {
            float[] x = new float[n * d];
            for (int q = 0; q < n; q++) {
                System.arraycopy(hidden.get(q)[s], 0, x, q * d, d);
            }
            float[] fitRows = java.util.Arrays.copyOf(x, fit * d);
            LinearReadout[][] cls = new LinearReadout[4][];
            for (int k = 0; k < 4; k++) {
                cls[k] = LinearReadout.fitChosen(fitRows, oneHot[k], d, true);
            }
            LinearReadout order = LinearReadout.fitChosen(fitRows, sign, d, false)[0];
            LinearReadout axis = LinearReadout.fitChosen(fitRows, axes, d, false)[0];
            int[] exact = new int[4];
            int ordered = 0;
            int answered = 0;
            int axisRead = 0;
            for (int q = fit; q < n; q++) {
                int[] l = labels.get(q);
                int[] read = new int[4];
                for (int k = 0; k < 4; k++) {
                    read[k] = LinearReadout.classify(cls[k], x, q);
                    exact[k] += read[k] == l[k] ? 1 : 0;
                }
                int diff = read[l[4]] - read[2 + l[4]];
                ordered += diff != 0 && Integer.signum(diff) == l[5] ? 1 : 0;
                answered += Math.signum(order.apply(x, q)) == l[5] ? 1 : 0;
                axisRead += (axis.apply(x, q) < 0 ? 0 : 1) == l[4] ? 1 : 0;
            }
            double m = n - fit;
            rows.add(new Row(s == 0 ? "embedding" : "after layer " + s,
                    new double[] {exact[0] / m, exact[1] / m, exact[2] / m, exact[3] / m}, ordered / m, answered / m,
                    axisRead / m));
        }
        return new Report(n - fit, rows, frequent);
    }

    /**
     * Whether the answer position holds the word a lookup needs: for colour questions that name their object by shape
     * ("What colour is the triangle?"), a read-out of the named shape; for shape questions that name it by colour
     * ("What shape is the red object?"), of the named colour.
     *
     * @param stage "embedding" or "after layer K"
     * @param shape share of the measured colour questions whose named shape the read-out names
     * @param colour share of the measured shape questions whose named colour it names
     */
    public record NameRow(String stage, double shape, double colour) {}

    /**
     * The name read-outs: questions measured per kind (the second half of each), a row per stage, and the share of
     * the measured questions whose word is the fitted half's most frequent (a read-out that ignores the state).
     */
    public record Names(int shapeMeasured, int colourMeasured, List<NameRow> rows, double shapeFrequent,
                        double colourFrequent) {}

    /**
     * Measures the first {@code questions} held-out colour questions and as many shape questions (at least four of
     * each): a linear read-out per stage of the word named, fit and measured as {@link #run} does. If the answer position
     * holds the named shape after the layers before the pointed ones as well as it holds the named colour, a query
     * for "the triangle" has what it needs on the query side.
     */
    public static Names names(VlmModel vm, int questions) {
        if (questions < 4) {
            throw new IllegalArgumentException("the name read-out needs at least four questions, got " + questions);
        }
        long eos = vm.eosIds().iterator().next();
        TrainingForward forward = new TrainingForward(vm.model(), 0f);
        List<float[][]> shapeHidden = new ArrayList<>();
        List<float[][]> colourHidden = new ArrayList<>();
        List<Integer> shapeLabels = new ArrayList<>();
        List<Integer> colourLabels = new ArrayList<>();
        for (String family : new String[] {ShapesBench.COLOUR, ShapesBench.SHAPE}) {
            boolean byShape = family.equals(ShapesBench.COLOUR);
            List<TrainExample> batch = new ArrayList<>();
            for (int i = 0; i < questions; i++) {
                VqaExample v = ShapesBench.vqaOfFamily(SEED, i, family);
                int named = named(v.question(), byShape);
                if (!v.family().equals(family) || named < 0) {
                    continue; // the scene fits no question of the family
                }
                (byShape ? shapeLabels : colourLabels).add(named);
                long[] plain = vm.tokenizer().encodePlain(v.answer());
                long[] answer = java.util.Arrays.copyOf(plain, plain.length + 1);
                answer[plain.length] = eos;
                float[] px = vm.processor().preprocess(ShapesTrainData.quantised(v.image())).chw();
                batch.add(new TrainExample(vm.promptIdsForContent(v.prompt()), answer, List.of(px), null, null, "vqa"));
                if (batch.size() >= BATCH) {
                    read(forward, vm, batch, byShape ? shapeHidden : colourHidden);
                }
            }
            read(forward, vm, batch, byShape ? shapeHidden : colourHidden);
        }
        if (shapeHidden.size() < 4 || colourHidden.size() < 4) {
            throw new IllegalArgumentException("only " + shapeHidden.size() + " colour and " + colourHidden.size()
                    + " shape questions of " + questions + " each: probe more questions");
        }
        double[] shape = readClasses(shapeHidden, shapeLabels.stream().mapToInt(Integer::intValue).toArray(),
                Shape2d.values().length);
        double[] colour = readClasses(colourHidden, colourLabels.stream().mapToInt(Integer::intValue).toArray(),
                Colour.values().length);
        List<NameRow> rows = new ArrayList<>();
        for (int s = 0; s < shape.length - 1; s++) {
            rows.add(new NameRow(s == 0 ? "embedding" : "after layer " + s, shape[s], colour[s]));
        }
        return new Names(shapeHidden.size() - (shapeHidden.size() + 1) / 2, colourHidden.size() - (colourHidden.size() + 1) / 2,
                rows, shape[shape.length - 1], colour[colour.length - 1]);
    }

    /** The ordinal of the shape (or colour) a question's first noun phrase names, -1 if none. */
    static int named(String question, boolean shape) {
        int[] words = Pointing.nameReadout(question); // colour, shape, size; 0 when not named
        return words == null ? -1 : words[shape ? 1 : 0] - 1;
    }

    /**
     * Per stage, the share of the second half read in its class by a one-hot ridge read-out fit on the first half
     * ({@link LinearReadout#fitChosen}); last, the share in the fitted half's most frequent class.
     */
    static double[] readClasses(List<float[][]> hidden, int[] labels, int classes) {
        int n = hidden.size();
        int fit = (n + 1) / 2;
        int stages = hidden.get(0).length;
        int d = hidden.get(0)[0].length;
        double[][] oneHot = new double[classes][fit];
        int[] counts = new int[classes];
        for (int q = 0; q < fit; q++) {
            oneHot[labels[q]][q] = 1;
            counts[labels[q]]++;
        }
        int frequent = 0;
        for (int c = 1; c < classes; c++) {
            frequent = counts[c] > counts[frequent] ? c : frequent;
        }
        double[] out = new double[stages + 1];
        for (int s = 0; s < stages; s++) {
            float[] x = new float[n * d];
            for (int q = 0; q < n; q++) {
                System.arraycopy(hidden.get(q)[s], 0, x, q * d, d);
            }
            LinearReadout[] cls = LinearReadout.fitChosen(java.util.Arrays.copyOf(x, fit * d), oneHot, d, true);
            int hits = 0;
            for (int q = fit; q < n; q++) {
                hits += LinearReadout.classify(cls, x, q) == labels[q] ? 1 : 0;
            }
            out[s] = (double) hits / (n - fit);
        }
        int hits = 0;
        for (int q = fit; q < n; q++) {
            hits += labels[q] == frequent ? 1 : 0;
        }
        out[stages] = (double) hits / (n - fit);
        return out;
    }

    /** The name read-outs as a Markdown table, in percent. */
    public static String namesTable(Names r, int questions) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "Named-word read-out: of the first %d held-out colour questions (\"What colour is the triangle?\") and as "
                        + "many shape questions (\"What shape is the red object?\"), ShapesBench seed %d; a linear read-out "
                        + "of the word that names the object (its shape, its colour) from the hidden state at the "
                        + "position predicting the answer, fit on the first half, measured on the other %d and %d (%%)%n%n",
                questions, SEED, r.shapeMeasured(), r.colourMeasured()));
        b.append("| stage | shape named by colour questions | colour named by shape questions |\n|---|---|---|\n");
        for (NameRow row : r.rows()) {
            b.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f |%n", row.stage(), 100 * row.shape(), 100 * row.colour()));
        }
        b.append(String.format(Locale.ROOT, "| the fitted half's most frequent word | %.1f | %.1f |%n",
                100 * r.shapeFrequent(), 100 * r.colourFrequent()));
        return b.toString();
    }

    /** The report as a Markdown table, in percent. */
    public static String table(Report r, int questions) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "Answer probe: of the first %d held-out relative-position questions (ShapesBench seed %d), those naming "
                        + "two single objects; linear read-outs of the hidden state at the position predicting the answer, "
                        + "fit on the first half (ridge chosen by cross-validation within it), measured on the other %d: each object's cell column and row (exact), "
                        + "whether the read cells order the objects along the asked axis as the answer does (a tie is "
                        + "wrong), the answer read directly, and as a control the asked axis, which the question's words "
                        + "give (%%)%n%n", questions, SEED, r.measured()));
        b.append("| stage | first column | first row | second column | second row | read cells ordered | answer read "
                + "| axis read (control) |\n");
        b.append("|---|---|---|---|---|---|---|---|\n");
        for (Row row : r.rows()) {
            b.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |%n", row.stage(),
                    100 * row.exact()[0], 100 * row.exact()[1], 100 * row.exact()[2], 100 * row.exact()[3],
                    100 * row.ordered(), 100 * row.answer(), 100 * row.axis()));
        }
        b.append(String.format(Locale.ROOT, "| the fitted half's most frequent cell | %.1f | %.1f | %.1f | %.1f | - | - | - |%n",
                100 * r.frequent()[0], 100 * r.frequent()[1], 100 * r.frequent()[2], 100 * r.frequent()[3]));
        return b.toString();
    }
}
