package io.tokensieve.datasets.shapes;

import io.tokensieve.core.image.RgbImage;

import java.util.ArrayList;
import java.util.List;

/**
 * One in-context episode: {@code demos.size()} answered examples, then the query.
 *
 * @param id episode id ({@code icl_000000})
 * @param instruction the instruction line (the same for every episode)
 * @param demos answered demos in prompt order
 * @param queryImage the query's image
 * @param queryScene the query's scene graph
 * @param question the query question (the same for every episode)
 * @param attribute the hidden attribute: colour, shape, count or size
 * @param answers the query's answer (one)
 */
public record IclExample(String id, String instruction, List<Demo> demos, RgbImage queryImage, Scene2d queryScene,
                         String question, String attribute, List<String> answers) implements ShapesExample {
    public IclExample {
        demos = List.copyOf(demos);
        answers = List.copyOf(answers);
    }

    /** One answered demo. */
    public record Demo(RgbImage image, String question, String answer, Scene2d scene) {}

    @Override
    public Track track() {
        return Track.ICL;
    }

    @Override
    public String family() {
        return attribute;
    }

    /** Demo images, then the query image. */
    @Override
    public List<RgbImage> images() {
        List<RgbImage> out = new ArrayList<>();
        for (Demo d : demos) {
            out.add(d.image());
        }
        out.add(queryImage);
        return out;
    }

    @Override
    public String prompt() {
        List<String> qs = new ArrayList<>();
        List<String> as = new ArrayList<>();
        for (Demo d : demos) {
            qs.add(d.question());
            as.add(d.answer());
        }
        return ShapesPrompts.inContext(instruction, qs, as, question);
    }
}
