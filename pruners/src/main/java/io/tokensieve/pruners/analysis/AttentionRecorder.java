package io.tokensieve.pruners.analysis;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.Need;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneContext;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.SequenceLayout;
import io.tokensieve.pruners.AdaptInferPruner;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A pruner that prunes nothing and records the head-averaged attention of every decoder layer of an
 * unpruned prefill, for the offline analyses. It has one step, before the last layer, that reads the
 * retained attention of layers {@code 0..L-2}; the last layer's attention is recomputed row by row from its
 * weights ({@link PruneContext#nextLayerAttentionRow}), which is the same computation the layer runs next
 * (all rows for AdaToken-3D's profile, or only the rows the AdaptInfer analysis reads). No core change is
 * needed; the recomputation costs one key projection per recomputed row.
 *
 * <pre>{@code
 * List<AttentionRecorder.Prefill> got = new ArrayList<>();
 * ConfiguredPruner rec = AttentionRecorder.configured(got::add, AttentionRecorder.Rows.ALL);
 * model.generate(List.of(VlmRequest.of(ids, images, rec)), GenerationConfig.greedy(0));
 * }</pre>
 */
public final class AttentionRecorder implements Pruner {
    /** Which rows of the last layer are recomputed. */
    public enum Rows {
        /** Every row. */
        ALL,
        /** The text tokens after the first visual token (the others stay zero). */
        TEXT_AFTER_FIRST_VISUAL
    }

    /**
     * One recorded prefill: the unpruned layout, the request's images, and per layer the attention averaged
     * over the {@code heads} heads, {@code attention[l][query][key]}.
     */
    public record Prefill(SequenceLayout layout, List<ImageSpan> images, int heads, float[][][] attention) {
        public int layers() {
            return attention.length;
        }
    }

    private final Consumer<Prefill> sink;
    private final Rows lastLayerRows;

    public AttentionRecorder(Consumer<Prefill> sink, Rows lastLayerRows) {
        this.sink = sink;
        this.lastLayerRows = lastLayerRows;
    }

    /** The recorder as a configured pruner for a request (keeps everything, original positions). */
    public static ConfiguredPruner configured(Consumer<Prefill> sink, Rows lastLayerRows) {
        return new ConfiguredPruner("record-attention", "record-attention", new AttentionRecorder(sink, lastLayerRows),
                Budget.ALL, PositionPolicy.KEEP, 0, Map.of());
    }

    @Override
    public List<PruneStep> schedule(ModelShape model, List<ImageSpan> images) {
        int last = model.layers() - 1;
        List<Integer> layers = new ArrayList<>();
        for (int l = 0; l < last; l++) {
            layers.add(l);
        }
        EnumSet<Need> needs = EnumSet.of(Need.NEXT_LAYER_ATTENTION_ROW);
        if (!layers.isEmpty()) {
            needs.add(Need.ATTENTION);
        }
        return List.of(new PruneStep("record", HookPoint.beforeLayer(last), needs, layers, false));
    }

    @Override
    public PruneDecision decide(PruneContext ctx) {
        int last = ctx.model().layers() - 1;
        SequenceLayout seq = ctx.sequence();
        int t = seq.size();
        float[][][] att = new float[last + 1][][];
        int heads = ctx.model().heads();
        for (int l = 0; l < last; l++) {
            NDArray a = ctx.attention(l); // [H, T, T]
            att[l] = square(a.mean(new int[] {0}).toFloatArray(), t);
        }
        att[last] = new float[t][t];
        for (int slot : rows(seq)) {
            NDArray row = ctx.nextLayerAttentionRow(slot); // [H, slot+1]
            float[] mean = row.mean(new int[] {0}).toFloatArray();
            System.arraycopy(mean, 0, att[last][slot], 0, mean.length);
        }
        sink.accept(new Prefill(seq, ctx.images(), heads, att));
        return PruneDecision.keep(ctx.live());
    }

    private int[] rows(SequenceLayout seq) {
        if (lastLayerRows == Rows.ALL) {
            int[] all = new int[seq.size()];
            for (int i = 0; i < all.length; i++) {
                all[i] = i;
            }
            return all;
        }
        return AdaptInferPruner.textBlock(seq);
    }

    private static float[][] square(float[] flat, int t) {
        float[][] out = new float[t][];
        for (int i = 0; i < t; i++) {
            out[i] = Arrays.copyOfRange(flat, i * t, (i + 1) * t);
        }
        return out;
    }
}
