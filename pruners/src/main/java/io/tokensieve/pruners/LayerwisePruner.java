package io.tokensieve.pruners;

import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.Pruner;

/**
 * A pruner whose budget is the layer average of live visual tokens and whose kept tokens are renumbered
 * (the stage-wise methods: AdaptInfer, SparseVLM, and the {@link StageGate} ones, AdaToken-3D and PyramidDrop).
 */
interface LayerwisePruner extends Pruner {
    @Override
    default BudgetConvention budgetConvention() {
        return BudgetConvention.LAYER_AVERAGE;
    }

    @Override
    default PositionPolicy defaultPositionPolicy() {
        return PositionPolicy.RENUMBER;
    }
}
