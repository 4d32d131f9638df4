package io.tokensieve.core.prune;

/**
 * RoPE positions after pruning, owned by the core. {@code KEEP}: kept tokens keep their original
 * positions (gaps remain) and decoding continues after the unpruned prompt length (FastV, TensorRT-Edge-LLM).
 * {@code RENUMBER}: after each step positions are compacted to 0..n-1 and each layer numbers decode
 * tokens from its own cache length (AdaptInfer's and PyramidDrop's code).
 */
public enum PositionPolicy {
    KEEP,
    RENUMBER;

    public static PositionPolicy parse(String s) {
        return switch (s) {
            case "keep", "original" -> KEEP;
            case "renumber", "compact" -> RENUMBER;
            default -> throw new IllegalArgumentException("position must be keep or renumber, got '" + s + "'");
        };
    }

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
