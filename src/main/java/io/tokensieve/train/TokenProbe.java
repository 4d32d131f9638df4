package io.tokensieve.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.image.RgbImage;
import io.tokensieve.core.model.ClipVisionModel;
import io.tokensieve.core.model.LlavaForConditionalGeneration;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.weights.SafetensorsReader;
import io.tokensieve.datasets.shapes.PatchLabels;
import io.tokensieve.datasets.shapes.PosedView;
import io.tokensieve.datasets.shapes.Scene3dExample;
import io.tokensieve.datasets.shapes.ShapesBench;
import io.tokensieve.datasets.shapes.VqaExample;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How much of each patch label (colour, shape, printed character) reaches a trained model's visual tokens, on
 * held-out ShapesBench images: per labelled patch, is the nearest word of that kind (cosine against the text
 * embedding table) to the projected visual token its label's word; and, when the run's checkpoint keeps the
 * training-only patch-label head, does that head read the label from the vision features. Separates "lost in the
 * vision tower" from "lost in the decoder". A last row asks the same of whole objects: is an object's shape read
 * right from the mean, over the patches it owns, of the cosines to each shape word (or of the head's logits), which
 * is what a decoder attending to the object could at best combine. Two more rows ask colour and 3D shape of the
 * views of held-out 3D examples.
 */
public final class TokenProbe {
    /** Held-out images come from this ShapesBench seed (neither training data, 1000+, nor the test split, 11). */
    public static final long SEED = 777;
    private static final String[] KINDS = {"colour", "shape", "character"};

    /**
     * One label kind.
     *
     * @param patches labelled patches measured (objects, for the per-object row)
     * @param nearestWord share of them whose projected token is nearest to their label's word among the kind's words
     * @param head share the patch-label head reads right from the vision features (NaN without the head)
     */
    public record Row(String kind, int patches, double nearestWord, double head) {}

    private TokenProbe() {}

    /** Measures {@code images} held-out images; {@code auxHead} is the run's checkpoint head file or null. */
    public static List<Row> run(VlmModel vm, Path auxHead, int images) throws IOException {
        if (images < 1) {
            throw new IllegalArgumentException("the token probe needs at least one image, got " + images);
        }
        LlavaForConditionalGeneration model = vm.model();
        LlavaConfig c = vm.config();
        int per = c.vision().numPatches();
        int grid = (int) Math.round(Math.sqrt(per));
        int d = (int) c.text().hiddenSize();
        String[][] words = PatchLabels.words();
        int[][] ids = new int[KINDS.length][]; // token of each label word in the model's vocabulary, -1 if not one token
        for (int k = 0; k < KINDS.length; k++) {
            ids[k] = new int[words[k].length];
            for (int cls = 1; cls < words[k].length; cls++) {
                long[] t = vm.tokenizer().encodePlain(words[k][cls]);
                ids[k][cls] = t.length == 1 ? (int) t[0] : -1;
            }
        }
        SafetensorsReader head = auxHead != null && Files.isRegularFile(auxHead) ? SafetensorsReader.openFile(auxHead) : null;
        float[] table = model.languageModel().embedTokens().toFloatArray(); // [V * D]
        int[] total = new int[KINDS.length];
        int[] nearest = new int[KINDS.length];
        int[] headRight = new int[KINDS.length];
        int shape = 1;
        int objects = 0;
        int objectNearest = 0;
        int objectHead = 0;
        for (int i = 0; i < images; i++) {
            VqaExample v = ShapesBench.vqa(SEED, i * ShapesBench.VQA_QUESTIONS_PER_IMAGE);
            int[][] labels = PatchLabels.of(v.scene(), grid);
            int[] owner = PatchLabels.objects(v.scene(), grid);
            try (NDManager m = NDManager.newBaseManager(vm.device())) {
                Encoded e = encode(vm, m, v.image());
                float[] vis = e.projected();
                NDArray feats = e.features();
                for (int k = 0; k < KINDS.length; k++) {
                    double[] logits = null;
                    int classes = words[k].length;
                    if (head != null) {
                        NDArray w = m.create(head.readFloats("aux." + k + ".weight"), new Shape(classes, feats.getShape().get(1)));
                        NDArray b = m.create(head.readFloats("aux." + k + ".bias"));
                        logits = toDoubles(feats.matMul(w.transpose()).add(b).toFloatArray()); // [N * C]
                    }
                    double[] cos = cosines(vis, per, table, ids[k], d); // [N * C], -inf for no word
                    if (k == shape) {
                        int[] right = objectVotes(v.scene().objects().size(), owner, labels[k], cos, logits, classes);
                        objects += right[0];
                        objectNearest += right[1];
                        objectHead += right[2];
                    }
                    for (int p = 0; p < per; p++) {
                        int y = labels[k][p];
                        if (y == 0) {
                            continue;
                        }
                        total[k]++;
                        if (1 + argmax(cos, p * classes + 1, classes - 1) == y && cos[p * classes + y] > Double.NEGATIVE_INFINITY) {
                            nearest[k]++;
                        }
                        if (logits != null && argmax(logits, p * classes, classes) == y) {
                            headRight[k]++;
                        }
                    }
                }
            }
        }
        List<Row> rows = new ArrayList<>();
        for (int k = 0; k < KINDS.length; k++) {
            rows.add(new Row(KINDS[k], total[k], share(nearest[k], total[k]),
                    head == null ? Double.NaN : share(headRight[k], total[k])));
        }
        rows.add(new Row("shape, per object", objects, share(objectNearest, objects),
                head == null ? Double.NaN : share(objectHead, objects)));
        rows.addAll(views(vm, head, images, ids[0], table));
        return rows;
    }

    /**
     * The same for the views of {@code scenes} held-out 3D examples ({@link ShapesBench#DEFAULT_VIEWS} each, tokens with
     * their 3D position embedding, as the decoder gets them): colour (with the head's colour kind, if any) and 3D shape
     * ({@link PatchLabels#ofView}), by nearest word alone: the head's 3D shape kind exists only in runs with
     * {@link TrainSettings#label3d}.
     */
    private static List<Row> views(VlmModel vm, SafetensorsReader head, int scenes, int[] colourIds, float[] table)
            throws IOException {
        int per = vm.config().vision().numPatches();
        int grid = (int) Math.round(Math.sqrt(per));
        int d = (int) vm.config().text().hiddenSize();
        String[] shapeWords = PatchLabels.words3d();
        int[] shapeIds = new int[shapeWords.length];
        shapeIds[0] = -1; // background: no word
        for (int cls = 1; cls < shapeWords.length; cls++) {
            long[] t = vm.tokenizer().encodePlain(shapeWords[cls]);
            shapeIds[cls] = t.length == 1 ? (int) t[0] : -1;
        }
        int[] total = new int[2];
        int[] nearest = new int[2];
        int colourHead = 0;
        for (int i = 0; i < scenes; i++) {
            Scene3dExample ex = ShapesBench.scene3d(SEED, i, ShapesBench.DEFAULT_VIEWS);
            for (PosedView view : ex.views()) {
                int[][] l = PatchLabels.ofView(view, ex.scene(), grid);
                try (NDManager m = NDManager.newBaseManager(vm.device())) {
                    Encoded e = encode(vm, m, view.colour(), ShapesTrainData.xyz(view, grid));
                    double[][] cos = {cosines(e.projected(), per, table, colourIds, d), cosines(e.projected(), per, table, shapeIds, d)};
                    int[][] labels = {l[0], l[3]};
                    double[] logits = null;
                    if (head != null) {
                        int classes = colourIds.length;
                        NDArray w = m.create(head.readFloats("aux.0.weight"), new Shape(classes, e.features().getShape().get(1)));
                        logits = toDoubles(e.features().matMul(w.transpose()).add(m.create(head.readFloats("aux.0.bias")))
                                .toFloatArray()); // [N * C]
                    }
                    for (int k = 0; k < 2; k++) {
                        int classes = k == 0 ? colourIds.length : shapeIds.length;
                        for (int p = 0; p < per; p++) {
                            int y = labels[k][p];
                            if (y == 0) {
                                continue;
                            }
                            total[k]++;
                            if (1 + argmax(cos[k], p * classes + 1, classes - 1) == y
                                    && cos[k][p * classes + y] > Double.NEGATIVE_INFINITY) {
                                nearest[k]++;
                            }
                            if (k == 0 && logits != null && argmax(logits, p * classes, classes) == y) {
                                colourHead++;
                            }
                        }
                    }
                }
            }
        }
        return List.of(new Row("colour, 3D views", total[0], share(nearest[0], total[0]),
                        head == null ? Double.NaN : share(colourHead, total[0])),
                new Row("3D shape, 3D views", total[1], share(nearest[1], total[1]), Double.NaN));
    }

    /**
     * One image through the vision tower and projector, as training sees it (quantised pixels).
     *
     * @param features the first feature layer's patch features {@code [N, Dv]} (what the patch-label head reads)
     * @param projected the projected visual tokens {@code [N * D]} (what the decoder reads)
     */
    record Encoded(NDArray features, float[] projected) {}

    static Encoded encode(VlmModel vm, NDManager m, RgbImage image) {
        return encode(vm, m, image, null);
    }

    /** As {@link #encode(VlmModel, NDManager, RgbImage)} for a view whose patches have xyz origins (null for none). */
    static Encoded encode(VlmModel vm, NDManager m, RgbImage image, float[][] xyz) {
        LlavaForConditionalGeneration model = vm.model();
        int size = vm.config().vision().imageSize();
        int[] fl = vm.config().resolvedFeatureLayers();
        float[] px = vm.processor().preprocess(ShapesTrainData.quantised(image)).chw();
        List<NDArray> hs = model.visionTower().hiddenStates(m.create(px, new Shape(1, 3, size, size)),
                Arrays.stream(fl).max().orElse(0));
        NDArray f = ClipVisionModel.select(hs, fl).get(":, 1:, :"); // [1, N, Dv]
        List<float[][]> origins = xyz == null ? null : List.<float[][]>of(xyz);
        f = model.addPositionEmbeddings(m, f, origins, false); // as the decoder gets it
        int n = (int) f.getShape().get(1);
        float[] vis = model.project(m, f.reshape(n, -1), // [N * D], with a 2D embedding after the projector if any
                LlavaForConditionalGeneration.cells(null, 1, n, false, origins)).toFloatArray();
        return new Encoded(hs.get(fl[0]).get("0, 1:, :"), vis); // [N, Dv], [N * D]
    }

    /** Cosine of each patch's projected token to each class word, {@code [patches * classes]}; -inf where no word. */
    private static double[] cosines(float[] vis, int patches, float[] table, int[] ids, int d) {
        int classes = ids.length;
        double[] cos = new double[patches * classes];
        for (int p = 0; p < patches; p++) {
            for (int cls = 0; cls < classes; cls++) {
                cos[p * classes + cls] = ids[cls] < 0 ? Double.NEGATIVE_INFINITY : cosine(vis, p, table, ids[cls], d);
            }
        }
        return cos;
    }

    /**
     * {objects measured, read right from the mean cosine to each word, read right from the mean head logits}: every
     * object owning a labelled patch, its class (background left out) read from all of its patches together.
     */
    private static int[] objectVotes(int count, int[] owner, int[] label, double[] cos, double[] logits, int classes) {
        double[] cosSum = new double[count * classes];
        double[] logitSum = new double[count * classes];
        int[] y = new int[count];
        for (int p = 0; p < owner.length; p++) {
            if (owner[p] < 0 || label[p] == 0) {
                continue;
            }
            y[owner[p]] = label[p];
            for (int cls = 1; cls < classes; cls++) {
                cosSum[owner[p] * classes + cls] += cos[p * classes + cls];
                if (logits != null) {
                    logitSum[owner[p] * classes + cls] += logits[p * classes + cls];
                }
            }
        }
        int[] out = new int[3];
        for (int o = 0; o < count; o++) {
            if (y[o] == 0) {
                continue;
            }
            out[0]++;
            if (1 + argmax(cosSum, o * classes + 1, classes - 1) == y[o] && cosSum[o * classes + y[o]] > Double.NEGATIVE_INFINITY) {
                out[1]++;
            }
            if (logits != null && 1 + argmax(logitSum, o * classes + 1, classes - 1) == y[o]) {
                out[2]++;
            }
        }
        return out;
    }

    /** The rows as a Markdown table. */
    public static String table(List<Row> rows, int images) {
        StringBuilder b = new StringBuilder(String.format("Visual-token probe: %d held-out images (ShapesBench seed %d)%n%n",
                images, SEED));
        b.append("| label | labelled patches | projected token nearest to its word | patch-label head on vision features |\n");
        b.append("|---|---|---|---|\n");
        for (Row r : rows) {
            b.append(String.format("| %s | %d | %.1f%% | %s |%n", r.kind(), r.patches(), r.nearestWord(),
                    Double.isNaN(r.head()) ? "- (no checkpoint head)" : String.format("%.1f%%", r.head())));
        }
        return b.toString();
    }

    private static double share(int right, int total) {
        return total == 0 ? Double.NaN : 100.0 * right / total;
    }

    private static int argmax(double[] x, int from, int n) {
        int best = 0;
        for (int k = 1; k < n; k++) {
            if (x[from + k] > x[from + best]) {
                best = k;
            }
        }
        return best;
    }

    private static double[] toDoubles(float[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i];
        }
        return out;
    }

    private static double cosine(float[] v, int row, float[] t, int token, int d) {
        double dot = 0;
        double a = 0;
        double b = 0;
        for (int k = 0; k < d; k++) {
            double x = v[row * d + k];
            double y = t[token * d + k];
            dot += x * y;
            a += x * x;
            b += y * y;
        }
        return dot / Math.sqrt(a * b + 1e-12);
    }
}
