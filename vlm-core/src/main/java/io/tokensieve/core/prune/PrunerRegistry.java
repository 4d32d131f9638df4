package io.tokensieve.core.prune;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * Pruners by id, discovered with {@link ServiceLoader}. Creates configured pruners from spec strings
 * such as {@code fastv:layer=2,keep=0.25} or {@code zoo:keep=64,perturbations=64}. Universal parameters:
 * {@code keep} (budget: ratio like 0.25 or count like 64), {@code scope} (image|request),
 * {@code position} (keep|renumber) and {@code seed}. Unknown ids and parameters fail and list what is known.
 */
public final class PrunerRegistry {
    private static volatile PrunerRegistry defaultRegistry;

    private final Map<String, PrunerProvider> providers;

    public PrunerRegistry(Iterable<PrunerProvider> providers) {
        Map<String, PrunerProvider> m = new TreeMap<>();
        for (PrunerProvider p : providers) {
            PrunerProvider prev = m.put(p.id(), p);
            if (prev != null) {
                throw new IllegalStateException("two pruner providers share the id '" + p.id() + "': "
                        + prev.getClass().getName() + " and " + p.getClass().getName());
            }
        }
        this.providers = Collections.unmodifiableMap(m);
    }

    /** The providers on the class path (loaded once, immutable). */
    public static PrunerRegistry defaultRegistry() {
        PrunerRegistry r = defaultRegistry;
        if (r == null) {
            synchronized (PrunerRegistry.class) {
                r = defaultRegistry;
                if (r == null) {
                    r = new PrunerRegistry(ServiceLoader.load(PrunerProvider.class));
                    defaultRegistry = r;
                }
            }
        }
        return r;
    }

    public List<PrunerProvider> providers() {
        return new ArrayList<>(providers.values());
    }

    public PrunerProvider provider(String id) {
        PrunerProvider p = providers.get(id);
        if (p == null) {
            throw new PruneException("unknown pruner '" + id + "' (known: " + String.join(", ", providers.keySet()) + ")");
        }
        return p;
    }

    /** Parses {@code id[:key=value,...]} into the id and an ordered parameter map. */
    public static Map.Entry<String, Map<String, String>> parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new PruneException("empty pruner spec (expected id[:key=value,...], e.g. fastv:layer=2,keep=0.25)");
        }
        String s = spec.trim();
        int colon = s.indexOf(':');
        String id = (colon < 0 ? s : s.substring(0, colon)).trim();
        Map<String, String> params = new LinkedHashMap<>();
        if (colon >= 0) {
            String rest = s.substring(colon + 1).trim();
            if (!rest.isEmpty()) {
                for (String kv : rest.split(",")) {
                    int eq = kv.indexOf('=');
                    if (eq <= 0 || eq == kv.length() - 1) {
                        throw new PruneException("pruner spec '" + spec + "': expected key=value, got '" + kv.trim() + "'");
                    }
                    String key = kv.substring(0, eq).trim();
                    if (params.put(key, kv.substring(eq + 1).trim()) != null) {
                        throw new PruneException("pruner spec '" + spec + "': parameter '" + key + "' given twice");
                    }
                }
            }
        }
        if (id.isEmpty()) {
            throw new PruneException("pruner spec '" + spec + "' has no id");
        }
        return Map.entry(id, params);
    }

    /** Creates a configured pruner from a spec string. */
    public ConfiguredPruner create(String spec) {
        var parsed = parse(spec);
        String id = parsed.getKey();
        PrunerProvider p = provider(id);
        Map<String, String> params = new LinkedHashMap<>(parsed.getValue());
        String keep = params.remove("keep");
        String scope = params.remove("scope");
        String position = params.remove("position");
        String seed = params.remove("seed");
        Budget budget;
        try {
            budget = Budget.parse(keep == null ? p.defaultKeep() : keep,
                    scope == null ? Budget.Scope.IMAGE : Budget.Scope.parse(scope));
        } catch (PruneException e) {
            throw new PruneException("pruner " + id + ": " + e.getMessage());
        }
        long seedValue;
        try {
            seedValue = seed == null ? 0L : Long.parseLong(seed);
        } catch (NumberFormatException e) {
            throw new PruneException("pruner " + id + ": seed must be an integer, got '" + seed + "'");
        }
        Pruner pruner = p.create(new PrunerParams(id, params, p.parameters()));
        PositionPolicy pos;
        try {
            pos = position == null ? pruner.defaultPositionPolicy() : PositionPolicy.parse(position);
        } catch (IllegalArgumentException e) {
            throw new PruneException("pruner " + id + ": " + e.getMessage());
        }
        Map<String, String> all = new LinkedHashMap<>(parsed.getValue());
        return new ConfiguredPruner(spec.trim(), id, pruner, budget, pos, seedValue, all);
    }
}
