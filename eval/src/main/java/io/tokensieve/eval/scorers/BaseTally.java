package io.tokensieve.eval.scorers;

import io.tokensieve.datasets.Sample;
import io.tokensieve.eval.EvalException;
import io.tokensieve.eval.Metrics;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Tally;

import java.util.LinkedHashMap;
import java.util.Map;

/** Counts samples and missing predictions, and checks that samples come from the scorer's benchmark family. */
abstract class BaseTally implements Tally {
    private final String benchmark;
    private final String variant;
    protected int n;
    protected int missing;

    BaseTally(String benchmark, String variant) {
        this.benchmark = benchmark;
        this.variant = variant;
    }

    @Override
    public final double add(Sample sample, Prediction prediction) {
        n++;
        if (prediction.missing()) {
            missing++;
        }
        return score(sample, prediction);
    }

    protected abstract double score(Sample sample, Prediction prediction);

    /** The headline path and the values, without the common counters. */
    protected abstract String fill(Map<String, Object> values);

    @Override
    public final Metrics result() {
        Map<String, Object> values = new LinkedHashMap<>();
        String headline = fill(values);
        values.put("n", n);
        values.put("n_missing", missing);
        return new Metrics(benchmark, variant, headline, values);
    }

    protected static EvalException noReference(Sample s) {
        return new EvalException("sample " + s.id() + " (" + s.format() + ") has no reference answer to score against");
    }
}
