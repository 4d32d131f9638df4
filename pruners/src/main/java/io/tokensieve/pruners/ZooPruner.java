package io.tokensieve.pruners;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.Need;
import io.tokensieve.core.prune.ParamSpec;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.PrunerParams;
import io.tokensieve.core.prune.PrunerProvider;
import io.tokensieve.core.prune.ResolvedBudget;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * ZOO-Prune: zeroth-order sensitivity of each visual token at the projector, then a greedy selection that
 * multiplies sensitivity by diversity (SADS). "ZOO-Prune: Training-Free Token Pruning via Zeroth-Order
 * Gradient Estimation in Vision-Language Models", Kim et al., arXiv 2509.24837 (CVPR 2026).
 *
 * <p>One step at {@code PROJECTED} (needs {@code PROJECTOR}): the projector inputs {@code X} of the live
 * tokens are perturbed along {@code perturbations} random unit directions by {@code +-step}, both batches go
 * through the model's projector, and {@code S(i)} is the mean over directions of the central-difference norm
 * (spec 3.2). The kept set is the SADS greedy pick on the projected embeddings (spec 3.3), per image with
 * the per-image budget (scope image) or over all tokens of the request with its total (scope request).
 * The budget counts the visual tokens entering the LLM; positions are renumbered compactly by default, as
 * the reference code lets the LLM number the shortened sequence ({@code position=keep} keeps the gaps).
 *
 * <p>Differences from the reference code: the sensitivity runs in float32 (the reference casts perturbed
 * inputs to half, which rounds most perturbation components away; {@code precision=fp16-inputs} rounds the
 * perturbed inputs to IEEE half before the float32 projector to reproduce that effect, since DJL runs this
 * projector in float32 only); directions come from the request's seed through {@code java.util.Random}
 * (the reference draws from the global, unseeded torch RNG), so individual draws differ; directions are
 * pushed {@code chunk} at a time (the same S up to float summation order); the keep count is the resolved
 * budget ({@code round(keep * N)}) instead of {@code floor(ratio * N)}; several images (and batches) are
 * handled per image instead of sample 0 with a hard-coded 35-token prefix; ties go to the lowest index; the
 * optional {@code degenerateTol} treats a nearly constant S as constant (default 0 = the reference's exact
 * test); per-token directions ({@code directions=per-token}) follow the paper's notation. The LLaVA-NeXT
 * variant (per-crop selection, newline tokens, a rank-128 projector) does not apply to this runtime, which
 * has no anyres crops.
 */
public final class ZooPruner implements PrunerProvider {
    @Override
    public String id() {
        return "zoo";
    }

    @Override
    public String summary() {
        return "zeroth-order sensitivity of each token at the projector, then sensitivity x diversity greedy selection";
    }

    @Override
    public String paper() {
        return "ZOO-Prune: Training-Free Token Pruning via Zeroth-Order Gradient Estimation in Vision-Language Models, "
                + "arXiv 2509.24837";
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(
                ParamSpec.ofInt("perturbations", "64", "m: random unit directions per token (>= 1)"),
                ParamSpec.ofDouble("step", "0.01", "h: finite-difference step (> 0)"),
                ParamSpec.ofInt("chunk", "8", "directions pushed through the projector at once (bounds memory)"),
                ParamSpec.ofEnum("precision", "fp32", "fp32: float32 throughout; fp16-inputs: perturbed inputs "
                        + "rounded to IEEE half first, as the reference's half-precision inputs", "fp32", "fp16-inputs"),
                ParamSpec.ofEnum("directions", "shared", "shared: one bank for every token (code); per-token: "
                        + "independent directions per token (paper notation)", "shared", "per-token"),
                ParamSpec.ofDouble("degenerateTol", "0", "treat S as constant when max-min <= tol*max|S| "
                        + "(0 = exact equality, as the reference)"));
    }

    @Override
    public String defaultKeep() {
        return "0.25";
    }

    @Override
    public BudgetConvention budgetConvention() {
        return BudgetConvention.ENTERING_LLM;
    }

    /** The validated settings of one zoo pruner. */
    record Settings(int perturbations, double step, int chunk, boolean fp16Inputs, boolean perToken,
                    double degenerateTol) {}

    @Override
    public Pruner create(PrunerParams params) {
        int m = params.getInt("perturbations");
        if (m < 1) {
            throw params.bad("perturbations", String.valueOf(m), "at least 1");
        }
        double h = params.getDouble("step");
        if (!(h > 0)) {
            throw params.bad("step", params.raw("step"), "a positive number");
        }
        int chunk = params.getInt("chunk");
        if (chunk < 1) {
            throw params.bad("chunk", String.valueOf(chunk), "at least 1");
        }
        double tol = params.getDouble("degenerateTol");
        if (tol < 0) {
            throw params.bad("degenerateTol", params.raw("degenerateTol"), "at least 0");
        }
        Settings s = new Settings(m, h, chunk, params.getEnum("precision").equals("fp16-inputs"),
                params.getEnum("directions").equals("per-token"), tol);
        return new ZooPrunerImpl(s);
    }

    private static final class ZooPrunerImpl implements Pruner {
        private final Settings s;

        ZooPrunerImpl(Settings s) {
            this.s = s;
        }

        @Override
        public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
            return images.isEmpty() ? List.of() : List.of(PruneStep.of("sads", HookPoint.PROJECTED, Need.PROJECTOR));
        }

