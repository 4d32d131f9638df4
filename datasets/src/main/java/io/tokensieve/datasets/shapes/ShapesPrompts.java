package io.tokensieve.datasets.shapes;

import io.tokensieve.datasets.Prompts;

import java.util.List;

/**
 * The prompt conventions of the real benchmarks, as the loaders apply them: LLaVA-1.5 short answers for
 * VQAv2/POPE/ScanQA, the LISA protocol for ReasonSeg, and the interleaved demo template for in-context
 * episodes (specs: benchmarks-vqa.md section 2, benchmarks-segmentation-icl.md A.2 and B.3).
 */
public final class ShapesPrompts {
    public static final String IMAGE = "<image>";
    public static final String SHORT_ANSWER = "Answer the question using a single word or phrase.";
    public static final String SEG_SUFFIX = "Please output segmentation mask.";
    /** The chat-template words the loaders and the trainer wrap around prompts. */
    public static final List<String> WRAPPERS = List.of(SHORT_ANSWER, SEG_SUFFIX, "What is ... in this image?",
            "Question:", "Short answer:", "USER", "ASSISTANT", ":");

    private ShapesPrompts() {}

    /** {@code <image>\n{q}\nAnswer the question using a single word or phrase.}, one placeholder line per image. */
    public static String shortAnswer(String question, int images) {
        return Prompts.shortAnswer(images, question);
    }

    /** LISA: a sentence is followed by the suffix; a phrase is wrapped in "What is ... in this image?". */
    public static String segmentation(String text, boolean isSentence) {
        return isSentence ? Prompts.segSentence(text) : Prompts.segPhrase(text);
    }

    /** Instruction line, then {@code <image>\nQuestion: q\nShort answer: a\n\n} per demo, then the open query. */
    public static String inContext(String instruction, List<String> demoQuestions, List<String> demoAnswers,
                                   String query) {
        return Prompts.inContext(instruction, demoQuestions, demoAnswers, query);
    }
}
