package io.tokensieve.eval;

import io.tokensieve.datasets.Sample;

/**
 * The running state of one scoring pass: samples are added one by one (streaming, any size), then
 * {@link #result()} aggregates. Not thread-safe; one per run.
 *
 * <pre>{@code
 * Tally t = Scorers.create("vqav2", "official").newTally();
 * for (Sample s : dataset) t.add(s, Prediction.text(answers.get(s.id())));
 * Metrics m = t.result();
 * }</pre>
 */
public interface Tally {
    /**
     * Scores one sample and remembers what the aggregate needs.
     *
     * @return the per-sample score in [0, 1] (accuracy, IoU, ...), or NaN when the sample has no reference
     */
    double add(Sample sample, Prediction prediction);

    Metrics result();
}
