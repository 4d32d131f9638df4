package io.tokensieve.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A parsed {@code POST /v1/chat/completions} body. Only the last user message is answered, with the LLaVA-1.5
 * single-turn template (its images first, then its text parts joined by newlines); earlier turns and system
 * messages are checked for shape and then ignored, because the model has no multi-turn template.
 *
 * @param question the last user message's text
 * @param images its image URLs with their JSON paths, in order
 * @param pruner the pruner spec, or null for none
 * @param maxTokens generated tokens at most
 * @param temperature 0 = greedy
 * @param topP nucleus mass
 * @param seed sampling seed
 * @param ignoredMessages messages before the last user message that were not used
 */
record ChatRequest(String question, List<ImageRef> images, String pruner, int maxTokens, double temperature,
                   double topP, long seed, int ignoredMessages) {

    /** One {@code image_url} part: the URL and where it sat in the request. */
    record ImageRef(String url, String path) {}

    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    static ChatRequest parse(JsonNode body, ServeConfig config) {
        ObjectNode o = JsonFields.object(body, "request body");
        if (JsonFields.optBool(o, "stream", "stream")) {
            throw ApiException.invalid("unsupported", "stream: streaming responses are not supported; send "
                    + "\"stream\": false");
        }
        Long n = JsonFields.optLong(o, "n", "n", 1, Integer.MAX_VALUE);
        if (n != null && n != 1) {
            throw ApiException.invalid("unsupported", "n must be 1 (one choice per request), got " + n);
        }
        JsonNode messages = JsonFields.required(o, "messages", "messages");
        if (!messages.isArray()) {
            throw JsonFields.wrongType("messages", "an array of messages", messages);
        }
        if (messages.isEmpty()) {
            throw ApiException.invalid("invalid_value", "messages is empty");
        }
        int lastUser = -1;
        for (int i = 0; i < messages.size(); i++) {
            String path = "messages[" + i + "]";
            ObjectNode m = JsonFields.object(messages.get(i), path);
            String role = JsonFields.string(JsonFields.required(m, "role", path + ".role"), path + ".role");
            if (!ROLES.contains(role)) {
                throw ApiException.invalid("invalid_value", path + ".role must be one of system, user, assistant, "
                        + "tool, developer; got '" + role + "'");
            }
            JsonNode content = JsonFields.opt(m, "content");
            if (content != null && !content.isTextual() && !content.isArray()) {
                throw JsonFields.wrongType(path + ".content", "a string or an array of content parts", content);
            }
            if (role.equals("user")) {
                if (content == null) {
                    throw JsonFields.missing(path + ".content");
                }
                lastUser = i;
            }
        }
        if (lastUser < 0) {
            throw ApiException.invalid("missing_field", "messages has no user message");
        }
        List<String> texts = new ArrayList<>();
        List<ImageRef> images = new ArrayList<>();
        String base = "messages[" + lastUser + "].content";
        JsonNode content = messages.get(lastUser).get("content");
        if (content.isTextual()) {
            texts.add(content.asText());
        } else {
            for (int j = 0; j < content.size(); j++) {
                String path = base + "[" + j + "]";
                ObjectNode part = JsonFields.object(content.get(j), path);
                String type = JsonFields.string(JsonFields.required(part, "type", path + ".type"), path + ".type");
                switch (type) {
                    case "text" -> texts.add(JsonFields.string(JsonFields.required(part, "text", path + ".text"),
                            path + ".text"));
                    case "image_url" -> {
                        JsonNode iu = JsonFields.required(part, "image_url", path + ".image_url");
                        String url = iu.isTextual() ? iu.asText() : JsonFields.string(JsonFields.required(
                                JsonFields.object(iu, path + ".image_url"), "url", path + ".image_url.url"),
                                path + ".image_url.url");
                        images.add(new ImageRef(url, path + ".image_url.url"));
                    }
                    default -> throw ApiException.invalid("invalid_value", path + ".type must be text or image_url, "
                            + "got '" + type + "'");
                }
            }
        }
        if (images.size() > config.maxImages()) {
            throw ApiException.invalid("too_many_images", base + " has " + images.size() + " images, limit "
                    + config.maxImages());
        }
        String question = String.join("\n", texts).strip();
        if (question.isEmpty()) {
            throw ApiException.invalid("empty_question", base + " has no text: the question is empty");
        }
        if (question.length() > config.maxQuestionChars()) {
            throw ApiException.invalid("question_too_long", base + " text is " + question.length()
                    + " characters, limit " + config.maxQuestionChars());
        }
        String pruner = JsonFields.optString(o, "pruner", "pruner");
        if (pruner != null && (pruner.isBlank() || pruner.strip().equals("none"))) {
            pruner = null;
        }
        Long maxTokens = JsonFields.optLong(o, "max_tokens", "max_tokens", 1, config.maxNewTokens());
        if (maxTokens == null) {
            maxTokens = JsonFields.optLong(o, "max_completion_tokens", "max_completion_tokens", 1, config.maxNewTokens());
        }
        Double temperature = JsonFields.optDouble(o, "temperature", "temperature", 0, 2, false);
        Double topP = JsonFields.optDouble(o, "top_p", "top_p", 0, 1, true);
        Long seed = JsonFields.optLong(o, "seed", "seed", Long.MIN_VALUE, Long.MAX_VALUE);
        return new ChatRequest(question, List.copyOf(images), pruner,
                maxTokens == null ? config.defaultNewTokens() : maxTokens.intValue(),
                temperature == null ? 0 : temperature, topP == null ? 1 : topP, seed == null ? 0 : seed, lastUser);
    }
}
