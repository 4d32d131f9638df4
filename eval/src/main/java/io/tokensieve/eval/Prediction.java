package io.tokensieve.eval;

import io.tokensieve.datasets.mask.LabelMask;

/**
 * A model's answer to one sample: the decoded text, and for segmentation the binary mask. A missing
 * prediction (no entry in a prediction file) is scored as the empty answer and counted separately.
 */
public record Prediction(String text, LabelMask mask, boolean missing) {
    public static final Prediction MISSING = new Prediction("", null, true);

    public static Prediction text(String text) {
        return new Prediction(text, null, false);
    }

    public static Prediction mask(LabelMask mask) {
        return new Prediction("", mask, false);
    }
}
