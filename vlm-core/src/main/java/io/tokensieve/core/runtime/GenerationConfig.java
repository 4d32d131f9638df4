package io.tokensieve.core.runtime;

/**
 * Decoding settings: greedy when {@code temperature == 0}, else temperature + top-p sampling from a
 * seeded generator; stops at EOS or after {@code maxNewTokens}. {@code maxNewTokens = 0} runs the prefill only.
 */
public record GenerationConfig(int maxNewTokens, double temperature, double topP, long seed) {
    public static final GenerationConfig GREEDY_16 = new GenerationConfig(16, 0, 1, 0);

    public GenerationConfig {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        }
        if (temperature < 0 || Double.isNaN(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
    }

    public static GenerationConfig greedy(int maxNewTokens) {
        return new GenerationConfig(maxNewTokens, 0, 1, 0);
    }

    public boolean greedy() {
        return temperature == 0;
    }
}
