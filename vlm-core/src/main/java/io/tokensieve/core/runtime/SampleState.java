package io.tokensieve.core.runtime;

import ai.djl.ndarray.NDArray;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.ResolvedBudget;
import io.tokensieve.core.prune.SequenceLayout;
import io.tokensieve.core.prune.TokenOrigin;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Everything the runtime tracks for one sample of a batch while it runs. Package-private bookkeeping. */
final class SampleState {
    final int index;
    final VlmRequest request;
    final ConfiguredPruner pruner;
    final List<PruneStep> steps;
    int nextStep;

    final List<ImageSpan> spans;
    final TokenOrigin[] origins;
    final int visualTotal;
    final int imageOffset; // index of this sample's first image in the batch's vision tensors
    final SequenceLayout prompt; // unpruned
    final long[] textIds; // prompt text token ids in prompt order
    final int[] textSeq; // seq index of each text token
    final ResolvedBudget budget;
    final Map<String, Object> scratch = new HashMap<>();

    int[] live; // live original visual indices before the LLM
    NDArray features; // [N, Dv'] all tokens, batch manager
    NDArray liveRows; // [n_live, width] current pre-LLM representation of live tokens
    NDArray projectedAll; // [N, D] lazily
    NDArray textEmb; // [Tt, D]
    SequenceLayout seq; // current decoder sequence
    final SequenceLayout[] layoutAt; // layout entering each layer
    final int[] visualPerLayer;
    final List<StepTrace> traces = new ArrayList<>();

    SampleState(int index, VlmRequest request, List<PruneStep> steps, List<ImageSpan> spans, TokenOrigin[] origins,
                int imageOffset, SequenceLayout prompt, long[] textIds, int[] textSeq, ResolvedBudget budget,
                int layers) {
        this.index = index;
        this.request = request;
        this.pruner = request.pruner();
        this.steps = steps;
        this.spans = spans;
        this.origins = origins;
        this.visualTotal = origins.length;
        this.imageOffset = imageOffset;
        this.prompt = prompt;
        this.textIds = textIds;
        this.textSeq = textSeq;
        this.budget = budget;
        this.live = new int[visualTotal];
        Arrays.setAll(live, i -> i);
        this.layoutAt = new SequenceLayout[layers];
        this.visualPerLayer = new int[layers];
    }

    boolean hasStepAt(io.tokensieve.core.prune.HookPoint hook) {
        return nextStep < steps.size() && steps.get(nextStep).hook().equals(hook);
    }

    String prunerLabel() {
        return pruner == null ? "none" : pruner.id();
    }
}
