package io.tokensieve.pruners;

import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.ParamSpec;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.PrunerParams;
import io.tokensieve.core.prune.PrunerProvider;

import java.util.Arrays;
import java.util.List;

/**
 * PyramidDrop: at each stage boundary b the last prompt token's attention in layer b (recomputed from that
 * layer's weights, averaged over heads) ranks the visual tokens still live, and stage k keeps
 * {@code floor(N * lambda^k)} of the N visual tokens, so the live sets shrink geometrically and are nested.
 * "PyramidDrop: Accelerating Your Large Vision-Language Models via Pyramid Visual Redundancy Reduction",
 * Xing et al., arXiv 2410.17247.
 *
 * <p>Boundaries are hooks {@code BEFORE_LAYER(b)} (after layers b-1 have run, as in the reference), given
 * for a 32-layer model and mapped by relative depth ({@link ModelShape#scaleLayer}), kept at least 1,
 * distinct and below the last layer; boundaries that do not fit merge into the last stage (4 layers:
 * 1/2/3; 8 layers: 1/2/4/6).
 *
 * <p>Budget (layer average): {@code lambda} is solved from keep, as for the specification's presets for
 * 192/128/64 tokens (boundaries 2/8/16/24 with lambda 0.58/0.44/0.20 on LLaVA-1.5), then single tokens are
 * added so the equivalent average is within one token of the budget ({@link StagePlan}). The gate is shared
 * with {@code adatoken3d} ({@link StageGate}); PDrop gates every visual token of the request.
 *
 * <p>Differences from the reference code: default boundaries 2/8/16/24 (the paper's 8/16/24 with
 * lambda 0.5 averages 47% of the tokens and cannot reach smaller budgets; pass {@code boundaries=8/16/24}
 * for its layers) with lambda from the budget instead of a fixed 0.5; ties go to the lower index; several
 * images are ranked per image with per-image counts (scope image) or jointly (scope request); when the
 * budget is too small for layers before the first boundary to see every token, the first stage moves to
 * {@code BEFORE_LAYER(0)}; positions are renumbered by default like the reference, {@code position=keep}
 * keeps the original ones.
 */
public final class PyramidDropPruner implements PrunerProvider {
    static final String ID = "pdrop";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String summary() {
        return "multi-stage in-LLM pruning by the last prompt token's attention, geometric stage sizes lambda^k";
    }

    @Override
    public String paper() {
        return "PyramidDrop: Accelerating Your Large Vision-Language Models via Pyramid Visual Redundancy Reduction, "
                + "arXiv 2410.17247";
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(ParamSpec.ofIntList("boundaries", "2/8/16/24", "stage starts (before these layers of a "
                + "32-layer model, mapped to depth); stage k keeps floor(N*lambda^k), lambda solved from keep"));
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
        if (!StageLayers.valid(b, 1, 31)) {
            throw params.bad("boundaries", params.raw("boundaries"), "ascending layers of a 32-layer model in 1..31");
        }
        double[] ratios = new double[b.length];
        for (int k = 0; k < b.length; k++) {
            ratios[k] = Math.pow(0.5, k + 1);
        }
        StageGate gate = new StageGate(ID, b, 32, ratios, images -> {
            boolean[] all = new boolean[images.size()];
            Arrays.fill(all, true);
            return all;
        });
        return gate.pruner();
    }

    /** PDrop's lambda for a plan's group (the solver's scale, before single-token adjustments). */
    static double lambda(StagePlan plan, int group) {
        StageGate.PowerRule rule = new StageGate.PowerRule(new double[] {0.5});
        return Math.pow(0.5, rule.exponent(plan.scale(group), plan.groups().get(group).size()));
    }
}
