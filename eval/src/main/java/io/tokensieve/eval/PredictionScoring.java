package io.tokensieve.eval;

import io.tokensieve.datasets.Sample;
import io.tokensieve.eval.predictions.PredictionSource;

import java.util.LinkedHashMap;
import java.util.Map;

/** Scores an existing prediction file against a dataset's references, as the official scripts do. */
public final class PredictionScoring {
    private PredictionScoring() {}

    /** Every sample of {@code samples} is scored; a sample without prediction counts as an empty answer. */
    public static Metrics score(Iterable<Sample> samples, PredictionSource predictions, Scorer scorer) {
        Tally t = scorer.newTally();
        for (Sample s : samples) {
            t.add(s, predictions.get(s));
        }
        Metrics m = t.result();
        Map<String, Object> values = new LinkedHashMap<>(m.values());
        values.put("n_predictions", predictions.size());
        return new Metrics(m.benchmark(), m.scorerVariant(), m.headline(), values);
    }
}
