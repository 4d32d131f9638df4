package io.tokensieve.pruners;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.Need;
import io.tokensieve.core.prune.ParamSpec;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.PrunerParams;
import io.tokensieve.core.prune.PrunerProvider;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Spatial average pooling to the budget: the pre-LLM baseline that uses no scores at all. Not a published
 * method (baselines.md has no section for it); the design is ours.
 *
 * <p>For an image whose grid is R x C and whose budget is k, k anchor cells are laid on a uniform
 * lattice: r = round(sqrt(k R / C)) anchor rows (raised until no row needs more than C anchors), row i
 * holding floor((i+1)k/r) - floor(ik/r) anchors, and anchor i of m along an axis of n cells sitting at
 * the centre of its stretch rounded down, ceil((i + 1/2) n/m - 1), so an exact subgrid (k = 16 on 8 x 8)
 * is plain stride-2 subsampling at rows and columns 0, 2, 4, 6. Every cell of the grid joins its nearest
 * anchor (Euclidean on row/column, ties to the anchor first in raster order), and with {@code merge=mean}
 * the anchor's projected embedding is replaced by the mean of the projected embeddings of its cell;
 * {@code merge=none} is plain strided downsampling. The budget is met exactly for any k from 1 to the
 * image's tokens, per image (a request-scope total is split over images by size).
 *
 * <p>It acts at PROJECTED (means of projector outputs, as pooling of LLaVA-style projected features does),
 * positions are renumbered by default. On models that keep CLS as a visual token, CLS is kept only when
 * the budget keeps every token of the image; the lattice covers the patches.
 */
public final class PoolPruner implements PrunerProvider {
    @Override
    public String id() {
        return "pool";
    }

    @Override
    public String summary() {
        return "spatial average pooling to the budget: anchors on a uniform lattice, each the mean of its cell";
    }

    @Override
    public String paper() {
        return "-";
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(ParamSpec.ofEnum("merge", "mean", "mean: each kept anchor becomes the mean of its cell's "
                + "projected embeddings; none: plain strided downsampling", "mean", "none"));
    }

    @Override
    public String defaultKeep() {
        return "0.25";
    }

    @Override
    public BudgetConvention budgetConvention() {
        return BudgetConvention.ENTERING_LLM;
    }

