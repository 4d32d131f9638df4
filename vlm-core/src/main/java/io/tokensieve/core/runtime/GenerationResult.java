package io.tokensieve.core.runtime;

import java.util.List;

/**
 * The outcome of one sample.
 *
 * @param text decoded answer (special tokens skipped)
 * @param outputIds generated token ids (EOS included if produced)
 * @param firstTokenTop5 five most likely first tokens as {id, logprob}
 * @param firstTokenLogits logits of the first generated position (for equivalence tests)
 * @param promptTokens tokens of the unpruned, image-expanded prompt
 * @param visualTokens visual tokens before pruning
 * @param visualTokensPerLayer live visual tokens entering each decoder layer
 * @param tokensPerLayer all tokens (text and visual) entering each decoder layer in prefill
 * @param steps pruning steps applied, in order
 * @param kvCacheBytes bytes held by all layers' caches after prefill (this sample's share)
 * @param maskLogits mask logits of image 0 per pixel cell of the crop (raster order) from the [SEG] token, or null
 * @param maskGrid {rows, cols} of the mask logits (cells over the preprocessed crop), or null
 * @param timings measured times of the batch this sample ran in
 */
public record GenerationResult(
        String text,
        long[] outputIds,
        List<TokenLogprob> firstTokenTop5,
        float[] firstTokenLogits,
        int promptTokens,
        int visualTokens,
        int[] visualTokensPerLayer,
        int[] tokensPerLayer,
        List<StepTrace> steps,
        long kvCacheBytes,
        float[] maskLogits,
        int[] maskGrid,
        Timings timings) {

    public record TokenLogprob(long id, double logprob) {}

    /** Visual tokens entering decoder layer 0. */
    public int visualTokensEnteringLlm() {
        return visualTokensPerLayer.length == 0 ? visualTokens : visualTokensPerLayer[0];
    }

    /** Sum over layers of live visual tokens divided by the number of layers. */
    public double equivalentAverageTokens() {
        double s = 0;
        for (int c : visualTokensPerLayer) {
            s += c;
        }
        return visualTokensPerLayer.length == 0 ? 0 : s / visualTokensPerLayer.length;
    }
}
