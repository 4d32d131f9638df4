package io.tokensieve.cli;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/** Prints nested metric maps as indented {@code key: value} lines (nested keys joined with dots). */
final class MetricsText {
    private MetricsText() {}

    static void print(PrintStream out, Map<?, ?> values, String indent) {
        flatten(out, values, "", indent);
    }

    private static void flatten(PrintStream out, Map<?, ?> values, String prefix, String indent) {
        for (Map.Entry<?, ?> e : values.entrySet()) {
            String key = prefix + e.getKey();
            if (e.getValue() instanceof Map<?, ?> m) {
                flatten(out, m, key + ".", indent);
            } else {
                out.println(indent + key + ": " + format(e.getValue()));
            }
        }
    }

    static String format(Object v) {
        if (v instanceof Double d) {
            String s = String.format(Locale.ROOT, "%.4f", d);
            return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
        }
        return String.valueOf(v);
    }
}
