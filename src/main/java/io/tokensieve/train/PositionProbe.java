package io.tokensieve.train;

import ai.djl.ndarray.NDManager;
import io.tokensieve.core.runtime.VlmModel;
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
     * Both read-outs of one model: from the projected visual tokens (what the decoder reads) and from the vision
     * features the patch-label head reads (the first feature layer), which tells a tower that loses position from a
     * projector that drops it.
     */
    public record Report(List<Row> tokens, List<Row> features) {}

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
        return new Report(measure(tokens, scenes, grid, tokens[0].length / per),
                measure(features, scenes, grid, features[0].length / per));
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
        int fit = (images + 1) / 2;
        StringBuilder b = new StringBuilder(String.format(
                "Position read-out: a linear classifier of each patch's column and row, fit on the %d first held-out "
                        + "images, measured on the other %d%n%n", fit, images - fit));
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

    private static String percent(double share) {
        return Double.isNaN(share) ? "-" : String.format("%.1f%%", share);
    }

    private static double share(int right, int total) {
        return total == 0 ? Double.NaN : 100.0 * right / total;
    }
}
