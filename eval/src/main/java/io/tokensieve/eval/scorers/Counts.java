package io.tokensieve.eval.scorers;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** Small aggregation helpers shared by the scorers. */
final class Counts {
    private Counts() {}

    /** 100 * part / whole, 0 when whole is 0. */
    static double pct(double part, double whole) {
        return whole == 0 ? 0 : 100.0 * part / whole;
    }

    /** Python's round(x, 2) on a double: exact decimal value, ties to even. */
    static double round2(double x) {
        return new BigDecimal(x).setScale(2, RoundingMode.HALF_EVEN).doubleValue();
    }

    /** Sum and count per key, reported as a percentage mean per key (sorted by key). */
    static final class MeanByKey {
        private final Map<String, double[]> acc = new TreeMap<>();

        void add(String key, double value) {
            double[] a = acc.computeIfAbsent(key, k -> new double[2]);
            a[0] += value;
            a[1]++;
        }

        Map<String, Object> percentages(boolean round) {
            Map<String, Object> out = new LinkedHashMap<>();
            acc.forEach((k, a) -> {
                double v = pct(a[0], a[1]);
                out.put(k, round ? round2(v) : v);
            });
            return out;
        }

        boolean isEmpty() {
            return acc.isEmpty();
        }
    }
}
