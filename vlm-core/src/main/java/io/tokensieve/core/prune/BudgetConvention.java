package io.tokensieve.core.prune;

/**
 * What a pruner's budget counts, since published tables mix conventions. The core checks the budget by
 * the pruner's convention after prefill.
 */
public enum BudgetConvention {
    /** Exactly the budget of visual tokens enters decoder layer 0. */
    ENTERING_LLM,
    /** Exactly the budget of visual tokens remains after the last step (earlier layers may see more). */
    FINAL,
    /** The equivalent average over decoder layers (sum of live visual tokens / layers) is within one token. */
    LAYER_AVERAGE;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
