package io.tokensieve.core.prune;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;

/**
 * What the core shows a pruner at one step of one sample. Read-only: arrays belong to the core and must
 * not be closed or modified; temporaries go in {@link #manager()}, which the core closes after the step.
 * Methods marked with a {@link Need} fail unless the step declared it.
 */
public interface PruneContext {
    /** The step being decided. */
    PruneStep step();

    /** The pruner's id, for messages. */
    String prunerId();

    /** Index of this sample in its batch (decisions never depend on it). */
    int sampleIndex();

    ModelShape model();

    /** Visual tokens of the request before pruning (all images). */
    int visualTotal();

    /** The request's images in prompt order. */
    List<ImageSpan> images();

    /** Origin of original visual token {@code v}. */
    TokenOrigin origin(int v);

    /** Original indices of the visual tokens live before this step, ascending. */
    int[] live();

    /** The request's budget, resolved against its images. */
    ResolvedBudget budget();

    /** The seed of this request; {@link #random()} is seeded from it and the step. */
    long seed();

    /** A generator seeded from {@link #seed()} and the step's hook, the same for every sample position. */
    Random random();

    /**
     * The generator every context hands out for step {@code stepIndex} at {@code hook} of a request seeded
     * with {@code seed}, so the runtime and the filter ({@code io.tokensieve.core.filter}) draw the same
     * numbers for the same step.
     */
    static Random stepRandom(long seed, HookPoint hook, int stepIndex) {
        long h = seed * 1_000_003L + (hook.isLayer() ? hook.layer() + 3 : hook.kind().ordinal()) * 7919L + stepIndex;
        return new Random(h);
    }

    /** The sequence entering the step's layer (for VISION and PROJECTED steps: the planned prompt). */
    SequenceLayout sequence();

    /** The unpruned prompt: every text token and every visual token, positions 0..L-1. */
    SequenceLayout prompt();

    /**
     * {@link Need#HIDDEN_STATES}: at VISION the features of the live tokens [n, Dv'], at PROJECTED their
     * projected embeddings [n, D] (rows ordered as {@link #live()}); at BEFORE_LAYER(k) the hidden states
     * entering layer k, [T, D] in slot order of {@link #sequence()}.
     */
    NDArray hidden();

    /** {@link Need#ATTENTION}: attention probabilities of decoder layer {@code layer}: [H, T_l, T_l]. */
    NDArray attention(int layer);

    /** The slots of decoder layer {@code layer} (rows and columns of its attention and keys). */
    SequenceLayout sequenceAt(int layer);

    /** {@link Need#KEYS}: post-RoPE keys cached by decoder layer {@code layer}: [Hkv, T_l, hd]. */
    NDArray keys(int layer);

    /**
     * {@link Need#NEXT_LAYER_ATTENTION_ROW}: attention probabilities that the token in {@code slot} would
     * pay in the upcoming layer k, over the current slots (causal), recomputed from layer k's weights: [H, T].
     */
    NDArray nextLayerAttentionRow(int slot);

    /** {@link Need#VISION_INTERNALS}: the vision tower's internals for this sample. */
    VisionView vision();

    /** {@link Need#TEXT_EMBEDDINGS}: input embeddings of the prompt's text tokens in prompt order: [Tt, D]. */
    NDArray textEmbeddings();

    /** {@link Need#PROJECTOR}: projector outputs of every original visual token: [N, D]. */
    NDArray projected();

    /** {@link Need#PROJECTOR}: the projector, [*, Dv'] -> [*, D] (results live in the argument's manager). */
    UnaryOperator<NDArray> projector();

    /** {@link Need#PROJECTOR}: vision features (projector inputs) of every original visual token: [N, Dv']. */
    NDArray features();

    /** {@link Need#FINAL_NORM}: the LLM's final RMSNorm, [*, D] -> [*, D]. */
    UnaryOperator<NDArray> finalNorm();

    /** Id of the model's {@code [SEG]} token (LISA-style mask head), or -1 when the model has none. */
    default long segTokenId() {
        return -1;
    }

    /** Per-request, per-sample scratch space that persists across this pruner's steps. */
    Map<String, Object> state();

    /** Manager for temporaries of this step; closed by the core afterwards. */
    NDManager manager();
}
