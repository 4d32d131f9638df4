package io.tokensieve.core.prune;

import java.util.List;

/**
 * A visual-token pruning method. A pruner <em>decides</em>; the core <em>applies</em>: it declares a
 * schedule of steps at hook points with their needs, and for each step returns a {@link PruneDecision}
 * in the original visual-token index space. It never mutates model state. Instances are immutable and
 * shared across threads; per-request state goes in {@link PruneContext#state()}.
 *
 * <pre>{@code
 * ConfiguredPruner p = PrunerRegistry.global().create("fastv:layer=2,keep=0.25");
 * }</pre>
 */
public interface Pruner {
    /**
     * The ordered steps for one request on one model. Called once per request; steps must be sorted by
     * hook (VISION, PROJECTED, then layers ascending; several steps may share a hook).
     */
    List<PruneStep> schedule(ModelShape model, List<ImageSpan> images);

    /**
     * The ordered steps for one request whose budget is already resolved; the core calls this one. Pruners
     * that map the budget to their own schedule (layer boundaries that depend on how much is kept, or no
     * steps at all when everything is kept) override it; the default ignores the budget.
     */
    default List<PruneStep> schedule(ModelShape model, List<ImageSpan> images, ResolvedBudget budget) {
        return schedule(model, images);
    }

    /** Decides one step for one sample. */
    PruneDecision decide(PruneContext ctx);

    /** What the budget counts for this method. */
    default BudgetConvention budgetConvention() {
        return BudgetConvention.ENTERING_LLM;
    }

    /** Position policy used unless the spec says {@code position=...}. */
    default PositionPolicy defaultPositionPolicy() {
        return PositionPolicy.KEEP;
    }

    /** For {@link BudgetConvention#LAYER_AVERAGE} pruners: the planned live visual tokens entering each layer. */
    default int[] plannedCounts(ModelShape model, List<ImageSpan> images, ResolvedBudget budget) {
        return null;
    }
}
