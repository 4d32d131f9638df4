package io.tokensieve.pruners;

import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.prune.ResolvedBudget;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.StepTrace;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;

import java.util.List;
import java.util.function.BiConsumer;

/** Running real requests with registered pruners, and watching a pruner's steps from the inside. */
final class Runs {
    private Runs() {}

    static ConfiguredPruner pruner(String spec) {
        return spec == null ? null : PrunerRegistry.defaultRegistry().create(spec);
    }

    /** One request: the question after every image (LLaVA template), optional teacher-forced answer prefix. */
    static GenerationResult ask(VlmModel m, List<VisualInput> images, String question, ConfiguredPruner p,
                                long[] answerPrefix, int newTokens) {
        return m.generate(List.of(new VlmRequest(m.promptIds(question, images.size()), images, p, answerPrefix)),
                GenerationConfig.greedy(newTokens)).get(0);
    }

    static GenerationResult ask(VlmModel m, List<VisualInput> images, String spec) {
        return ask(m, images, "what color is the circle ?", pruner(spec), null, 1);
    }

    /** The registered pruner of {@code spec}, with {@code spy} called after each of its decisions. */
    static ConfiguredPruner watched(String spec, BiConsumer<PruneContext, PruneDecision> spy) {
        ConfiguredPruner c = pruner(spec);
        Pruner inner = c.pruner();
        Pruner outer = new Pruner() {
            @Override
            public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
                return inner.schedule(model, images);
            }

            @Override
            public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images, ResolvedBudget budget) {
                return inner.schedule(model, images, budget);
            }

            @Override
            public PruneDecision decide(PruneContext ctx) {
                PruneDecision d = inner.decide(ctx);
                spy.accept(ctx, d);
                return d;
            }

            @Override
            public io.tokensieve.core.prune.BudgetConvention budgetConvention() {
                return inner.budgetConvention();
            }

            @Override
            public io.tokensieve.core.prune.PositionPolicy defaultPositionPolicy() {
                return inner.defaultPositionPolicy();
            }
        };
        return new ConfiguredPruner(c.spec(), c.id(), outer, c.budget(), c.positions(), c.seed(), c.params());
    }

    static StepTrace step(GenerationResult r, String name) {
        return r.steps().stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no step " + name + " in " + r.steps().stream().map(StepTrace::name).toList()));
    }

    static float[][] rows(ai.djl.ndarray.NDArray a) {
        return ZooPruner.rows(a);
    }
}
