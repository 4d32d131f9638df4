package io.tokensieve.core.runtime;

import io.tokensieve.core.prune.ConfiguredPruner;

import java.util.List;

/**
 * One sample for the runtime: prompt token ids with exactly one image placeholder id per image, the
 * images, an optional pruner (null = unpruned) and optional teacher-forced answer tokens appended to the
 * prompt (e.g. {@code [SEG]} for LISA-style segmentation, whose mask is then read in one pass).
 */
public record VlmRequest(long[] inputIds, List<VisualInput> images, ConfiguredPruner pruner, long[] answerPrefix) {
    public VlmRequest {
        images = List.copyOf(images);
        answerPrefix = answerPrefix == null ? new long[0] : answerPrefix.clone();
        inputIds = inputIds.clone();
    }

    public static VlmRequest of(long[] inputIds, List<VisualInput> images, ConfiguredPruner pruner) {
        return new VlmRequest(inputIds, images, pruner, null);
    }
}
