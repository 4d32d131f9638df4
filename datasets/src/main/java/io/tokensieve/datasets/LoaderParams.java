package io.tokensieve.datasets;

import java.util.List;
import java.util.Map;

/** The parameters of one dataset spec, checked against the loader's known names and parsed on demand. */
public final class LoaderParams {
    private final String format;
    private final Map<String, String> values;

    public LoaderParams(String format, Map<String, String> values, List<String> known) {
        this.format = format;
        this.values = Map.copyOf(values);
        for (String k : values.keySet()) {
            if (!known.contains(k)) {
                throw new DatasetException(format + ": unknown parameter '" + k + "' (known: "
                        + (known.isEmpty() ? "none" : String.join(", ", known)) + ")");
            }
        }
    }

    public static LoaderParams none(String format) {
        return new LoaderParams(format, Map.of(), List.of());
    }

    public String string(String key, String def) {
        return values.getOrDefault(key, def);
    }

    public boolean bool(String key, boolean def) {
        String v = values.get(key);
        if (v == null) {
            return def;
        }
        return switch (v) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new DatasetException(format + ": parameter " + key + " must be true or false, got '" + v + "'");
        };
    }

    public int positiveInt(String key, int def) {
        String v = values.get(key);
        if (v == null) {
            return def;
        }
        try {
            int i = Integer.parseInt(v);
            if (i > 0) {
                return i;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new DatasetException(format + ": parameter " + key + " must be a positive integer, got '" + v + "'");
    }

    public double positiveDouble(String key, double def) {
        String v = values.get(key);
        if (v == null) {
            return def;
        }
        try {
            double d = Double.parseDouble(v);
            if (d > 0 && Double.isFinite(d)) {
                return d;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new DatasetException(format + ": parameter " + key + " must be a positive number, got '" + v + "'");
    }

    public String choice(String key, String def, String... allowed) {
        String v = values.getOrDefault(key, def);
        if (!List.of(allowed).contains(v)) {
            throw new DatasetException(format + ": parameter " + key + " must be one of " + String.join("|", allowed)
                    + ", got '" + v + "'");
        }
        return v;
    }
}
