package io.tokensieve.core.runtime;

/**
 * What one pruning step did to one sample: hook, step name, visual tokens before, kept original indices,
 * reactivated ones, and the pruner's scores (length N, NaN where not scored; null if none).
 */
public record StepTrace(String hook, String name, int liveBefore, int[] kept, int[] reactivated, float[] scores) {}
