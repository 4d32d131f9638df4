package io.tokensieve.cli;

import io.tokensieve.core.prune.ParamSpec;
import io.tokensieve.core.prune.PrunerProvider;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.serve.PrunerCatalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code sieve pruners}: every registered pruner with its parameters and defaults. */
@Command(name = "pruners", mixinStandardHelpOptions = true,
        description = "List the registered pruners, their parameters and defaults.")
final class PrunersCommand implements Callable<Integer> {
    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() {
        List<PrunerProvider> providers = PrunerRegistry.defaultRegistry().providers();
        if (json) {
            System.out.println(Jsons.pretty(PrunerCatalog.json(PrunerRegistry.defaultRegistry(), Jsons.MAPPER)));
            return 0;
        }
        for (PrunerProvider p : providers) {
            System.out.printf("%-12s %s%n", p.id(), p.summary());
            if (!p.paper().equals("-")) {
                System.out.printf("%-12s paper: %s%n", "", p.paper());
            }
            System.out.printf("%-12s budget: %s, default keep=%s%n", "", p.budgetConvention().label(), p.defaultKeep());
            for (ParamSpec s : p.parameters()) {
                System.out.printf("%-12s   %s=%s  (%s%s) %s%n", "", s.name(), s.defaultValue(), s.type(),
                        s.choices().isEmpty() ? "" : ": " + String.join("|", s.choices()), s.description());
            }
        }
        System.out.println();
        System.out.println("Every pruner also takes: keep=<ratio|count>, scope=image|request, position=keep|renumber, seed=<int>");
        System.out.println("Spec syntax: id[:key=value,...], lists separated by '/', e.g. fastv:layer=2,keep=0.25");
        return 0;
    }
}
