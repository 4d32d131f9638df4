package io.tokensieve.datasets.shapes;

import io.tokensieve.core.image.RgbImage;

import java.util.List;

/**
 * One POPE probe.
 *
 * @param questionId POPE question_id ({@code index + 1}, the same in all three files)
 * @param imageFile POPE "image" field (file name under {@code images/})
 * @param image the rendered scene
 * @param question "Is there a red circle in the image?"
 * @param label yes or no
 * @param variant which negative-sampling file this probe belongs to
 * @param colour colour of the probed object
 * @param shape shape of the probed object
 * @param scene the scene graph the label was computed from
 */
public record PopeExample(int questionId, String imageFile, RgbImage image, String question, String label,
                          PopeVariant variant, Colour colour, Shape2d shape, Scene2d scene) implements ShapesExample {
    @Override
    public Track track() {
        return Track.POPE;
    }

    @Override
    public String id() {
        return Integer.toString(questionId);
    }

    @Override
    public String family() {
        return variant.word();
    }

    @Override
    public List<RgbImage> images() {
        return List.of(image);
    }

    @Override
    public String prompt() {
        return ShapesPrompts.shortAnswer(question, 1);
    }

    @Override
    public List<String> answers() {
        return List.of(label);
    }
}
