package io.tokensieve.core.train;

import java.util.List;

/**
 * One teacher-forced training example.
 *
 * @param promptIds prompt token ids with one image placeholder per image
 * @param answerIds target tokens after the prompt (EOS included); the loss is taken on these
 * @param images preprocessed images (CHW floats of the tower's size), in placeholder order
 * @param xyz per-image per-patch xyz origins ({@code [patches][3]}) or null entries for plain images
 * @param segTarget for segmentation examples: the fraction of each patch of image 0 covered by the
 *     target mask, raster order ({@code [patches]}); null otherwise
 * @param track a label for per-track loss reporting
 * @param patchLabels per image, optional per-patch class labels for a training-only auxiliary head
 *     ({@code [kinds][patches]}, class 0 = background); null, or null entries, where unknown
 * @param pointing optional attention targets, per answer token {@code k}: the visual tokens (numbered across
 *     the example's images, {@code image * patches + patch}) that the position predicting {@code answerIds[k]}
 *     should attend to, or {@link #FIRST_TOKEN} for the sequence's first token (where to look when the thing
 *     asked about is absent); null, or null entries, where there is none
 * @param pointingSecond optional targets for the second half of the pointed heads, per answer token, where a
 *     question names two things that must be looked at apart (the two objects of "Is the red circle to the left or
 *     to the right of the blue square?"): {@link #pointing} then holds the first thing, this the second; null, or
 *     null entries, where both halves share {@link #pointing}
 * @param readout optional class labels, one per kind of a training-only read-out of the decoder's hidden state at
 *     the position predicting the first answer token ({@code TrainingForward.withReadout}), such as the columns and
 *     rows of the two objects a relative-position question compares; -1 leaves a kind out; null where there is none
 * @param pointingGroups optional groups of attention targets at the position predicting the first answer token,
 *     which the pointed heads should share evenly (each group visual tokens, or {@link #FIRST_TOKEN}), such as each
 *     counted object and the first token for a count: the mass left on the first token is then {@code 1 / (n + 1)},
 *     a number a softmax average keeps; null where {@link #pointing} applies alone. Replaces {@link #pointing}'s
 *     target at that position in the loss (not in {@code TrainingForward.pointingMass})
 */
public record TrainExample(long[] promptIds, long[] answerIds, List<float[]> images, List<float[][]> xyz,
                           float[] segTarget, String track, List<int[][]> patchLabels, int[][] pointing,
                           int[][] pointingSecond, int[] readout, int[][] pointingGroups) {
    /** A {@link #pointing} target meaning the sequence's first token (BOS) rather than a visual token. */
    public static final int FIRST_TOKEN = -1;

    public TrainExample {
        images = List.copyOf(images);
        xyz = xyz == null ? null : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(xyz));
        patchLabels = patchLabels == null ? null : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(patchLabels));
    }

    public TrainExample(long[] promptIds, long[] answerIds, List<float[]> images, List<float[][]> xyz, float[] segTarget,
                        String track) {
        this(promptIds, answerIds, images, xyz, segTarget, track, null, null, null, null, null);
    }

    public TrainExample(long[] promptIds, long[] answerIds, List<float[]> images, List<float[][]> xyz, float[] segTarget,
                        String track, List<int[][]> patchLabels) {
        this(promptIds, answerIds, images, xyz, segTarget, track, patchLabels, null, null, null, null);
    }

    /** An example whose pointed heads all share one set of targets. */
    public TrainExample(long[] promptIds, long[] answerIds, List<float[]> images, List<float[][]> xyz, float[] segTarget,
                        String track, List<int[][]> patchLabels, int[][] pointing) {
        this(promptIds, answerIds, images, xyz, segTarget, track, patchLabels, pointing, null, null, null);
    }

    /** An example without read-out labels. */
    public TrainExample(long[] promptIds, long[] answerIds, List<float[]> images, List<float[][]> xyz, float[] segTarget,
                        String track, List<int[][]> patchLabels, int[][] pointing, int[][] pointingSecond) {
        this(promptIds, answerIds, images, xyz, segTarget, track, patchLabels, pointing, pointingSecond, null);
    }

    /** An example without pointing groups. */
    public TrainExample(long[] promptIds, long[] answerIds, List<float[]> images, List<float[][]> xyz, float[] segTarget,
                        String track, List<int[][]> patchLabels, int[][] pointing, int[][] pointingSecond, int[] readout) {
        this(promptIds, answerIds, images, xyz, segTarget, track, patchLabels, pointing, pointingSecond, readout, null);
    }
}
