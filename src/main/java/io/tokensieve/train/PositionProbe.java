package io.tokensieve.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.model.LlamaDecoderLayer;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.train.TrainExample;
import io.tokensieve.core.train.TrainingForward;
import io.tokensieve.datasets.shapes.PatchLabels;
import io.tokensieve.datasets.shapes.Scene2d;
import io.tokensieve.datasets.shapes.SceneObject;
import io.tokensieve.datasets.shapes.ShapesBench;
import io.tokensieve.datasets.shapes.VqaExample;

import java.util.ArrayList;
import java.util.List;

/**
 * Whether the projected visual tokens keep where their patch is, in a form an attention head can carry: a linear
 * classifier of each patch's column and of its row from its token (one ridge read-out per column or row against
 * one-hot targets; the largest wins), fit on every patch of the first half of the held-out images and measured on
 * the second half, on object and on background patches apart. A relative-position question ("Is the red circle to
 * the left or to the right of the blue square?") needs both objects' positions after attention, and attention
 * returns a linear map of the tokens (rotary positions shape the scores, not the values). The last rows ask it of
 * pairs of objects: does the mean classified column (row) over each object's patches order the two objects as their
 * centres are ordered, for every pair whose centres are at least a relative-position question's margin apart along
 * the axis (a tie counts as wrong: a decoder could not tell the two apart).
 */
public final class PositionProbe {
    /** Ridge strength, relative to the mean diagonal of the tokens' centred Gram matrix. */
    static final double RIDGE = 1e-3;

    /**
     * One measure.
     *
     * @param count patches (or object pairs) measured
     * @param exact share classified in the true column or row (or pairs ordered right)
     * @param withinOne share read within one cell (NaN for pairs)
     */
    public record Row(String measure, int count, double exact, double withinOne) {}

    private PositionProbe() {}

    /**
     * The read-outs of one model: from the projected visual tokens (what the decoder reads) and from the vision
     * features the patch-label head reads (the first feature layer), which tells a tower that loses position from a
     * projector that drops it; and from the decoder's hidden states at the visual tokens' slots, before its first
     * layer (the projected tokens again, in a prompt) and after each layer ({@code decoder.get(0..layers)}, empty
     * when not measured), which tells whether the decoder keeps where its visual tokens are up to the layers whose
     * heads would fetch them.
     */
    public record Report(List<Row> tokens, List<Row> features, List<List<Row>> decoder, List<List<List<Row>>> values) {
        public Report(List<Row> tokens, List<Row> features) {
            this(tokens, features, List.of(), List.of());
        }
    }

    /** Images per decoder pass. */
    private static final int BATCH = 16;

    /** Reads {@code images} held-out images of {@link TokenProbe#SEED} (at least two: half fit, half measured). */
    public static Report run(VlmModel vm, int images) {
        if (images < 2) {
            throw new IllegalArgumentException("the position probe needs at least two images, got " + images);
        }
        int per = vm.config().vision().numPatches();
        int grid = (int) Math.round(Math.sqrt(per));
        float[][] tokens = new float[images][]; // [N * D] per image
        float[][] features = new float[images][]; // [N * Dv] per image
        List<Scene2d> scenes = new ArrayList<>();
        for (int i = 0; i < images; i++) {
            VqaExample v = ShapesBench.vqa(TokenProbe.SEED, i * ShapesBench.VQA_QUESTIONS_PER_IMAGE);
            scenes.add(v.scene());
            try (NDManager m = NDManager.newBaseManager(vm.device())) {
                TokenProbe.Encoded e = TokenProbe.encode(vm, m, v.image());
                tokens[i] = e.projected();
                features[i] = e.features().toFloatArray();
            }
        }
        List<List<Row>> decoder = new ArrayList<>();
        float[][][] stages = decoderStates(vm, images); // [image][stage][N * D]
        for (int st = 0; st < stages[0].length; st++) {
            float[][] at = new float[images][];
            for (int i = 0; i < images; i++) {
                at[i] = stages[i][st];
            }
            decoder.add(measure(at, scenes, grid, at[0].length / per));
        }
        return new Report(measure(tokens, scenes, grid, tokens[0].length / per),
                measure(features, scenes, grid, features[0].length / per), decoder, values(vm, stages, scenes, grid));
    }

