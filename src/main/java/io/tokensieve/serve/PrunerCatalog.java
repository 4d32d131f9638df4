package io.tokensieve.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tokensieve.core.prune.ParamSpec;
import io.tokensieve.core.prune.PrunerProvider;
import io.tokensieve.core.prune.PrunerRegistry;

import java.util.List;

/**
 * The registered pruners as one JSON document (id, summary, paper, budget convention, default keep, parameters,
 * and the universal parameters every pruner takes). {@code sieve pruners --json} prints it and the server's
 * {@code GET /v1/pruners} returns it, so both always agree.
 *
 * <pre>{@code
 * ObjectNode doc = PrunerCatalog.json(PrunerRegistry.defaultRegistry(), new ObjectMapper());
 * }</pre>
 */
public final class PrunerCatalog {
    /** Parameters the registry adds to every pruner. */
    public static final List<ParamSpec> UNIVERSAL = List.of(
            new ParamSpec("keep", "budget", "per pruner", "visual tokens to keep: ratio (0.25) or count (64)", List.of()),
            ParamSpec.ofEnum("scope", "image", "budget per image or per request (multi-image)", "image", "request"),
            ParamSpec.ofEnum("position", "per pruner", "RoPE positions after pruning: keep original or renumber",
                    "keep", "renumber"),
            ParamSpec.ofInt("seed", "0", "seed of any randomness"));

    private PrunerCatalog() {}

    /** {@code {"pruners": [...], "universal_parameters": [...]}}. */
    public static ObjectNode json(PrunerRegistry registry, ObjectMapper mapper) {
        ObjectNode root = mapper.createObjectNode();
        ArrayNode arr = root.putArray("pruners");
        for (PrunerProvider p : registry.providers()) {
            ObjectNode o = arr.addObject();
            o.put("id", p.id());
            o.put("summary", p.summary());
            o.put("paper", p.paper());
            o.put("budget_convention", p.budgetConvention().label());
            o.put("default_keep", p.defaultKeep());
            ArrayNode params = o.putArray("parameters");
            for (ParamSpec s : p.parameters()) {
                params.add(param(s, mapper));
            }
        }
        ArrayNode u = root.putArray("universal_parameters");
        UNIVERSAL.forEach(s -> u.add(param(s, mapper)));
        return root;
    }

    private static ObjectNode param(ParamSpec s, ObjectMapper mapper) {
        ObjectNode o = mapper.createObjectNode();
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
