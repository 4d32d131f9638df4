package io.tokensieve.eval;

/** Scoring rules of one benchmark in one variant ({@code official} or {@code lmms}); immutable. */
public interface Scorer {
    String benchmark();

    String variant();

    Tally newTally();
}