    /**
     * The same read-out on what each decoder layer's attention can return from a visual token: its value vector per
     * key-value head, {@code v_proj(input_layernorm(h))} of the layer's input states; {@code [layer][kv head]}.
     */
    private static List<List<List<Row>>> values(VlmModel vm, float[][][] stages, List<Scene2d> scenes, int grid) {
        List<LlamaDecoderLayer> layers = vm.model().languageModel().layers();
        int images = stages.length;
        int per = grid * grid;
        int d = stages[0][0].length / per;
        List<List<List<Row>>> out = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            LlamaDecoderLayer layer = layers.get(l);
            int kv = layer.selfAttn().kvHeads();
            int hd = layer.selfAttn().headDim();
            float[][][] byHead = new float[kv][images][];
            try (NDManager m = NDManager.newBaseManager(vm.device())) {
                for (int i = 0; i < images; i++) {
                    NDArray h = m.create(stages[i][l], new Shape(1, per, d)); // [1, N, D], the layer's input
                    float[] v = layer.selfAttn().values(layer.inputLayernorm().forward(h)).toFloatArray(); // [Hkv * N * hd]
                    for (int k = 0; k < kv; k++) {
                        byHead[k][i] = java.util.Arrays.copyOfRange(v, k * per * hd, (k + 1) * per * hd);
                    }
                }
            }
            List<List<Row>> heads = new ArrayList<>();
            for (int k = 0; k < kv; k++) {
                heads.add(measure(byHead[k], scenes, grid, hd));
            }
            out.add(heads);
        }
        return out;
    }

    /**
     * The decoder's hidden states at each image's visual slots, with the image's own question and answer as the text
     * (teacher-forced, as in training), before the first layer and after each: {@code [image][stage][N * D]}.
     */
    static float[][][] decoderStates(VlmModel vm, int images) {
        TrainingForward forward = new TrainingForward(vm.model(), 0f);
        long eos = vm.eosIds().iterator().next();
        float[][][] out = new float[images][][];
        List<TrainExample> batch = new ArrayList<>();
        for (int i = 0; i < images; i++) {
            VqaExample v = ShapesBench.vqa(TokenProbe.SEED, i * ShapesBench.VQA_QUESTIONS_PER_IMAGE);
            long[] plain = vm.tokenizer().encodePlain(v.answer());
            long[] answer = java.util.Arrays.copyOf(plain, plain.length + 1);
            answer[plain.length] = eos;
            float[] px = vm.processor().preprocess(ShapesTrainData.quantised(v.image())).chw();
            batch.add(new TrainExample(vm.promptIdsForContent(v.prompt()), answer, List.of(px), null, null, "vqa"));
            if (batch.size() == BATCH || i == images - 1) {
                try (NDManager m = NDManager.newBaseManager(vm.device())) {
                    float[][][] got = forward.visualHidden(m, batch);
                    System.arraycopy(got, 0, out, i + 1 - batch.size(), batch.size());
                }
                batch.clear();
            }
        }
        return out;
    }

    /**
     * The measures for given tokens: {@code tokens[i]} is image i's {@code [grid^2 * d]} tokens, raster order; the
     * read-outs are fit on the first half of the images (rounded up) and measured on the rest.
     */
    static List<Row> measure(float[][] tokens, List<Scene2d> scenes, int grid, int d) {
        int images = tokens.length;
        int per = grid * grid;
        int fit = (images + 1) / 2;
        float[] x = new float[fit * per * d];
        double[][][] oneHot = new double[2][grid][fit * per]; // [column or row][class][patch]
        for (int i = 0; i < fit; i++) {
            System.arraycopy(tokens[i], 0, x, i * per * d, per * d);
            for (int p = 0; p < per; p++) {
                oneHot[0][p % grid][i * per + p] = 1;
                oneHot[1][p / grid][i * per + p] = 1;
            }
        }
        LinearReadout[][] readers = {LinearReadout.fit(x, oneHot[0], d, RIDGE), LinearReadout.fit(x, oneHot[1], d, RIDGE)};
        int[] patches = new int[2]; // [object, background]
        int[][] exact = new int[2][2]; // [object or background][column or row]
        int[][] near = new int[2][2];
        int[] pairs = new int[2];
        int[] ordered = new int[2];
        for (int i = fit; i < images; i++) {
            List<SceneObject> objects = scenes.get(i).objects();
            int[] owner = PatchLabels.objects(scenes.get(i), grid);
            double[][] sum = new double[objects.size()][2]; // per object: summed column, row read-outs
            int[] owned = new int[objects.size()];
            for (int p = 0; p < per; p++) {
                double[] got = {LinearReadout.classify(readers[0], tokens[i], p),
                        LinearReadout.classify(readers[1], tokens[i], p)};
                int[] truth = {p % grid, p / grid};
                int where = owner[p] < 0 ? 1 : 0; // object or background patch
                patches[where]++;
                for (int axis = 0; axis < 2; axis++) {
                    double err = Math.abs(got[axis] - truth[axis]);
                    exact[where][axis] += err == 0 ? 1 : 0;
                    near[where][axis] += err <= 1 ? 1 : 0;
                    if (owner[p] >= 0) {
                        sum[owner[p]][axis] += got[axis];
                    }
                }
                if (owner[p] >= 0) {
                    owned[owner[p]]++;
                }
            }
            for (int a = 0; a < objects.size(); a++) {
                for (int b = a + 1; b < objects.size(); b++) {
                    if (owned[a] == 0 || owned[b] == 0) {
                        continue;
                    }
                    int[] offset = {objects.get(a).cx() - objects.get(b).cx(), objects.get(a).cy() - objects.get(b).cy()};
                    for (int axis = 0; axis < 2; axis++) {
                        if (Math.abs(offset[axis]) < ShapesBench.POSITION_MARGIN) {
                            continue;
                        }
                        double read = sum[a][axis] / owned[a] - sum[b][axis] / owned[b];
                        pairs[axis]++;
                        ordered[axis] += Math.signum(read) == Math.signum(offset[axis]) ? 1 : 0;
                    }
                }
            }
        }
        List<Row> rows = new ArrayList<>();
        String[] where = {"object", "background"};
        for (int w = 0; w < 2; w++) {
            rows.add(new Row("column, per " + where[w] + " patch", patches[w], share(exact[w][0], patches[w]),
                    share(near[w][0], patches[w])));
            rows.add(new Row("row, per " + where[w] + " patch", patches[w], share(exact[w][1], patches[w]),
                    share(near[w][1], patches[w])));
        }
        rows.add(new Row("left/right of two objects", pairs[0], share(ordered[0], pairs[0]), Double.NaN));
        rows.add(new Row("above/below of two objects", pairs[1], share(ordered[1], pairs[1]), Double.NaN));
        return rows;
    }

    /** The report as a Markdown table: each measure on the projected tokens, then on the vision features. */
    public static String table(Report report, int images) {
        StringBuilder b = new StringBuilder("Position read-out: a linear classifier of each patch's column and row, "
                + split(images));
        b.append("| measure | measured | projected tokens | within one cell | vision features (head's input) | within one cell |\n");
        b.append("|---|---|---|---|---|---|\n");
        for (int i = 0; i < report.tokens().size(); i++) {
            Row t = report.tokens().get(i);
            Row f = report.features().get(i);
            b.append(String.format("| %s | %d | %.1f%% | %s | %.1f%% | %s |%n", t.measure(), t.count(), t.exact(),
                    percent(t.withinOne()), f.exact(), percent(f.withinOne())));
        }
        return b.toString();
    }

    /**
     * The decoder stages as a Markdown table: per stage, object patches' column and row read exactly, background
     * patches' column, and pairs of objects ordered.
     */
    public static String decoderTable(Report report, int images) {
        StringBuilder b = new StringBuilder("Position read-out in the decoder: the same classifier on the hidden states "
                + "at the visual tokens' slots (the image's own question as the text), " + split(images));
        b.append("| stage | ").append(STAGE_COLUMNS).append(" |\n|---|---|---|---|---|---|\n");
        for (int st = 0; st < report.decoder().size(); st++) {
            b.append("| ").append(st == 0 ? "before layer 1 (tokens)" : "after layer " + st).append(" | ")
                    .append(stageCells(report.decoder().get(st))).append(" |\n");
        }
        return b.toString();
    }

    /** The value read-outs as a Markdown table: per decoder layer and key-value head, as {@link #decoderTable}. */
    public static String valuesTable(Report report, int images) {
        StringBuilder b = new StringBuilder("Position read-out in the values: the same classifier on each decoder "
                + "layer's value vectors of the visual tokens (what its attention returns), per key-value head, "
                + split(images));
        b.append("| layer | kv head | ").append(STAGE_COLUMNS).append(" |\n|---|---|---|---|---|---|---|\n");
        for (int l = 0; l < report.values().size(); l++) {
            for (int k = 0; k < report.values().get(l).size(); k++) {
                b.append("| ").append(l + 1).append(" | ").append(k).append(" | ")
                        .append(stageCells(report.values().get(l).get(k))).append(" |\n");
            }
        }
        return b.toString();
    }

    /** The tables' fit and measured halves, ending the heading line. */
    private static String split(int images) {
        int fit = (images + 1) / 2;
        return String.format("fit on the %d first held-out images, measured on the other %d%n%n", fit, images - fit);
    }

    /** Columns of the decoder and value tables: the measures {@link #stageCells} gives. */
    private static final String STAGE_COLUMNS = "object columns | object rows | background columns | "
            + "left/right of two objects | above/below of two objects";

    /** One stage's measures ({@link #measure}'s rows): object columns and rows, background columns, pairs ordered. */
    private static String stageCells(List<Row> r) {
        return String.format("%.1f%% | %.1f%% | %.1f%% | %s | %s", r.get(0).exact(), r.get(1).exact(), r.get(2).exact(),
                percent(r.get(4).exact()), percent(r.get(5).exact()));
    }

    private static String percent(double share) {
        return Double.isNaN(share) ? "-" : String.format("%.1f%%", share);
    }

    private static double share(int right, int total) {
        return total == 0 ? Double.NaN : 100.0 * right / total;
    }
}
