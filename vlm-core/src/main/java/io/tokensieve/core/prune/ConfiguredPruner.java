package io.tokensieve.core.prune;

import java.util.Map;

/**
 * A pruner with everything a request needs: the spec it came from, its budget, the position policy and
 * the seed. Immutable and thread-safe.
 */
public record ConfiguredPruner(String spec, String id, Pruner pruner, Budget budget, PositionPolicy positions,
                               long seed, Map<String, String> params) {
    public BudgetConvention convention() {
        return pruner.budgetConvention();
    }
}
