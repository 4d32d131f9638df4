package io.tokensieve.datasets.shapes;

import io.tokensieve.core.image.RgbImage;

import java.util.List;

/**
 * One ReasonSeg-format sample.
 *
 * @param id file stem ({@code <split>/<id>.png} and {@code .json})
 * @param image the rendered scene
 * @param expression the referring phrase or reasoning sentence (ReasonSeg "text"[0])
 * @param isSentence ReasonSeg "is_sentence": true for reasoning sentences, false for phrases
 * @param target the target polygon written to the JSON (label "target")
 * @param mask ground truth, row-major 224x224: the rasterised target polygon (see {@link Polygon})
 * @param targetId id of the target in the scene graph
 * @param anchorId id of the object a reasoning sentence finds the target through ("the blue triangle" of "Which
 *     shape is to the left of the blue triangle?", the object named by "closest to", "the same colour as"), -1 for
 *     phrases and for sentences that name none ("the largest"); scene-graph knowledge for training, not written
 * @param scene the scene graph the target was chosen from
 */
public record SegExample(String id, RgbImage image, String expression, boolean isSentence, Polygon target, boolean[] mask,
                         int targetId, int anchorId, Scene2d scene) implements ShapesExample {
    @Override
    public Track track() {
        return Track.SEG;
    }

    @Override
    public String family() {
        return isSentence ? SegExpressions.REASONING : SegExpressions.REFERRING;
    }

    @Override
    public List<RgbImage> images() {
        return List.of(image);
    }

    @Override
    public String question() {
        return expression;
    }

    @Override
    public String prompt() {
        return ShapesPrompts.segmentation(expression, isSentence);
    }

    /** The assistant turn LISA teacher-forces: {@code [SEG].} (the mask comes from the [SEG] hidden state). */
    @Override
    public List<String> answers() {
        return List.of("[SEG].");
    }
}
