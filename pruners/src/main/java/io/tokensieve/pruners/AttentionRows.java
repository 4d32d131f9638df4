package io.tokensieve.pruners;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import io.tokensieve.core.prune.Need;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.HookPoint;

import java.util.Arrays;

/**
 * Attention rows of chosen query slots for the stages of in-LLM pruners that rank with the attention of
 * the layer just run: at {@code BEFORE_LAYER(k >= 1)} rows of layer {@code k-1}'s attention probabilities;
 * at {@code BEFORE_LAYER(0)} (a first stage moved to the start for small budgets) the rows layer 0 is about
 * to compute, recomputed from its weights.
 */
final class AttentionRows {
    private AttentionRows() {}

    /** The step at {@code hook}: attention of the layer before it, or the upcoming layer's rows at hook 0. */
    static PruneStep step(String name, int hook, Need... more) {
        if (hook == 0) {
            Need[] all = Arrays.copyOf(more, more.length + 1);
            all[more.length] = Need.NEXT_LAYER_ATTENTION_ROW;
            return PruneStep.of(name, HookPoint.beforeLayer(0), all);
        }
        return PruneStep.of(name, HookPoint.beforeLayer(hook), more).withAttentionLayers(hook - 1);
    }

    /** [H][q][T]: the attention rows of {@code slots} over the current sequence's T slots. */
    static float[][][] of(PruneContext ctx, int[] slots) {
        int hook = ctx.step().hook().layer();
        int t = ctx.sequence().size();
        if (hook == 0) {
            float[][][] out = null;
            for (int i = 0; i < slots.length; i++) {
                NDArray row = ctx.nextLayerAttentionRow(slots[i]); // [H, slot+1]
                int heads = (int) row.getShape().get(0);
                int w = (int) row.getShape().get(1);
                float[] flat = row.toFloatArray();
                if (out == null) {
                    out = new float[heads][slots.length][t];
                }
                for (int h = 0; h < heads; h++) {
                    System.arraycopy(flat, h * w, out[h][i], 0, w);
                }
            }
            return out == null ? new float[0][0][0] : out;
        }
        NDArray a = ctx.attention(hook - 1); // [H, T, T]
        int heads = (int) a.getShape().get(0);
        long[] idx = Arrays.stream(slots).asLongStream().toArray();
        NDArray picked = a.transpose(1, 0, 2).get(new NDIndex("{}", ctx.manager().create(idx))); // [q, H, T]
        float[] flat = picked.toFloatArray();
        float[][][] out = new float[heads][slots.length][t];
        for (int i = 0; i < slots.length; i++) {
            for (int h = 0; h < heads; h++) {
                System.arraycopy(flat, (i * heads + h) * t, out[h][i], 0, t);
            }
        }
        return out;
    }
}
