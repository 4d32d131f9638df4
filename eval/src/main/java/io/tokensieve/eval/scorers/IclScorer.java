package io.tokensieve.eval.scorers;

import io.tokensieve.datasets.Sample;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Scorer;
import io.tokensieve.eval.Tally;
import io.tokensieve.eval.text.VqaNormalizer;

import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Multi-image in-context episodes: exact match after VQA normalisation of both sides, right when the
 * prediction equals any reference. {@code official}: the official VQA normalisation (punctuation, then
 * digits/articles with the official contraction table); {@code lmms}: the EvalAI processor.
 */
public final class IclScorer implements Scorer {
    private final String variant;

    public IclScorer(String variant) {
        this.variant = variant;
    }

    @Override
    public String benchmark() {
        return "icl";
    }

    @Override
    public String variant() {
        return variant;
    }

    public boolean correct(String prediction, java.util.List<String> answers) {
        UnaryOperator<String> norm = variant.equals("official") ? VqaNormalizer::officialPrediction : VqaNormalizer::evalAi;
        String p = norm.apply(prediction);
        return answers.stream().map(norm).anyMatch(p::equals);
    }

    @Override
    public Tally newTally() {
        return new BaseTally(benchmark(), variant) {
            private int right;

            @Override
            protected double score(Sample s, Prediction p) {
                if (s.references().isEmpty()) {
                    throw noReference(s);
                }
                boolean ok = correct(p.text(), s.references());
                right += ok ? 1 : 0;
                return ok ? 1 : 0;
            }

            @Override
            protected String fill(Map<String, Object> v) {
                v.put("accuracy", Counts.pct(right, n));
                return "accuracy";
            }
        };
    }
}
