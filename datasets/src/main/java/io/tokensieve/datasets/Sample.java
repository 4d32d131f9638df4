package io.tokensieve.datasets;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One benchmark sample as every loader yields it.
 *
 * @param id unique id within the dataset (the benchmark's own question/sample id as a string)
 * @param format loader id that produced it ({@code vqav2}, {@code pope}, ...)
 * @param images image files in prompt order (one {@code <image>} placeholder each in {@link #prompt})
 * @param question the raw question or expression of the query
 * @param prompt the user content given to the model, built with the benchmark's prompt convention, holding
 *     exactly one {@code <image>} placeholder per image, in order
 * @param references gold answers (VQAv2/TextVQA: the 10 human answers; yes/no tasks: one); empty where the
 *     reference is not text (segmentation masks live in {@link #extra})
 * @param extra format-specific fields (answer_type, question_type, options, category, mask file, scene
 *     geometry, ...), JSON-serialisable values only
 */
public record Sample(String id, String format, List<Path> images, String question, String prompt,
                     List<String> references, Map<String, Object> extra) {
    public Sample {
        images = List.copyOf(images);
        references = List.copyOf(references);
        extra = Map.copyOf(extra);
    }
}
