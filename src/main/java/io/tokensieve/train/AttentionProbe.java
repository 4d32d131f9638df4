package io.tokensieve.train;

import ai.djl.ndarray.NDManager;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.train.TrainExample;
import io.tokensieve.core.train.TrainingForward;
import io.tokensieve.datasets.shapes.Colour;
import io.tokensieve.core.text.WordLevelTokenizer;
import io.tokensieve.datasets.shapes.SegExample;
import io.tokensieve.datasets.shapes.ShapesBench;
import io.tokensieve.datasets.shapes.VqaExample;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a trained model's decoder looks when it answers: on held-out ShapesBench VQA questions, the attention mass
 * that each decoder layer's heads put, at the position predicting the answer's first token, on the patches of the
 * objects the question names ({@link Pointing}: the targets of the training-only pointing loss). Grouped by question
 * family and by whether the question names the object's colour, since "What colour is the triangle?" must find its
 * object by shape alone. Separates "the decoder looks at the wrong patches" from "it looks at the right ones and
 * still answers wrong" ({@link TokenProbe} asks the step before: is the label in the tokens at all). Questions
 * about an object that is not there ("Is there a square?" answered "no") are reported as the mass on the sequence's
 * first token, the place the training can teach for "nothing here matches".
 */
public final class AttentionProbe {
    /** Held-out questions come from this ShapesBench seed (as {@link TokenProbe}: neither training data nor the test split). */
    public static final long SEED = TokenProbe.SEED;
    private static final int BATCH = 8;

    /**
     * One group of questions.
     *
     * @param questions questions measured (those whose named objects are visible)
     * @param targetShare mean share of the image's visual tokens that are targets (the mass of uniform attention over
     *     them); NaN for the rows about absent objects
     * @param firstHalf per decoder layer, mean mass of its first half of heads (the heads sieve-tiny's pointing
     *     supervises); for the rows of a comparison's single objects, of the heads {@code --point-split} points there
     * @param allHeads per decoder layer, mean mass of all its heads
     */
    public record Row(String group, int questions, double targetShare, double[] firstHalf, double[] allHeads) {}

    private AttentionProbe() {}

