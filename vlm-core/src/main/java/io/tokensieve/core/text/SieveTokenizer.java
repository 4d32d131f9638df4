package io.tokensieve.core.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import io.tokensieve.core.config.ConfigException;
import io.tokensieve.core.config.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A {@code tokenizer.json} loaded through HF tokenizers, always from a local path (never a hub name).
 * Added tokens ({@code <image>}, {@code [SEG]}, BOS/EOS) are resolved from the file itself.
 */
public final class SieveTokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;
    private final Map<String, Long> addedTokens = new HashMap<>();
    private final Map<String, Long> vocab = new HashMap<>();

    private SieveTokenizer(HuggingFaceTokenizer tokenizer, JsonNode json) {
        this.tokenizer = tokenizer;
        JsonNode added = json.get("added_tokens");
        if (added != null && added.isArray()) {
            added.forEach(t -> addedTokens.put(t.path("content").asText(), t.path("id").asLong()));
        }
        JsonNode v = json.path("model").get("vocab");
        if (v != null && v.isObject()) {
            v.fields().forEachRemaining(e -> vocab.put(e.getKey(), e.getValue().asLong()));
        }
    }

    /** Loads {@code dir/tokenizer.json}. */
    public static SieveTokenizer load(Path modelDir) {
        Path file = modelDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(file + ": file not found");
        }
        JsonNode json = Json.read(file);
        try {
            Map<String, String> opts = new HashMap<>();
            opts.put("addSpecialTokens", "true");
            opts.put("padding", "false");
            opts.put("truncation", "false");
            opts.put("maxLength", "1000000");
            return new SieveTokenizer(HuggingFaceTokenizer.newInstance(file, opts), json);
        } catch (IOException | RuntimeException e) {
            throw new ConfigException(file + ": cannot load tokenizer (" + e.getMessage() + ")");
        }
    }

    /** Token ids of {@code text}, with the special tokens the tokenizer's post-processor adds (e.g. BOS). */
    public long[] encode(String text) {
        Encoding enc = tokenizer.encode(text, true, false);
        return enc.getIds();
    }

    /** Token ids of {@code text} without special tokens. */
    public long[] encodePlain(String text) {
        return tokenizer.encode(text, false, false).getIds();
    }

    /** Decodes ids, skipping special tokens. */
    public String decode(long[] ids) {
        return tokenizer.decode(ids, true);
    }

    /** Id of an added or vocabulary token, or -1. */
    public long tokenId(String token) {
        Long id = addedTokens.get(token);
        if (id == null) {
            id = vocab.get(token);
        }
        return id == null ? -1 : id;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
