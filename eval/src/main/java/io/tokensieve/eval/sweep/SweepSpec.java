package io.tokensieve.eval.sweep;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.datasets.DatasetSpec;
import io.tokensieve.eval.EvalException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A sweep: datasets x pruners x budgets (x repeats) on one model, as written in a JSON spec file or built
 * from CLI flags. {@code none} (the reference for loyalty and speed-ups), {@code random} and {@code pool}
 * are added unless {@code baselines} is false. {@code tracks} restricts a pruner id to some dataset
 * formats (a pruner not listed runs on every dataset).
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record SweepSpec(
        @JsonProperty("name") String name,
        @JsonProperty("model") String model,
        @JsonProperty("datasets") List<String> datasets,
        @JsonProperty("pruners") List<String> pruners,
        @JsonProperty("budgets") List<String> budgets,
        @JsonProperty("baselines") Boolean baselines,
        @JsonProperty("tracks") Map<String, List<String>> tracks,
        @JsonProperty("limit") Integer limit,
        @JsonProperty("repeats") Integer repeats,
        @JsonProperty("seed") Long seed,
        @JsonProperty("max_new_tokens") Integer maxNewTokens,
        @JsonProperty("scorer_variant") String scorerVariant) {

    public static final List<String> BASELINES = List.of("random", "pool");
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public SweepSpec {
        name = name == null ? "sweep" : name;
        datasets = datasets == null ? List.of() : List.copyOf(datasets);
        pruners = pruners == null ? List.of() : List.copyOf(pruners);
        budgets = budgets == null ? List.of("0.11", "0.22", "0.33") : List.copyOf(budgets);
        baselines = baselines == null || baselines;
        tracks = tracks == null ? Map.of() : Map.copyOf(tracks);
        limit = limit == null ? 0 : limit;
        repeats = repeats == null ? 1 : repeats;
        seed = seed == null ? 0L : seed;
        maxNewTokens = maxNewTokens == null ? 8 : maxNewTokens;
        scorerVariant = scorerVariant == null ? "official" : scorerVariant;
    }

    public static SweepSpec load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new EvalException(file + ": sweep spec not found");
        }
        try {
            return JSON.readValue(file.toFile(), SweepSpec.class).validated(file.toString());
        } catch (IOException e) {
            throw new EvalException(file + ": invalid sweep spec (" + e.getMessage().split("\n")[0] + ")");
        }
    }

    /** Checks every field; {@code where} names the source in messages. */
    public SweepSpec validated(String where) {
        if (datasets.isEmpty()) {
            throw new EvalException(where + ": a sweep needs at least one dataset (format:PATH)");
        }
        for (String d : datasets) {
            try {
                DatasetSpec.parse(d);
            } catch (RuntimeException e) {
                throw new EvalException(where + ": dataset '" + d + "': " + e.getMessage());
            }
        }
        if (budgets.isEmpty()) {
            throw new EvalException(where + ": a sweep needs at least one budget");
        }
        for (String b : budgets) {
            try {
                Budget.parse(b, Budget.Scope.IMAGE);
            } catch (PruneException e) {
                throw new EvalException(where + ": budget '" + b + "': " + e.getMessage());
            }
        }
        for (String p : allPruners()) {
            if (p.contains("keep=")) {
                throw new EvalException(where + ": pruner '" + p + "' sets keep; budgets come from 'budgets'");
            }
            try {
                PrunerRegistry.defaultRegistry().create(p + (p.contains(":") ? "," : ":") + "keep=" + budgets.get(0));
            } catch (PruneException e) {
                throw new EvalException(where + ": pruner '" + p + "': " + e.getMessage());
            }
        }
        if (limit < 0 || repeats < 1 || maxNewTokens < 1) {
            throw new EvalException(where + ": limit must be >= 0, repeats >= 1 and max_new_tokens >= 1");
        }
        return this;
    }

    /** Pruner specs (without keep) in run order: baselines first, then the requested ones, no duplicates. */
    public List<String> allPruners() {
        List<String> out = new ArrayList<>();
        if (baselines) {
            out.addAll(BASELINES);
        }
        for (String p : pruners) {
            if (!p.equals("none") && !out.contains(p)) {
                out.add(p);
            }
        }
        return out;
    }

    /** Every point of one dataset: the unpruned reference first, then pruner x budget x repeat. */
    public List<SweepPoint> points(String dataset) {
        String format = DatasetSpec.parse(dataset).format();
        List<SweepPoint> pts = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            pts.add(SweepPoint.unpruned(dataset, r));
        }
        for (String p : allPruners()) {
            String id = PrunerRegistry.parse(p).getKey();
            List<String> only = tracks.get(id);
            if (only != null && !only.contains(format)) {
                continue;
            }
            for (String b : budgets) {
                for (int r = 0; r < repeats; r++) {
                    pts.add(SweepPoint.of(dataset, p, b, r, seed + r));
                }
            }
        }
        return pts;
    }

    /** The spec as a map, for the summary. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("model", model);
        m.put("datasets", datasets);
        m.put("pruners", allPruners());
        m.put("budgets", budgets);
        m.put("tracks", tracks);
        m.put("limit", limit);
        m.put("repeats", repeats);
        m.put("seed", seed);
        m.put("max_new_tokens", maxNewTokens);
        m.put("scorer_variant", scorerVariant);
        return m;
    }
}