    @Override
    public Pruner create(PrunerParams params) {
        boolean mean = params.getEnum("merge").equals("mean");
        return new Pruner() {
            @Override
            public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
                return List.of(mean ? PruneStep.of("pool", HookPoint.PROJECTED, Need.HIDDEN_STATES)
                        : PruneStep.of("pool", HookPoint.PROJECTED));
            }

            @Override
            public PositionPolicy defaultPositionPolicy() {
                return PositionPolicy.RENUMBER;
            }

            @Override
            public PruneDecision decide(PruneContext ctx) {
                return pool(ctx, mean);
            }
        };
    }

    private static PruneDecision pool(PruneContext ctx, boolean mean) {
        int[] live = ctx.live();
        if (ctx.budget().budget().keepsAll() || live.length == 0) {
            return PruneDecision.keep(live);
        }
        float[][] rows = mean ? BaselineMath.rows(ctx.hidden()) : null; // [n, D] ordered as live
        List<Integer> kept = new ArrayList<>();
        List<Integer> replaced = new ArrayList<>();
        List<float[]> replacements = new ArrayList<>();
        float[] scores = new float[ctx.visualTotal()];
        Arrays.fill(scores, Float.NaN);
        for (ImageSpan span : ctx.images()) {
            int k = ctx.budget().forImage(span.image());
            int first = span.firstVisual() + (BaselineMath.hasClsToken(ctx, span) ? 1 : 0);
            int patches = span.gridRows() * span.gridCols();
            if (k == 0) { // a request-scope total can leave an image without tokens
                continue;
            }
            if (k >= span.count()) { // the whole image, CLS included
                for (int v = span.firstVisual(); v < span.endVisual(); v++) {
                    kept.add(v);
                }
                continue;
            }
            int[] anchors = lattice(span.gridRows(), span.gridCols(), k);
            int[] cell = cells(span.gridRows(), span.gridCols(), anchors);
            int[] size = new int[anchors.length];
            for (int c : cell) {
                size[c]++;
            }
            for (int a = 0; a < anchors.length; a++) {
                int v = first + anchors[a];
                kept.add(v);
                scores[v] = size[a];
                if (mean && size[a] > 1) {
                    List<float[]> members = new ArrayList<>();
                    for (int p = 0; p < patches; p++) {
                        if (cell[p] == a) {
                            members.add(rows[BaselineMath.indexIn(live, first + p)]);
                        }
                    }
                    replaced.add(v);
                    replacements.add(mean(members));
                }
            }
        }
        int[] keep = kept.stream().mapToInt(Integer::intValue).sorted().toArray();
        for (int v : keep) {
            if (Arrays.binarySearch(live, v) < 0) {
                throw new PruneException("pruner " + ctx.prunerId() + ": lattice token " + v + " is not live");
            }
        }
        PruneDecision d = PruneDecision.keep(keep).withScores(scores);
        if (replaced.isEmpty()) {
            return d;
        }
        NDArray r = BaselineMath.array(ctx.manager(), replacements.toArray(new float[0][]));
        return d.withReplacements(replaced.stream().mapToInt(Integer::intValue).toArray(), r);
    }

    /**
     * {@code k} anchor cells (raster indices row * cols + col, ascending) spread as evenly as possible over
     * a rows x cols grid; 1 <= k <= rows * cols.
     */
    static int[] lattice(int rows, int cols, int k) {
        if (k < 1 || k > rows * cols) {
            throw new IllegalArgumentException("cannot place " + k + " anchors on a " + rows + "x" + cols + " grid");
        }
        int r = (int) Math.round(Math.sqrt((double) k * rows / cols));
        r = Math.max(1, Math.min(r, Math.min(rows, k)));
        while ((k + r - 1) / r > cols) {
            r++;
        }
        int[] out = new int[k];
        int j = 0;
        for (int i = 0; i < r; i++) {
            int inRow = (int) ((long) (i + 1) * k / r - (long) i * k / r);
            int row = centre(i, rows, r);
            for (int c = 0; c < inRow; c++) {
                out[j++] = row * cols + centre(c, cols, inRow);
            }
        }
        return out;
    }

    /** Cell of anchor {@code i} of {@code m} along an axis of {@code n} cells: ceil((i + 1/2) n / m - 1). */
    static int centre(int i, int n, int m) {
        int num = (2 * i + 1) * n - 2 * m;
        return Math.max(0, Math.floorDiv(num + 2 * m - 1, 2 * m));
    }

    /** For every cell of the grid (raster order), the index of its nearest anchor (ties: lower anchor index). */
    static int[] cells(int rows, int cols, int[] anchors) {
        int[] out = new int[rows * cols];
        for (int p = 0; p < out.length; p++) {
            int pr = p / cols;
            int pc = p % cols;
            int best = -1;
            long bestD = Long.MAX_VALUE;
            for (int a = 0; a < anchors.length; a++) {
                long dr = pr - anchors[a] / cols;
                long dc = pc - anchors[a] % cols;
                long d = dr * dr + dc * dc;
                if (d < bestD) {
                    bestD = d;
                    best = a;
                }
            }
            out[p] = best;
        }
        return out;
    }

    /** Element-wise mean of rows (accumulated in double). */
    static float[] mean(List<float[]> rows) {
        double[] s = new double[rows.get(0).length];
        for (float[] r : rows) {
            for (int i = 0; i < s.length; i++) {
                s[i] += r[i];
            }
        }
        float[] out = new float[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = (float) (s[i] / rows.size());
        }
        return out;
    }
}
