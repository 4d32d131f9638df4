package io.tokensieve.pruners;

import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.ParamSpec;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.PrunerParams;
import io.tokensieve.core.prune.PrunerProvider;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Seeded random subset of the visual tokens before the LLM (per image with scope image, over the whole
 * request with scope request). The floor any informed method has to beat.
 */
public final class RandomPruner implements PrunerProvider {
    @Override
    public String id() {
        return "random";
    }

    @Override
    public String summary() {
        return "seeded uniform random subset of the visual tokens, before the LLM";
    }

    @Override
    public String paper() {
        return "-";
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(ParamSpec.ofEnum("at", "projected", "hook: before the projector (vision) or after it (projected)",
                "vision", "projected"));
    }

    @Override
    public String defaultKeep() {
        return "0.25";
    }

    @Override
    public BudgetConvention budgetConvention() {
        return BudgetConvention.ENTERING_LLM;
    }

    @Override
    public Pruner create(PrunerParams params) {
        HookPoint hook = params.getEnum("at").equals("vision") ? HookPoint.VISION : HookPoint.PROJECTED;
        return new Pruner() {
            @Override
            public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
                return List.of(PruneStep.of("sample", hook));
            }

            @Override
            public PruneDecision decide(PruneContext ctx) {
                Random rng = ctx.random();
                int[] live = ctx.live();
                if (ctx.budget().budget().keepsAll()) {
                    return PruneDecision.keep(live);
                }
                boolean request = ctx.budget().budget().scope() == io.tokensieve.core.prune.Budget.Scope.REQUEST;
                List<int[]> groups = request ? List.of(live) : Select.livePerImage(ctx, live);
                List<Integer> kept = new ArrayList<>();
                for (int g = 0; g < groups.size(); g++) {
                    int[] pool = groups.get(g).clone();
                    int k = request ? ctx.budget().total() : ctx.budget().forImage(g);
                    k = Math.min(k, pool.length);
                    for (int i = 0; i < k; i++) { // partial Fisher-Yates
                        int j = i + rng.nextInt(pool.length - i);
                        int t = pool[i];
                        pool[i] = pool[j];
                        pool[j] = t;
                        kept.add(pool[i]);
                    }
                }
                int[] out = kept.stream().mapToInt(Integer::intValue).sorted().toArray();
                return PruneDecision.keep(out);
            }
        };
    }
}
