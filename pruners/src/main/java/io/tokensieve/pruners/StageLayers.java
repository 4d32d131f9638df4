package io.tokensieve.pruners;

import io.tokensieve.core.prune.ModelShape;

import java.util.Arrays;

/**
 * Stage boundaries of the multi-stage in-LLM pruners, mapped from the depth they were given for to the
 * model's depth. A boundary {@code b} is the hook {@code BEFORE_LAYER(b)}: layers {@code 0..b-1} see the
 * tokens of the previous stage.
 */
public final class StageLayers {
    private StageLayers() {}

    /**
     * Maps boundaries given for a {@code fromLayers}-layer model by relative depth: {@code round(b * L / from)}
     * ({@link ModelShape#scaleLayer} when {@code from} is 32), clamped to {@code [min, L-1]}; a boundary that
     * lands on or before its predecessor moves to the layer after it, and boundaries pushed past layer
     * {@code L-1} are dropped (their stages merge into the last one). The result is strictly ascending.
     */
    public static int[] map(int[] boundaries, int fromLayers, ModelShape model, int min) {
        int layers = model.layers();
        int[] out = new int[boundaries.length];
        int n = 0;
        int prev = -1;
        for (int b : boundaries) {
            int m = fromLayers == 32 ? model.scaleLayer(b)
                    : (int) Math.round((double) b * layers / fromLayers);
            m = Math.max(Math.max(min, m), prev + 1);
            if (m > layers - 1) {
                break;
            }
            out[n++] = m;
            prev = m;
        }
        return Arrays.copyOf(out, n);
    }

    /** Stage layers whose output is pruned (the reference's convention) as boundaries: {@code l + 1}. */
    static int[] outputsToBoundaries(int[] outputLayers) {
        return Arrays.stream(outputLayers).map(l -> l + 1).toArray();
    }

    /** Whether values are strictly ascending. */
    /** A non-empty, strictly ascending list of layers within {@code min..max} (32-layer numbering). */
    static boolean valid(int[] v, int min, int max) {
        if (v.length == 0 || v[0] < min || v[v.length - 1] > max) {
            return false;
        }
        for (int i = 1; i < v.length; i++) {
            if (v[i] <= v[i - 1]) {
                return false;
            }
        }
        return true;
    }
}
