package io.tokensieve.train;

import ai.djl.ndarray.NDManager;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.train.TrainExample;
import io.tokensieve.core.train.TrainingForward;
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
