package io.tokensieve.core.weights;

/** A checkpoint file is missing, malformed, or does not match the model configuration. */
public class WeightsException extends RuntimeException {
    public WeightsException(String message) {
        super(message);
    }

    public WeightsException(String message, Throwable cause) {
        super(message, cause);
    }
}
