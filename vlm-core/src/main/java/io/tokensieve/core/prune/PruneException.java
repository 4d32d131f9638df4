package io.tokensieve.core.prune;

/** A pruner spec, budget or decision is invalid; the message names the pruner and step where known. */
public class PruneException extends RuntimeException {
    public PruneException(String message) {
        super(message);
    }
}
