package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;

/**
 * Arithmetic with a constant that is safe under autograd. DJL's {@code x.mul(Number)} wraps the constant
 * in a temporary array backed by a direct buffer and closes it right away; autograd keeps the tensor for
 * the backward pass, but its memory belongs to the buffer, which the garbage collector may free before
 * backward runs, so gradients would read freed memory. Here the constant lives in x's manager, which
 * outlives the backward pass.
 */
public final class Ops {
    private Ops() {}

    /** x * c */
    public static NDArray scale(NDArray x, float c) {
        return x.mul(x.getManager().create(c));
    }

    /** x + c */
    public static NDArray shift(NDArray x, float c) {
        return x.add(x.getManager().create(c));
    }
}
