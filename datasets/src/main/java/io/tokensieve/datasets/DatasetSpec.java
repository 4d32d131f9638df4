package io.tokensieve.datasets;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A parsed dataset spec {@code format:PATH} with optional loader parameters after a question mark,
 * e.g. {@code textvqa:/data/textvqa?ocr=true} or {@code pope:/data/pope?subsets=random,adversarial}.
 */
public record DatasetSpec(String format, Path root, Map<String, String> params) {
    public DatasetSpec {
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    public static DatasetSpec parse(String spec) {
        int colon = spec == null ? -1 : spec.indexOf(':');
        if (colon <= 0 || colon == spec.length() - 1) {
            throw new DatasetException("dataset spec '" + spec + "' must be FORMAT:PATH (e.g. vqav2:/data/vqav2)");
        }
        String format = spec.substring(0, colon).strip();
        String rest = spec.substring(colon + 1);
        Map<String, String> params = new LinkedHashMap<>();
        int q = rest.lastIndexOf('?');
        if (q >= 0) {
            for (String kv : rest.substring(q + 1).split("&")) {
                if (kv.isBlank()) {
                    continue;
                }
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new DatasetException("dataset spec '" + spec + "': parameter '" + kv + "' must be key=value");
                }
                if (params.put(kv.substring(0, eq).strip(), kv.substring(eq + 1).strip()) != null) {
                    throw new DatasetException("dataset spec '" + spec + "': parameter '" + kv.substring(0, eq)
                            + "' given twice");
                }
            }
            rest = rest.substring(0, q);
        }
        return new DatasetSpec(format, Path.of(rest), params);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(format).append(':').append(root);
        String sep = "?";
        for (Map.Entry<String, String> e : params.entrySet()) {
            sb.append(sep).append(e.getKey()).append('=').append(e.getValue());
            sep = "&";
        }
        return sb.toString();
    }
}
