package io.tokensieve.core.prune;

import java.util.List;

/**
 * A pruning method registered through {@code META-INF/services/io.tokensieve.core.prune.PrunerProvider}.
 * Providers are stateless factories; {@link #create} validates parameters and returns an immutable pruner.
 */
public interface PrunerProvider {
    /** Registry id, lower case ({@code fastv}). */
    String id();

    /** One line: what the method does. */
    String summary();

    /** The paper (title, arXiv id), or "-" for plain baselines. */
    String paper();

    /** Method-specific parameters (the universal keep, scope, position and seed are added by the registry). */
    List<ParamSpec> parameters();

    /** Default {@code keep} when the spec gives none. */
    default String defaultKeep() {
        return "1.0";
    }

    /** What the budget counts for this method. */
    BudgetConvention budgetConvention();

    Pruner create(PrunerParams params);
}