    /**
     * Measures the first {@code questions} held-out questions (questions without a visible named object are skipped),
     * then the first {@link #segExpressions} held-out segmentation expressions: the mass that the position of
     * {@code [SEG]} (whose hidden state the mask head reads) puts on the referred object's patches.
     */
    public static List<Row> run(VlmModel vm, int questions) {
        if (questions < 1) {
            throw new IllegalArgumentException("the attention probe needs at least one question, got " + questions);
        }
        LlavaConfig c = vm.config();
        int per = c.vision().numPatches();
        int grid = (int) Math.round(Math.sqrt(per));
        int layers = c.text().numHiddenLayers();
        int heads = c.text().numAttentionHeads();
        long eos = vm.eosIds().iterator().next();
        Map<String, double[]> sums = new LinkedHashMap<>(); // group -> [n, share, first half per layer..., all per layer...]
        List<TrainExample> batch = new ArrayList<>();
        List<String> groups = new ArrayList<>();
        List<Double> shares = new ArrayList<>();
        List<int[]> ranges = new ArrayList<>(); // per example, the heads its "first half" column averages
        int pointed = Math.max(1, heads / 2);
        int split = TrainingForward.secondFrom(pointed);
        TrainingForward forward = new TrainingForward(vm.model(), 0f);
        for (int i = 0; i < questions; i++) {
            VqaExample v = ShapesBench.vqa(SEED, i);
            long[] answer = withEos(vm.tokenizer().encodePlain(v.answer()), eos);
            int[][] pointing = Pointing.forQuestion(v.question(), v.scene(), grid, answer.length, true);
            if (pointing.length == 0 || pointing[0] == null) {
                continue;
            }
            boolean absent = pointing[0][0] == TrainExample.FIRST_TOKEN;
            float[] px = vm.processor().preprocess(ShapesTrainData.quantised(v.image())).chw();
            long[] prompt = vm.promptIdsForContent(v.prompt());
            batch.add(new TrainExample(prompt, answer, List.of(px), null, null, "vqa", null, pointing));
            groups.add(absent ? v.family() + ", nothing named is present: mass on the first token" : group(v));
            shares.add(absent ? Double.NaN : (double) pointing[0].length / per);
            ranges.add(new int[] {0, pointed});
            // a comparison: also each object alone, in the heads that --point-split points at it (when it has two)
            int[][][] two = pointed < 2 ? null : Pointing.forComparison(v.question(), v.scene(), grid, answer.length);
            for (int o = 0; two != null && o < 2; o++) {
                batch.add(new TrainExample(prompt, answer, List.of(px), null, null, "vqa", null, two[o]));
                groups.add(v.family() + (o == 0 ? ", on the first object named: heads 0.." + (split - 1)
                        : ", on the second object named: heads " + split + ".." + (pointed - 1)));
                shares.add((double) two[o][0].length / per);
                ranges.add(o == 0 ? new int[] {0, split} : new int[] {split, pointed});
            }
            if (batch.size() >= BATCH) {
                add(forward, vm, batch, groups, shares, ranges, sums, layers, heads);
            }
        }
        add(forward, vm, batch, groups, shares, ranges, sums, layers, heads); // the last, partial VQA batch
        long segId = vm.tokenizer().tokenId(WordLevelTokenizer.SEG);
        for (int i = 0; i < segExpressions(questions) && segId >= 0; i++) {
            SegExample x = ShapesBench.seg(SEED, i);
            long[] plain = vm.tokenizer().encodePlain(x.answer());
            long[] answer = withEos(plain, eos);
            int[][] pointing = Pointing.forSegmentation(x.scene(), x.targetId(), grid, plain, segId, answer.length);
            int[] target = java.util.Arrays.stream(pointing).filter(java.util.Objects::nonNull).findFirst().orElse(null);
            if (target == null) {
                continue;
            }
            float[] px = vm.processor().preprocess(ShapesTrainData.quantised(x.image())).chw();
            long[] prompt = vm.promptIdsForContent(x.prompt()); // every row of this expression shares it
            batch.add(new TrainExample(prompt, answer, List.of(px), null, null, "seg", null, pointing));
            groups.add("segmentation, " + x.family() + ": at the [SEG] position");
            shares.add((double) target.length / per);
            ranges.add(new int[] {0, pointed});
            // a sentence that finds its target through another object: where the heads look, on each of the two
            // (the pointed heads split as --point-seg-anchor splits them, and the heads the pointing leaves alone)
            int[][] anchor = x.anchorId() < 0 || pointed < 2 ? null
                    : Pointing.forSegmentation(x.scene(), x.anchorId(), grid, plain, segId, answer.length);
            int[] anchorCells = anchor == null ? null
                    : java.util.Arrays.stream(anchor).filter(java.util.Objects::nonNull).findFirst().orElse(null);
            if (anchorCells != null) {
                String of = "segmentation, reasoning naming another object: at the [SEG] position, ";
                batch.add(new TrainExample(prompt, answer, List.of(px), null, null, "seg", null, pointing));
                groups.add(of + "on the target: heads 0.." + (split - 1));
                shares.add((double) target.length / per);
                ranges.add(new int[] {0, split});
                for (int[] r : pointed < heads ? List.of(new int[] {split, pointed}, new int[] {pointed, heads})
                        : List.of(new int[] {split, pointed})) {
                    batch.add(new TrainExample(prompt, answer, List.of(px), null, null, "seg", null, anchor));
                    groups.add(of + "on the object named: heads " + r[0] + ".." + (r[1] - 1)
                            + (r[0] >= pointed ? " (not pointed)" : ""));
                    shares.add((double) anchorCells.length / per);
                    ranges.add(r);
                }
            }
            if (batch.size() >= BATCH) {
                add(forward, vm, batch, groups, shares, ranges, sums, layers, heads);
            }
        }
        add(forward, vm, batch, groups, shares, ranges, sums, layers, heads); // the last, partial segmentation batch
        List<Row> out = new ArrayList<>();
        for (var e : sums.entrySet()) {
            double[] s = e.getValue();
            double n = s[0];
            double[] first = new double[layers];
            double[] all = new double[layers];
            for (int l = 0; l < layers; l++) {
                first[l] = s[2 + l] / n;
                all[l] = s[2 + layers + l] / n;
            }
            out.add(new Row(e.getKey(), (int) n, s[1] / n, first, all));
        }
        return out;
    }

