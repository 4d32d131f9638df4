package io.tokensieve.eval;

/** Bad evaluation input (prediction file, scorer choice, run settings); the message names the input. */
public class EvalException extends RuntimeException {
    public EvalException(String message) {
        super(message);
    }
}
