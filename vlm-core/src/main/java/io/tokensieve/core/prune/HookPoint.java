package io.tokensieve.core.prune;

/**
 * Where a pruning step acts. {@code VISION}: on the vision features, before the projector.
 * {@code PROJECTED}: on the projected visual embeddings, before they join the text. {@code BEFORE_LAYER(k)}:
 * between decoder layers k-1 and k, so layers 0..k-1 see every token, layer k is the first to see the
 * pruned set, and the attention available to the step is that of layer k-1 (layers are 0-indexed).
 */
public record HookPoint(Kind kind, int layer) implements Comparable<HookPoint> {
    public enum Kind { VISION, PROJECTED, BEFORE_LAYER }

    public static final HookPoint VISION = new HookPoint(Kind.VISION, -1);
    public static final HookPoint PROJECTED = new HookPoint(Kind.PROJECTED, -1);

    public HookPoint {
        if (kind == Kind.BEFORE_LAYER && layer < 0) {
            throw new IllegalArgumentException("BEFORE_LAYER needs a layer >= 0, got " + layer);
        }
        if (kind != Kind.BEFORE_LAYER) {
            layer = -1;
        }
    }

    public static HookPoint beforeLayer(int k) {
        return new HookPoint(Kind.BEFORE_LAYER, k);
    }

    public boolean isLayer() {
        return kind == Kind.BEFORE_LAYER;
    }

    /** Sort key: VISION, PROJECTED, then layers ascending. */
    int order() {
        return switch (kind) {
            case VISION -> -2;
            case PROJECTED -> -1;
            case BEFORE_LAYER -> layer;
        };
    }

    @Override
    public int compareTo(HookPoint o) {
        return Integer.compare(order(), o.order());
    }

    @Override
    public String toString() {
        return kind == Kind.BEFORE_LAYER ? "BEFORE_LAYER(" + layer + ")" : kind.name();
    }
}