    /** The answer's ids followed by EOS, as training teacher-forces them. */
    private static long[] withEos(long[] plain, long eos) {
        long[] out = java.util.Arrays.copyOf(plain, plain.length + 1);
        out[plain.length] = eos;
        return out;
    }

    /** Segmentation expressions measured alongside {@code questions} VQA questions: a quarter as many, at least one. */
    public static int segExpressions(int questions) {
        return Math.max(1, questions / 4);
    }

    /** The rows as a Markdown table: per layer, "first-half heads / all heads" mass in percent. */
    public static String table(List<Row> rows, int questions) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "Attention probe: the first %d held-out VQA questions and %d segmentation expressions (ShapesBench seed %d); "
                        + "attention mass (%%) at the position predicting the answer (segmentation: at the [SEG] position) on the "
                        + "named objects' patches, per decoder layer: first half of the heads / all heads (rows \"on the "
                        + "first/second object named\": the heads that --point-split points at that object / all heads)%n%n",
                questions, segExpressions(questions), SEED));
        if (rows.isEmpty()) {
            return b.append("(no question names a visible object)\n").toString();
        }
        int layers = rows.get(0).firstHalf().length;
        b.append("| questions | n | targets (% of visual tokens) |");
        for (int l = 0; l < layers; l++) {
            b.append(" L").append(l).append(" |");
        }
        b.append("\n|---|---|---|").append("---|".repeat(layers)).append('\n');
        for (Row r : rows) {
            b.append(String.format(Locale.ROOT, "| %s | %d | %s |", r.group(), r.questions(),
                    Double.isNaN(r.targetShare()) ? "-" : String.format(Locale.ROOT, "%.1f", 100 * r.targetShare())));
            for (int l = 0; l < layers; l++) {
                b.append(String.format(Locale.ROOT, " %.0f / %.0f |", 100 * r.firstHalf()[l], 100 * r.allHeads()[l]));
            }
            b.append('\n');
        }
        return b.toString();
    }

    /** The question's family, and whether it names its object's colour. */
    static String group(VqaExample v) {
        String q = v.question().toLowerCase(Locale.ROOT);
        boolean colourNamed = false;
        for (String w : q.split("[^a-z]+")) {
            for (Colour col : Colour.values()) {
                colourNamed |= col.word().equals(w);
            }
        }
        return v.family() + (colourNamed ? ", colour named" : ", colour not named");
    }

    private static void add(TrainingForward forward, VlmModel vm, List<TrainExample> batch, List<String> groups,
                            List<Double> shares, List<int[]> ranges, Map<String, double[]> sums, int layers, int heads) {
        if (batch.isEmpty()) {
            return;
        }
        try (NDManager m = NDManager.newBaseManager(vm.device())) {
            float[][][] mass = forward.pointingMass(m, batch); // [example][layer][head]
            for (int k = 0; k < batch.size(); k++) {
                if (mass[k] == null) {
                    continue;
                }
                double[] s = sums.computeIfAbsent(groups.get(k), g -> new double[2 + 2 * layers]);
                s[0]++;
                s[1] += shares.get(k);
                int[] range = ranges.get(k);
                for (int l = 0; l < layers; l++) {
                    double first = 0;
                    double all = 0;
                    for (int h = 0; h < heads; h++) {
                        all += mass[k][l][h];
                        if (h >= range[0] && h < range[1]) {
                            first += mass[k][l][h];
                        }
                    }
                    s[2 + l] += first / (range[1] - range[0]);
                    s[2 + layers + l] += all / heads;
                }
            }
        }
        batch.clear();
        groups.clear();
        shares.clear();
        ranges.clear();
    }
}
