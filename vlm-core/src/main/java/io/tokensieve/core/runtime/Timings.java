package io.tokensieve.core.runtime;

/**
 * Measured wall times of one batch in milliseconds: vision tower, projector, pruning routines (decide +
 * apply), prefill (decoder layers, excluding pruning), time to first token (everything up to the first
 * sampled token), and decode (the remaining steps).
 */
public record Timings(double visionMs, double projectorMs, double pruneMs, double prefillMs, double ttftMs,
                      double decodeMs, int decodeSteps) {
    /** Decode throughput in tokens per second (0 when nothing was decoded after the first token). */
    public double decodeTokensPerSecond() {
        return decodeSteps == 0 || decodeMs <= 0 ? 0 : decodeSteps / (decodeMs / 1000.0);
    }

    public double totalMs() {
        return ttftMs + decodeMs;
    }
}
