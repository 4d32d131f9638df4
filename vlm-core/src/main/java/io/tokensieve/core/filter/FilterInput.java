package io.tokensieve.core.filter;

import ai.djl.ndarray.NDArray;

import java.util.List;
import java.util.Objects;

/**
 * One request for a {@link VisualTokenFilter}: the images' visual tokens in prompt order and, for pruners that
 * read the text, either the text embeddings ({@code [Tt, D]}, the prompt's text tokens in order) or the
 * question (which needs a filter built with a model, for its tokenizer and embedding table). Immutable.
 *
 * <pre>{@code
 * FilterInput in = FilterInput.of(ImageTokens.grid(e0, 24, 24), ImageTokens.grid(e1, 24, 24))
 *         .optQuestion("how many red circles are there?");
 * }</pre>
 *
 * @param images the images' tokens, in prompt order
 * @param textEmbeddings text embeddings {@code [Tt, D]}, or null
 * @param question the question, or null
 */
public record FilterInput(List<ImageTokens> images, NDArray textEmbeddings, String question) {
    public FilterInput {
        images = List.copyOf(Objects.requireNonNull(images, "images"));
    }

    public static FilterInput of(ImageTokens... images) {
        return new FilterInput(List.of(images), null, null);
    }

    public static FilterInput of(List<ImageTokens> images) {
        return new FilterInput(images, null, null);
    }

    /** With the text embeddings {@code [Tt, D]} of the prompt's text tokens. */
    public FilterInput optTextEmbeddings(NDArray textEmbeddings) {
        return new FilterInput(images, textEmbeddings, question);
    }

    /** With the question (tokenized and embedded with the filter's model). */
    public FilterInput optQuestion(String question) {
        return new FilterInput(images, textEmbeddings, question);
    }
}
