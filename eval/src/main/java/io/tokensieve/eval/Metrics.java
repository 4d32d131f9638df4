package io.tokensieve.eval;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The aggregate result of a scorer: ordered metric values (numbers, or nested maps for per-subset
 * breakdowns), the scorer variant that produced them, and which value is the headline.
 *
 * @param headline dotted path of the headline value in {@code values} (e.g. {@code mean.f1})
 */
public record Metrics(String benchmark, String scorerVariant, String headline, Map<String, Object> values) {
    public Metrics {
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** The headline number. */
    public double headlineValue() {
        return number(headline);
    }

    /** The number at a dotted path such as {@code per_subtask.existence.acc}. */
    public double number(String path) {
        Object cur = values;
        for (String part : path.split("\\.")) {
            if (!(cur instanceof Map<?, ?> m) || !m.containsKey(part)) {
                throw new IllegalArgumentException(benchmark + ": no metric '" + path + "'");
            }
            cur = m.get(part);
        }
        if (!(cur instanceof Number n)) {
            throw new IllegalArgumentException(benchmark + ": metric '" + path + "' is not a number");
        }
        return n.doubleValue();
    }

    /** Everything as one ordered map: benchmark, scorer_variant, headline, then the values. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("benchmark", benchmark);
        m.put("scorer_variant", scorerVariant);
        m.put("headline", headline);
        m.putAll(values);
        return m;
    }
}
