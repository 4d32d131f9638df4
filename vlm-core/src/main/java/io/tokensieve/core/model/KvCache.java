package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;

/**
 * Keys (after RoPE) and values one decoder layer has seen: each [B, Hkv, S, hd]. Every layer owns its
 * own cache, so layers before a pruning step keep all tokens and later layers only the live ones.
 */
public final class KvCache {
    private NDArray keys;
    private NDArray values;

    /** Appends new keys/values [B, Hkv, T, hd] and returns the full (keys, values). */
    public NDArray[] append(NDArray k, NDArray v) {
        if (keys == null) {
            keys = k;
            values = v;
        } else {
            keys = keys.concat(k, 2);
            values = values.concat(v, 2);
        }
        return new NDArray[] {keys, values};
    }

    public NDArray keys() {
        return keys;
    }

    public NDArray values() {
        return values;
    }

    /** Cached slots (valid or padding) per sample. */
    public long length() {
        return keys == null ? 0 : keys.getShape().get(2);
    }

    /** Bytes held by this layer's cache. */
    public long bytes() {
        return keys == null ? 0 : 2 * keys.getShape().size() * 4;
    }

    /** Replaces the arrays, e.g. after moving them to a longer-lived manager. */
    public void set(NDArray keys, NDArray values) {
        this.keys = keys;
        this.values = values;
    }
}
