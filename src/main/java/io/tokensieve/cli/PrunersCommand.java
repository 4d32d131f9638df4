package io.tokensieve.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tokensieve.core.prune.ParamSpec;
import io.tokensieve.core.prune.PrunerProvider;
import io.tokensieve.core.prune.PrunerRegistry;
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

    static final List<ParamSpec> UNIVERSAL = List.of(
            new ParamSpec("keep", "budget", "per pruner", "visual tokens to keep: ratio (0.25) or count (64)", List.of()),
            ParamSpec.ofEnum("scope", "image", "budget per image or per request (multi-image)", "image", "request"),
            ParamSpec.ofEnum("position", "per pruner", "RoPE positions after pruning: keep original or renumber",
                    "keep", "renumber"),
            ParamSpec.ofInt("seed", "0", "seed of any randomness"));

    @Override
    public Integer call() {
        List<PrunerProvider> providers = PrunerRegistry.defaultRegistry().providers();
        if (json) {
            ObjectNode root = Jsons.MAPPER.createObjectNode();
            ArrayNode arr = root.putArray("pruners");
            for (PrunerProvider p : providers) {
                ObjectNode o = arr.addObject();
                o.put("id", p.id());
                o.put("summary", p.summary());
                o.put("paper", p.paper());
                o.put("budget_convention", p.budgetConvention().label());
                o.put("default_keep", p.defaultKeep());
                ArrayNode params = o.putArray("parameters");
                for (ParamSpec s : p.parameters()) {
                    params.add(param(s));
                }
            }
            ArrayNode u = root.putArray("universal_parameters");
            UNIVERSAL.forEach(s -> u.add(param(s)));
            System.out.println(Jsons.pretty(root));
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

    private static ObjectNode param(ParamSpec s) {
        ObjectNode o = Jsons.MAPPER.createObjectNode();
        o.put("name", s.name());
        o.put("type", s.type());
        o.put("default", s.defaultValue());
        o.put("description", s.description());
        if (!s.choices().isEmpty()) {
            ArrayNode c = o.putArray("choices");
            s.choices().forEach(c::add);
        }
        return o;
    }
}
