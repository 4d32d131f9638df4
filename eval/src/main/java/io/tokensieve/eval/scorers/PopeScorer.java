package io.tokensieve.eval.scorers;

import io.tokensieve.datasets.Sample;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Scorer;
import io.tokensieve.eval.Tally;
import io.tokensieve.eval.text.PyStr;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * POPE (benchmarks-vqa.md section 5): accuracy, precision, recall, F1 and yes-ratio (all percentages) per
 * subset, their mean over the subsets present (headline: mean F1, as LLaVA-family papers quote), and the
 * pooled counts. {@code official}: LLaVA's parsing (first sentence, commas dropped, "No", "not" or "no"
 * as a space-separated token means no, anything else yes). {@code lmms}: lower-cased and stripped; only an
 * exact "yes"/"no" counts towards precision, recall and F1.
 */
public final class PopeScorer implements Scorer {
    private final String variant;

    public PopeScorer(String variant) {
        this.variant = variant;
    }

    @Override
    public String benchmark() {
        return "pope";
    }

    @Override
    public String variant() {
        return variant;
    }

    /** The parsed answer: yes or no under {@code official}; the normalised text under {@code lmms}. */
    public String parse(String text) {
        if (variant.equals("official")) {
            String t = text;
            int dot = t.indexOf('.');
            if (dot >= 0) {
                t = t.substring(0, dot);
            }
            List<String> words = Arrays.asList(t.replace(",", "").split(" ", -1));
            return words.contains("No") || words.contains("not") || words.contains("no") ? "no" : "yes";
        }
        return PyStr.strip(text.toLowerCase(Locale.ROOT));
    }

    /** TP, FP, TN, FN, predicted-yes and total counts of one group. */
    private static final class Confusion {
        int tp;
        int fp;
        int tn;
        int fn;
        int yes;
        int correct;
        int n;

        void add(String pred, String gt) {
            n++;
            if (pred.equals(gt)) {
                correct++;
            }
            if (pred.equals("yes")) {
                yes++;
                if (gt.equals("yes")) {
                    tp++;
                } else {
                    fp++;
                }
            } else if (pred.equals("no")) {
                if (gt.equals("no")) {
                    tn++;
                } else {
                    fn++;
                }
            }
        }

        Map<String, Object> metrics() {
            double p = tp + fp == 0 ? 0 : (double) tp / (tp + fp);
            double r = tp + fn == 0 ? 0 : (double) tp / (tp + fn);
            double f1 = p + r == 0 ? 0 : 2 * p * r / (p + r);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("accuracy", Counts.pct(correct, n));
            m.put("precision", 100 * p);
            m.put("recall", 100 * r);
            m.put("f1", 100 * f1);
            m.put("yes_ratio", Counts.pct(yes, n));
            m.put("n", n);
            return m;
        }
    }

    @Override
    public Tally newTally() {
        return new BaseTally(benchmark(), variant) {
            private final Map<String, Confusion> subsets = new LinkedHashMap<>();
            private final Confusion pooled = new Confusion();

            @Override
            protected double score(Sample s, Prediction p) {
                if (s.references().isEmpty()) {
                    throw noReference(s);
                }
                String gt = s.references().get(0).toLowerCase(Locale.ROOT);
                String pred = parse(p.text());
                String subset = String.valueOf(s.extra().getOrDefault("subset", "all"));
                subsets.computeIfAbsent(subset, k -> new Confusion()).add(pred, gt);
                pooled.add(pred, gt);
                return pred.equals(gt) ? 1 : 0;
            }

            @Override
            protected String fill(Map<String, Object> v) {
                Map<String, Object> per = new LinkedHashMap<>();
                Map<String, Double> sums = new LinkedHashMap<>();
                for (Map.Entry<String, Confusion> e : subsets.entrySet()) {
                    Map<String, Object> m = e.getValue().metrics();
                    per.put(e.getKey(), m);
                    for (String k : List.of("accuracy", "precision", "recall", "f1", "yes_ratio")) {
                        sums.merge(k, (Double) m.get(k), Double::sum);
                    }
                }
                Map<String, Object> mean = new LinkedHashMap<>();
                sums.forEach((k, s) -> mean.put(k, s / subsets.size()));
                if (mean.isEmpty()) {
                    for (String k : List.of("accuracy", "precision", "recall", "f1", "yes_ratio")) {
                        mean.put(k, 0.0);
                    }
                }
                v.put("mean", mean);
                v.put("per_subset", per);
                v.put("pooled", pooled.metrics());
                return "mean.f1";
            }
        };
    }
}
