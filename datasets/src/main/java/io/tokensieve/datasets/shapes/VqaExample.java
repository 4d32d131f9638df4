package io.tokensieve.datasets.shapes;

import io.tokensieve.core.image.RgbImage;

import java.util.List;

/**
 * One VQAv2-format question.
 *
 * @param imageId VQAv2 image_id ({@code image index + 1})
 * @param questionId VQAv2 question_id ({@code image_id * 1000 + slot})
 * @param image the rendered scene (whole numbers 0..255, equal to the PNG's pixels)
 * @param question question text
 * @param family question_type: exist, count, colour, shape, size, relative position, reading
 * @param answerType answer_type: yes/no, number, other
 * @param answers the 10 annotator answers (all equal: the scene graph has one truth)
 * @param scene the scene graph the answer was computed from
 */
public record VqaExample(int imageId, int questionId, RgbImage image, String question, String family, String answerType,
                         List<String> answers, Scene2d scene) implements ShapesExample {
    public VqaExample {
        answers = List.copyOf(answers);
    }

    /** Whether this is a counting question ("How many circles are there?"). */
    public boolean isCount() {
        return VqaQuestions.COUNT.equals(family);
    }

    @Override
    public Track track() {
        return Track.VQA;
    }

    @Override
    public String id() {
        return Integer.toString(questionId);
    }

    @Override
    public List<RgbImage> images() {
        return List.of(image);
    }

    @Override
    public String prompt() {
        return ShapesPrompts.shortAnswer(question, 1);
    }
}
