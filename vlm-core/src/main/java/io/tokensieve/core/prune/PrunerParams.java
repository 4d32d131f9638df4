package io.tokensieve.core.prune;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The method-specific parameters of one spec, with typed getters that fail with clear messages. */
public final class PrunerParams {
    private final String prunerId;
    private final Map<String, String> values;
    private final Map<String, ParamSpec> specs = new LinkedHashMap<>();

    public PrunerParams(String prunerId, Map<String, String> values, List<ParamSpec> specs) {
        this.prunerId = prunerId;
        this.values = Map.copyOf(values);
        specs.forEach(s -> this.specs.put(s.name(), s));
        for (String k : values.keySet()) {
            if (!this.specs.containsKey(k)) {
                throw new PruneException("pruner " + prunerId + ": unknown parameter '" + k + "' (known: "
                        + String.join(", ", known()) + ")");
            }
        }
        // validate every given value eagerly, so a bad spec fails before any work starts
        for (var e : values.entrySet()) {
            ParamSpec s = this.specs.get(e.getKey());
            if (e.getValue().equals(s.defaultValue())) {
                continue; // spelling out the default ("auto", "none") is always allowed
            }
            switch (s.type()) {
                case "int" -> getInt(s.name());
                case "double" -> getDouble(s.name());
                case "bool" -> getBool(s.name());
                case "enum" -> getEnum(s.name());
                case "int-list" -> getIntList(s.name());
                case "double-list" -> getDoubleList(s.name());
                default -> { }
            }
        }
    }

    private List<String> known() {
        List<String> k = new java.util.ArrayList<>(specs.keySet());
        k.addAll(List.of("keep", "scope", "position", "seed"));
        return k;
    }

    /** The value as given, or the default; null if neither. */
    public String raw(String name) {
        ParamSpec s = spec(name);
        return values.getOrDefault(name, s.defaultValue());
    }

    /** Whether the user gave this parameter explicitly. */
    public boolean isSet(String name) {
        return values.containsKey(name);
    }

    /** Whether the value (given or default) is "auto". */
    public boolean isAuto(String name) {
        return "auto".equals(raw(name));
    }

    public int getInt(String name) {
        String v = raw(name);
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException | NullPointerException e) {
            throw bad(name, v, "an integer");
        }
    }

    public double getDouble(String name) {
        String v = raw(name);
        try {
            double d = Double.parseDouble(v.trim());
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw bad(name, v, "a finite number");
            }
            return d;
        } catch (NumberFormatException | NullPointerException e) {
            throw bad(name, v, "a number");
        }
    }

    public boolean getBool(String name) {
        String v = raw(name);
        if ("true".equals(v) || "false".equals(v)) {
            return Boolean.parseBoolean(v);
        }
        throw bad(name, v, "true or false");
    }

    public String getEnum(String name) {
        String v = raw(name);
        ParamSpec s = spec(name);
        if (!s.choices().contains(v)) {
            throw bad(name, v, "one of " + String.join(", ", s.choices()));
        }
        return v;
    }

    public int[] getIntList(String name) {
        String v = raw(name);
        try {
            return Arrays.stream(v.split("/")).map(String::trim).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException | NullPointerException e) {
            throw bad(name, v, "integers separated by '/'");
        }
    }

    public double[] getDoubleList(String name) {
        String v = raw(name);
        try {
            double[] d = Arrays.stream(v.split("/")).map(String::trim).mapToDouble(Double::parseDouble).toArray();
            for (double x : d) {
                if (Double.isNaN(x) || Double.isInfinite(x)) {
                    throw bad(name, v, "finite numbers separated by '/'");
                }
            }
            return d;
        } catch (NumberFormatException | NullPointerException e) {
            throw bad(name, v, "numbers separated by '/'");
        }
    }

    /** An error about a parameter's value, for range checks done by the pruner. */
    public PruneException bad(String name, String value, String expected) {
        return new PruneException("pruner " + prunerId + ": parameter " + name + " must be " + expected + ", got '"
                + value + "'");
    }

    private ParamSpec spec(String name) {
        ParamSpec s = specs.get(name);
        if (s == null) {
            throw new IllegalArgumentException("pruner " + prunerId + " declares no parameter '" + name + "'");
        }
        return s;
    }

    public Map<String, String> given() {
        return values;
    }
}
