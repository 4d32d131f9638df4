package io.tokensieve.core.text;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tokensieve.core.config.Json;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes an HF {@code tokenizer.json} with a WordLevel model: lower-casing normalizer, whitespace +
 * punctuation pre-tokenizer, {@code <s> $A} post-processor, and added special tokens. Used for the
 * embedded model and the random test checkpoints; real checkpoints bring their own tokenizer.json.
 */
public final class WordLevelTokenizer {
    public static final String UNK = "<unk>";
    public static final String BOS = "<s>";
    public static final String EOS = "</s>";
    public static final String PAD = "<pad>";
    public static final String IMAGE = "<image>";
    public static final String SEG = "[SEG]";

    private final Map<String, Integer> vocab = new LinkedHashMap<>();
    private final List<String> special = new ArrayList<>();

    /** Special tokens first (ids 0..), then the words in order, duplicates dropped. */
    public WordLevelTokenizer(List<String> specialTokens, List<String> words) {
        for (String s : specialTokens) {
            vocab.putIfAbsent(s, vocab.size());
            special.add(s);
        }
        for (String w : words) {
            vocab.putIfAbsent(w.toLowerCase(java.util.Locale.ROOT), vocab.size());
        }
    }

    public int size() {
        return vocab.size();
    }

    public int id(String token) {
        Integer i = vocab.get(token);
        if (i == null) {
            throw new IllegalArgumentException("token '" + token + "' is not in the vocabulary");
        }
        return i;
    }

    public Map<String, Integer> vocab() {
        return java.util.Collections.unmodifiableMap(vocab);
    }

    public void save(Path dir) throws IOException {
        ObjectNode root = Json.object();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String s : special) {
            ObjectNode t = added.addObject();
            t.put("id", vocab.get(s));
            t.put("content", s);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putObject("normalizer").put("type", "Lowercase");
        root.putObject("pre_tokenizer").put("type", "Whitespace");
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode st = post.putObject("special_tokens").putObject(BOS);
        st.put("id", BOS);
        st.putArray("ids").add(vocab.get(BOS));
        st.putArray("tokens").add(BOS);
        root.putNull("decoder");
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        model.put("unk_token", UNK);
        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer.json").toFile(), root);
    }
}