        @Override
        public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images, ResolvedBudget budget) {
            return budget.budget().keepsAll() ? List.of() : schedule(model, images);
        }

        @Override
        public BudgetConvention budgetConvention() {
            return BudgetConvention.ENTERING_LLM;
        }

        @Override
        public PositionPolicy defaultPositionPolicy() {
            return PositionPolicy.RENUMBER;
        }

        @Override
        public PruneDecision decide(PruneContext ctx) {
            int[] live = ctx.live();
            if (ctx.budget().budget().keepsAll() || live.length == 0) {
                return PruneDecision.keep(live);
            }
            NDManager mgr = ctx.manager();
            NDArray idx = mgr.create(Arrays.stream(live).asLongStream().toArray());
            NDArray x = ctx.features().get(new NDIndex("{}", idx)); // [n, Dv']
            NDArray z = ctx.projected().get(new NDIndex("{}", idx)); // [n, D]
            int n = live.length;
            int dv = (int) x.getShape().get(1);
            float[][][] u = ZooMath.directions(ctx.random(), s.perturbations(), n, dv, s.perToken());
            double[] sens = sensitivity(x, ctx.projector(), u, s.step(), s.chunk(), s.fp16Inputs(), mgr);
            float[][] zRows = rows(z);

            boolean request = ctx.budget().budget().scope() == Budget.Scope.REQUEST;
            List<int[]> groups = new ArrayList<>(); // positions into live
            List<Integer> quotas = new ArrayList<>();
            if (request) {
                int[] all = new int[n];
                Arrays.setAll(all, i -> i);
                groups.add(all);
                quotas.add(ctx.budget().total());
            } else {
                for (ImageSpan span : ctx.images()) {
                    groups.add(java.util.stream.IntStream.range(0, n).filter(i -> span.contains(live[i])).toArray());
                    quotas.add(ctx.budget().forImage(span.image()));
                }
            }
            List<Integer> kept = new ArrayList<>();
            for (int g = 0; g < groups.size(); g++) {
                int[] pos = groups.get(g);
                float[][] zg = new float[pos.length][];
                double[] sg = new double[pos.length];
                for (int i = 0; i < pos.length; i++) {
                    zg[i] = zRows[pos[i]];
                    sg[i] = sens[pos[i]];
                }
                for (int p : ZooMath.sadsSelect(zg, sg, quotas.get(g), s.degenerateTol())) {
                    kept.add(live[pos[p]]);
                }
            }
            int[] out = kept.stream().mapToInt(Integer::intValue).sorted().toArray();
            float[] vals = new float[n];
            for (int i = 0; i < n; i++) {
                vals[i] = (float) sens[i];
            }
            return PruneDecision.keep(out).withScores(Select.scoresOf(ctx.visualTotal(), live, vals));
        }
    }

    /**
     * The sensitivity of {@code x} [n, Dv'] under the DJL row map {@code projector}, chunk by chunk in
     * sub-managers of {@code mgr}; the same quantity as {@link ZooMath#sensitivity}.
     */
    static double[] sensitivity(NDArray x, UnaryOperator<NDArray> projector, float[][][] u, double h, int chunk,
                                boolean fp16Inputs, NDManager mgr) {
        int n = (int) x.getShape().get(0);
        int d = (int) x.getShape().get(1);
        int m = u.length;
        double[] s = new double[n];
        if (n == 0) {
            return s;
        }
        int rows = u[0].length; // 1 (shared) or n (per token)
        NDArray x3 = x.expandDims(0); // [1, n, Dv']
        for (int j0 = 0; j0 < m; j0 += chunk) {
            int c = Math.min(chunk, m - j0);
            float[] flat = new float[c * rows * d];
            for (int jj = 0; jj < c; jj++) {
                for (int i = 0; i < rows; i++) {
                    System.arraycopy(u[j0 + jj][i], 0, flat, (jj * rows + i) * d, d);
                }
            }
            try (NDManager sub = mgr.newSubManager()) {
                NDArray step = sub.create(flat, new Shape(c, rows, d)).mul((float) h); // [c, 1|n, Dv']
                NDArray plus = step.add(x3).reshape(c * (long) n, d); // [c*n, Dv']
                NDArray minus = step.neg().add(x3).reshape(c * (long) n, d);
                if (fp16Inputs) {
                    plus = plus.toType(DataType.FLOAT16, false).toType(DataType.FLOAT32, false);
                    minus = minus.toType(DataType.FLOAT16, false).toType(DataType.FLOAT32, false);
                }
                NDArray diff = projector.apply(plus).sub(projector.apply(minus)).div((float) (2 * h)); // [c*n, D]
                float[] norms = diff.square().sum(new int[] {1}).sqrt().toFloatArray(); // [c*n]
                for (int r = 0; r < norms.length; r++) {
                    s[r % n] += norms[r];
                }
            }
        }
        for (int i = 0; i < n; i++) {
            s[i] /= m;
        }
        return s;
    }

    /** A [n, D] float array as Java rows. */
    static float[][] rows(NDArray a) {
        int n = (int) a.getShape().get(0);
        int d = (int) a.getShape().get(1);
        float[] flat = a.toFloatArray();
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            out[i] = Arrays.copyOfRange(flat, i * d, (i + 1) * d);
        }
        return out;
    }
}
