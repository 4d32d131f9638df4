package io.tokensieve.core.filter;

import io.tokensieve.core.runtime.StepTrace;

import java.util.ArrayList;
import java.util.List;

/**
 * What a {@link VisualTokenFilter} decided for one request. Plain Java arrays only: nothing in it holds
 * native memory, so it outlives the call freely.
 *
 * <pre>{@code
 * FilterResult r = filter.filter(input);
 * int[] keptOfImage1 = r.keptPerImage().get(1);          // local indices 0..N_1-1
 * for (FilterResult.Merged m : r.merged()) {
 *     float[] row = m.embedding();                        // use instead of the embedding of token m.index()
 * }
 * }</pre>
 *
 * @param pruner the pruner spec
 * @param visualTokens visual tokens of the request (all images)
 * @param kept kept original indices over all images (image 0's tokens first), ascending
 * @param keptPerImage kept indices of each image, local to the image (0..N_i-1), ascending
 * @param scores the pruner's per-token scores (length {@code visualTokens}, NaN where not scored) of the
 *     last step that reported scores, or null when it reported none
 * @param merged replacement rows of merging methods: the representation to use for a kept token instead of
 *     its own embedding, ascending by index (empty for methods that only select)
 * @param mergedSpace what the merged rows are: LLM embeddings (width D), or projector inputs (width Dv') when
 *     a VISION-hook method merged features and the filter has no projector to map them
 * @param steps what each step did (hook, name, live tokens before, kept, reactivated, scores)
 * @param pruneMs wall time of the pruning steps, in milliseconds
 */
public record FilterResult(String pruner, int visualTokens, int[] kept, List<int[]> keptPerImage, float[] scores,
                           List<Merged> merged, Space mergedSpace, List<StepTrace> steps, double pruneMs) {

    /** The space merged rows live in. */
    public enum Space { EMBEDDINGS, FEATURES }

    /**
     * One replacement row.
     *
     * @param index original (global) index of the kept token whose slot the row takes
     * @param embedding the row
     */
    public record Merged(int index, float[] embedding) {
        public Merged {
            embedding = embedding.clone();
        }

        @Override
        public float[] embedding() {
            return embedding.clone();
        }
    }

    public FilterResult {
        kept = kept.clone();
        List<int[]> per = new ArrayList<>();
        for (int[] k : keptPerImage) {
            per.add(k.clone());
        }
        keptPerImage = List.copyOf(per);
        scores = scores == null ? null : scores.clone();
        merged = List.copyOf(merged);
        steps = List.copyOf(steps);
    }

    @Override
    public int[] kept() {
        return kept.clone();
    }

    @Override
    public List<int[]> keptPerImage() {
        List<int[]> out = new ArrayList<>();
        for (int[] k : keptPerImage) {
            out.add(k.clone());
        }
        return out;
    }

    @Override
    public float[] scores() {
        return scores == null ? null : scores.clone();
    }

    /** Number of kept visual tokens. */
    public int keptCount() {
        return kept.length;
    }
}
