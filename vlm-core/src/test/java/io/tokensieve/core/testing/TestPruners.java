package io.tokensieve.core.testing;

import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.Pruner;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Small hand-written pruners for testing the core's side of the SPI. */
public final class TestPruners {
    private TestPruners() {}

    /**
     * One step per entry; each step decides with its function. Budget: everything kept after the last step
     * (convention final, keep=1.0).
     */
    public static ConfiguredPruner of(String id, List<PruneStep> steps, List<Function<PruneContext, PruneDecision>> deciders,
                                      PositionPolicy positions) {
        return of(id, steps, deciders, positions, BudgetConvention.FINAL, Budget.ALL);
    }

    public static ConfiguredPruner of(String id, List<PruneStep> steps, List<Function<PruneContext, PruneDecision>> deciders,
                                      PositionPolicy positions, BudgetConvention convention, Budget budget) {
        Pruner p = new Pruner() {
            @Override
            public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
                return steps;
            }

            @Override
            public PruneDecision decide(PruneContext ctx) {
                return deciders.get(steps.indexOf(ctx.step())).apply(ctx);
            }

            @Override
            public BudgetConvention budgetConvention() {
                return convention;
            }
        };
        return new ConfiguredPruner(id, id, p, budget, positions, 0, Map.of());
    }

    /** Keeps a fixed set of original indices at one hook. */
    public static ConfiguredPruner fixed(HookPoint hook, int[] kept, PositionPolicy positions) {
        return of("fixed", List.of(PruneStep.of("fixed", hook)), List.of(ctx -> PruneDecision.keep(kept)), positions,
                BudgetConvention.FINAL, new Budget(kept.length, false, Budget.Scope.REQUEST));
    }

    /** Keeps everything at one hook (the step still runs through the apply path). */
    public static ConfiguredPruner keepAll(HookPoint hook) {
        return of("keep-all", List.of(PruneStep.of("all", hook)), List.of(PruneDecision::keepAll), PositionPolicy.KEEP);
    }

    public static int[] every(int step, int n) {
        return java.util.stream.IntStream.range(0, n).filter(i -> i % step == 0).toArray();
    }
}
