package io.tokensieve.pruners;

import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.ParamSpec;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.PrunerParams;
import io.tokensieve.core.prune.PrunerProvider;

import java.util.List;

/** The unpruned reference: no steps at all, so outputs are bit-identical to running without a pruner. */
public final class NonePruner implements Pruner, PrunerProvider {
    @Override
    public String id() {
        return "none";
    }

    @Override
    public String summary() {
        return "no pruning: the unpruned reference every sweep compares against";
    }

    @Override
    public String paper() {
        return "-";
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of();
    }

    @Override
    public BudgetConvention budgetConvention() {
        return BudgetConvention.ENTERING_LLM;
    }

    @Override
    public Pruner create(PrunerParams params) {
        return this;
    }

    @Override
    public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
        return List.of();
    }

    @Override
    public PruneDecision decide(PruneContext ctx) {
        throw new PruneException("pruner none has no steps");
    }
}
