package io.tokensieve.core.weights;

/** Safetensors element types this project reads; everything is widened to float32 before DJL sees it. */
public enum DType {
    F32(4),
    F16(2),
    BF16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    static DType parse(String s, String tensor, Object file) {
        return switch (s) {
            case "F32" -> F32;
            case "F16" -> F16;
            case "BF16" -> BF16;
            default -> throw new WeightsException(file + ": tensor '" + tensor + "' has dtype " + s
                    + ", which is not supported (F32, F16 or BF16)");
        };
    }
}
