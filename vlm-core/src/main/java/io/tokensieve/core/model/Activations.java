package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/** The activation functions named in HF configs. */
public final class Activations {
    private Activations() {}

    public static NDArray apply(String name, NDArray x) {
        return switch (name) {
            case "gelu" -> Activation.gelu(x); // exact (erf) form, as torch.nn.GELU()
            case "quick_gelu" -> x.mul(Activation.sigmoid(Ops.scale(x, 1.702f)));
            case "silu" -> silu(x);
            case "relu" -> Activation.relu(x);
            default -> throw new IllegalArgumentException("unsupported activation " + name);
        };
    }

    public static NDArray silu(NDArray x) {
        return x.mul(Activation.sigmoid(x));
    }
}
