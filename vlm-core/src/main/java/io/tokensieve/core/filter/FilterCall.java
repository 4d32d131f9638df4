package io.tokensieve.core.filter;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.ResolvedBudget;
import io.tokensieve.core.prune.SequenceLayout;
import io.tokensieve.core.prune.TokenOrigin;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/** Everything one filter call shares between its steps. Package-private bookkeeping, one per call. */
final class FilterCall {
    final String prunerId;
    final ModelShape shape;
    final int visualTotal;
    final List<ImageSpan> spans;
    final TokenOrigin[] origins;
    final ResolvedBudget budget;
    final long seed;
    final PositionPolicy positions;
    final SequenceLayout prompt;
    final List<ImageTokens> images;
    final long segTokenId;
    final Map<String, Object> state = new HashMap<>();

    NDArray embeddings; // [N, D], the call's manager
    NDArray features; // [N, Dv'] or null
    NDArray text; // [Tt, D] or null
    List<NDArray> keys; // per image [n_i, K], or null
    UnaryOperator<NDArray> projector;
    UnaryOperator<NDArray> finalNorm;

    FilterCall(String prunerId, ModelShape shape, List<ImageSpan> spans, TokenOrigin[] origins, ResolvedBudget budget,
               long seed, PositionPolicy positions, SequenceLayout prompt, List<ImageTokens> images, long segTokenId) {
        this.prunerId = prunerId;
        this.shape = shape;
        this.visualTotal = origins.length;
        this.spans = spans;
        this.origins = origins;
        this.budget = budget;
        this.seed = seed;
        this.positions = positions;
        this.prompt = prompt;
        this.images = images;
        this.segTokenId = segTokenId;
    }

    /** The layer-0 sequence implied by a live set: live visual tokens and every text token, in prompt order. */
    SequenceLayout layout(int[] live) {
        return prompt.keeping(live, positions);
    }
}
