package io.tokensieve.datasets.shapes;

import io.tokensieve.core.image.RgbImage;

import java.util.List;

/**
 * One generated example of any track, as the trainer consumes it. Every track's record adds its own fields
 * (masks, poses, demos, ...); these are the ones all of them share.
 */
public interface ShapesExample {
    Track track();

    /** The id the written files use for this example (question id, sample id, ...), as a string. */
    String id();

    /** Question family (VQA question_type, POPE variant, seg referring/reasoning, ICL attribute, 3D relation). */
    String family();

    /** Images in prompt order (one {@code <image>} placeholder each in {@link #prompt()}). */
    List<RgbImage> images();

    /** The raw question or expression of the query. */
    String question();

    /** The user turn the loaders build for this example (see {@link ShapesPrompts}). */
    String prompt();

    /** Reference answers; the first is the canonical one the model should produce. */
    List<String> answers();

    default String answer() {
        return answers().get(0);
    }
}
