package io.tokensieve.core.prune;

/**
 * What a pruning step reads beyond the token layout. The core computes expensive things only for steps
 * that declare them; reading an undeclared need fails with a message naming the pruner and step.
 */
public enum Need {
    /** Attention probabilities of earlier decoder layers (see {@link PruneStep#attentionLayers()}). */
    ATTENTION,
    /** Hidden states entering the step's layer, or features/embeddings at VISION/PROJECTED. */
    HIDDEN_STATES,
    /** Post-RoPE keys cached by earlier decoder layers. */
    KEYS,
    /** One attention row of the upcoming layer, recomputed from its weights (PDrop-style gating). */
    NEXT_LAYER_ATTENTION_ROW,
    /** Vision-tower internals: per-layer attention, queries and keys, hidden states with CLS. */
    VISION_INTERNALS,
    /** Input embeddings of the prompt's text tokens. */
    TEXT_EMBEDDINGS,
    /** The projector as a callable function, and the projected embeddings of every visual token. */
    PROJECTOR,
    /** The LLM's final RMSNorm as a callable function. */
    FINAL_NORM
}
