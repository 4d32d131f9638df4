package io.tokensieve.pruners;

import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.ParamSpec;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.PrunerParams;
import io.tokensieve.core.prune.PrunerProvider;
import io.tokensieve.pruners.analysis.ScheduleFile;

import java.nio.file.Path;
import java.util.List;

/**
 * AdaToken-3D: dynamic spatial gating inside the LLM. At each stage boundary b the attention that the last
 * prompt token would pay in layer b (recomputed from layer b's weights, averaged over heads) ranks the
 * spatial tokens still live, and the stage keeps {@code floor(N * rho_k)} of them; every other token is
 * kept. "AdaToken-3D: Dynamic Spatial Gating for Efficient 3D Large Multimodal-Models Reasoning", Zhang,
 * Chen and Zhang, arXiv 2505.12782.
 *
 * <p>Spatial tokens are the tokens of multi-view images ({@link ImageSpan#multiView()}, images given with
 * per-patch xyz origins); plain images in the same request are kept whole. A request without multi-view
 * images has no other kind of token to protect, so there all visual tokens count as spatial (a plain image
 * is treated as one view). {@code spatial=all} gates every image in every request.
 *
 * <p>Schedule: boundaries 8/16/24 (hooks {@code BEFORE_LAYER(b)}, after layers b-1 have run, as in the
 * reference) and ratios 0.5/0.25/0.125 of the original spatial tokens, the reference's committed defaults.
 * Boundaries are given for a 32-layer model and mapped by relative depth ({@link ModelShape#scaleLayer}),
 * kept at least 1, distinct and below the last layer (4 layers: 1/2/3; 8 layers: 2/4/6).
 * {@code schedule=FILE} loads boundaries and ratios from {@code sieve analyze --method adatoken3d} (the
 * information-flow profile of spec section 5.1; boundaries in the analysed model's layers, mapped by
 * relative depth if the model differs).
 *
 * <p>Budget (layer average over all visual tokens of the request): the ratio schedule is scaled as
 * {@code rho_k^t}, the generalisation of PDrop's geometric {@code lambda} ({@code 0.5^k -> lambda^k}), with
 * {@code t} solved from keep and single tokens added so the equivalent average is within one token
 * ({@link StagePlan}); tokens of plain images kept whole count in full, and their excess over their share
 * is taken from the spatial tokens. The gate is shared with {@code pdrop} ({@link StageGate}).
 *
 * <p>Differences from the reference code: spatial tokens are per-view patch tokens (the runtime does not
 * voxel-pool views; ranking covers every view's tokens); ratios are scaled to the budget instead of fixed;
 * with scope image (the default) each view is ranked with its own count, scope request ranks the whole
 * spatial span jointly as the reference does; ties go to the lower index; when the budget is too small for
 * layers before the first boundary to see every token, the first stage moves to {@code BEFORE_LAYER(0)};
 * positions are renumbered by default like the reference ({@code position=keep} keeps them).
 */
public final class AdaToken3dPruner implements PrunerProvider {
    static final String ID = "adatoken3d";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "3D spatial-token gating by the last prompt token's attention at stage boundaries, layer-wise schedule";
    }

    @Override
    public String paper() {
        return "AdaToken-3D: Dynamic Spatial Gating for Efficient 3D Large Multimodal-Models Reasoning, arXiv 2505.12782";
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(
                ParamSpec.ofIntList("boundaries", "8/16/24", "stage starts (before these layers of a 32-layer model, "
                        + "mapped to depth)"),
                ParamSpec.ofDoubleList("ratios", "0.5/0.25/0.125", "share of the spatial tokens kept from each "
                        + "boundary on, scaled as ratio^t with t solved from keep"),
                ParamSpec.ofEnum("spatial", "multiview", "which tokens are gated: those of multi-view images (all "
                        + "tokens when a request has none) or every image's", "multiview", "all"),
                new ParamSpec("schedule", "path", "none", "boundaries and ratios from a file written by sieve analyze "
                        + "--method adatoken3d (overrides boundaries and ratios)", List.of()));
    }

    @Override
    public String defaultKeep() {
        return "0.25";
    }

    @Override
    public BudgetConvention budgetConvention() {
        return BudgetConvention.LAYER_AVERAGE;
    }

    @Override
    public Pruner create(PrunerParams params) {
        int[] b = params.getIntList("boundaries");
        double[] ratios = params.getDoubleList("ratios");
        int fromLayers = 32;
        if (!params.raw("schedule").equals("none")) {
            ScheduleFile.AdaToken f = ScheduleFile.readAdaToken(Path.of(params.raw("schedule")));
            b = f.boundaries();
            ratios = f.ratios();
            fromLayers = f.layers();
        } else {
            if (!StageLayers.valid(b, 1, 31)) {
                throw params.bad("boundaries", params.raw("boundaries"), "ascending layers of a 32-layer model in 1..31");
            }
            if (ratios.length != b.length) {
                throw params.bad("ratios", params.raw("ratios"), "one ratio per boundary (" + b.length + ")");
            }
            for (int k = 0; k < ratios.length; k++) {
                if (!(ratios[k] > 0 && ratios[k] <= 1) || (k > 0 && ratios[k] > ratios[k - 1])) {
                    throw params.bad("ratios", params.raw("ratios"), "non-increasing shares in (0, 1]");
                }
            }
        }
        boolean all = params.getEnum("spatial").equals("all");
        StageGate gate = new StageGate(ID, b, fromLayers, ratios, images -> gated(images, all));
        return gate.pruner();
    }

    /** Which images hold spatial tokens: the multi-view ones, or every image when there are none (or with all). */
    static boolean[] gated(List<ImageSpan> images, boolean all) {
        boolean anyMultiView = images.stream().anyMatch(ImageSpan::multiView);
        boolean[] g = new boolean[images.size()];
        for (ImageSpan s : images) {
            g[s.image()] = all || !anyMultiView || s.multiView();
        }
        return g;
    }
}
