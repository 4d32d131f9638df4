package io.tokensieve.datasets;

import java.util.List;

/** The prompt conventions of the benchmark specs, shared by the loaders. */
public final class Prompts {
    /** LLaVA-1.5 short-answer instruction (VQAv2, GQA, TextVQA, POPE, MME, 3D QA). */
    public static final String SHORT_ANSWER = "\nAnswer the question using a single word or phrase.";
    /** LLaVA-1.5 multiple-choice instruction (ScienceQA, MMBench). */
    public static final String OPTION_LETTER = "\nAnswer with the option's letter from the given choices directly.";
    public static final String IMAGE = "<image>";
    public static final String LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    private Prompts() {}

    /** {@code images} placeholders, each on its own line, then {@code text}. */
    public static String withImages(int images, String text) {
        return (IMAGE + "\n").repeat(images) + text;
    }

    /** {@code question + SHORT_ANSWER} after {@code images} placeholders. */
    public static String shortAnswer(int images, String question) {
        return withImages(images, question + SHORT_ANSWER);
    }

    /** LISA's evaluation prompt for a short referring phrase (spec A.2). */
    public static String segPhrase(String text) {
        return IMAGE + "\n What is " + text + " in this image? Please output segmentation mask.";
    }

    /** LISA's evaluation prompt for a long instruction sentence (spec A.2). */
    public static String segSentence(String text) {
        return IMAGE + "\n " + text + " Please output segmentation mask.";
    }

    /**
     * The in-context template (spec B.3): instruction line, {@code <image>\nQuestion: q\nShort answer: a\n\n}
     * per demo, then the query ending in {@code Short answer:}.
     */
    public static String inContext(String instruction, List<String> demoQuestions, List<String> demoAnswers,
                                   String query) {
        StringBuilder b = new StringBuilder();
        if (!instruction.isBlank()) {
            b.append(instruction).append('\n');
        }
        for (int i = 0; i < demoQuestions.size(); i++) {
            b.append(IMAGE).append("\nQuestion: ").append(demoQuestions.get(i)).append("\nShort answer: ")
                    .append(demoAnswers.get(i)).append("\n\n");
        }
        return b.append(IMAGE).append("\nQuestion: ").append(query).append("\nShort answer:").toString();
    }

    /** Options as {@code "A. c0\nB. c1..."}. */
    public static String options(List<String> choices) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < choices.size(); i++) {
            if (i > 0) {
                sb.append('\n');
            }
            sb.append(LETTERS.charAt(i)).append(". ").append(choices.get(i));
        }
        return sb.toString();
    }

    public static String letter(int index) {
        return String.valueOf(LETTERS.charAt(index));
    }
}
