package io.tokensieve.eval.scorers;

import io.tokensieve.datasets.Sample;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Scorer;
import io.tokensieve.eval.Tally;
import io.tokensieve.eval.text.PyStr;

import java.util.Locale;
import java.util.Map;

/**
 * GQA exact match (benchmarks-vqa.md section 4). {@code official}: trailing periods removed, lower-cased,
 * equal to the gold answer. {@code lmms}: both lower-cased with every ASCII punctuation character deleted
 * (the prediction also stripped), then equal.
 */
public final class GqaScorer implements Scorer {
    private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    private final String variant;

    public GqaScorer(String variant) {
        this.variant = variant;
    }

    @Override
    public String benchmark() {
        return "gqa";
    }

    @Override
    public String variant() {
        return variant;
    }

    public boolean correct(String prediction, String gold) {
        if (variant.equals("official")) {
            int end = prediction.length();
            while (end > 0 && prediction.charAt(end - 1) == '.') {
                end--;
            }
            return prediction.substring(0, end).toLowerCase(Locale.ROOT).equals(gold);
        }
        return dropPunctuation(PyStr.strip(prediction).toLowerCase(Locale.ROOT))
                .equals(dropPunctuation(gold.toLowerCase(Locale.ROOT)));
    }

    private static String dropPunctuation(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (PUNCTUATION.indexOf(c) < 0) {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    @Override
    public Tally newTally() {
        return new BaseTally(benchmark(), variant) {
            private int right;
            private final Counts.MeanByKey byStructure = new Counts.MeanByKey();

            @Override
            protected double score(Sample s, Prediction p) {
                if (s.references().isEmpty()) {
                    throw noReference(s);
                }
                double ok = correct(p.text(), s.references().get(0)) ? 1 : 0;
                right += (int) ok;
                if (s.extra().get("types") instanceof Map<?, ?> types && types.get("structural") instanceof String t) {
                    byStructure.add(t, ok);
                }
                return ok;
            }

            @Override
            protected String fill(Map<String, Object> v) {
                v.put("accuracy", Counts.pct(right, n));
                if (!byStructure.isEmpty()) {
                    v.put("per_structural_type", byStructure.percentages(false));
                }
                return "accuracy";
            }
        };
    }
}
