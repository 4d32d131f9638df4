package io.tokensieve.core.text;

/**
 * LLaVA-1.5 conversation templates. {@code llava15} is the llava-hf form {@code "USER: <image>\n{q}
 * ASSISTANT:"}; {@code llava15-vicuna} adds the vicuna_v1 system prompt of the original LLaVA evaluation.
 * The user content carries one {@code <image>} placeholder per image, in order.
 */
public record PromptTemplate(String id, String system, String userPrefix, String assistantPrefix) {
    public static final String IMAGE = "<image>";

    public static final PromptTemplate LLAVA15 = new PromptTemplate("llava15", "", "USER: ", " ASSISTANT:");
    public static final PromptTemplate LLAVA15_VICUNA = new PromptTemplate("llava15-vicuna",
            "A chat between a curious human and an artificial intelligence assistant. The assistant gives "
                    + "helpful, detailed, and polite answers to the human's questions. ",
            "USER: ", " ASSISTANT:");

    public static PromptTemplate byId(String id) {
        return switch (id) {
            case "llava15" -> LLAVA15;
            case "llava15-vicuna" -> LLAVA15_VICUNA;
            default -> throw new IllegalArgumentException("unknown prompt template '" + id
                    + "' (known: llava15, llava15-vicuna)");
        };
    }

    /** Wraps user content (which already holds its image placeholders) into one single-turn prompt. */
    public String render(String userContent) {
        return system + userPrefix + userContent + assistantPrefix;
    }

    /** The common single-question form: every image first, each on its own line, then the question. */
    public String renderQuestion(String question, int images) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < images; i++) {
            sb.append(IMAGE).append('\n');
        }
        return render(sb.append(question).toString());
    }
}
