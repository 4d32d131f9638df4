package io.tokensieve.core.runtime;

import ai.djl.ndarray.NDManager;
import io.tokensieve.core.config.ClipVisionConfig;
import io.tokensieve.core.config.LlamaTextConfig;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.config.PreprocessorConfig;
import io.tokensieve.core.config.SieveExtras;
import io.tokensieve.core.text.WordLevelTokenizer;
import io.tokensieve.core.weights.ModelWeights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Tiny random-weight LLaVA checkpoints in HF format ({@code config.json}, {@code model.safetensors},
 * {@code tokenizer.json}, {@code preprocessor_config.json}), for tests and for trying the CLI without
 * the embedded model. Identical bytes for the same seed on every machine.
 */
public final class RandomCheckpoint {
    private RandomCheckpoint() {}

    /** A small English + digits vocabulary for random checkpoints. */
    public static List<String> defaultWords() {
        List<String> w = new ArrayList<>(List.of("user", "assistant", ":", "?", ".", ",", "!", "'", "-",
                "what", "is", "this", "the", "a", "an", "of", "in", "on", "to", "and", "or", "yes", "no", "there",
                "color", "shape", "how", "many", "which", "where", "left", "right", "above", "below", "image",
                "picture", "answer", "question", "using", "single", "word", "phrase", "red", "green", "blue",
                "yellow", "circle", "square", "triangle", "object", "objects", "any", "it", "are", "do", "you", "see"));
        for (int d = 0; d <= 9; d++) {
            w.add(String.valueOf(d));
        }
        for (char c = 'a'; c <= 'z'; c++) {
            w.add(String.valueOf(c));
        }
        return w;
    }

    /** The "tiny" preset: 112 px images, patch 14 (64 visual tokens), 4 decoder layers with GQA. */
    public static LlavaConfig tinyConfig(int vocab, int imageTokenId, SieveExtras extras) {
        ClipVisionConfig v = new ClipVisionConfig(32, 64, 2, 4, 3, 112, 14, "quick_gelu", 1e-5, 32);
        LlamaTextConfig t = new LlamaTextConfig(vocab, 64, 128, 4, 4, 2, 16, "silu", 2048, 1e-5, 10000.0, false, 1, 2, 3);
        return new LlavaConfig(v, t, List.of(-2), "default", imageTokenId, "gelu", true, extras);
    }

    /** Writes a tiny random checkpoint into {@code dir} (created if missing). */
    public static void write(Path dir, long seed) throws IOException {
        write(dir, seed, false);
    }

    /** As {@link #write(Path, long)}; with {@code extras} the config has a [SEG] mask head and a 3D embedding. */
    public static void write(Path dir, long seed, boolean extras) throws IOException {
        write(dir, seed, extras, false);
    }

    /**
     * As {@link #write(Path, long, boolean)}, with a 2D position embedding too when {@code position2d}; its table is
     * the last parameter drawn, so the other weights equal those of the same seed without it.
     */
    public static void write(Path dir, long seed, boolean extras, boolean position2d) throws IOException {
        write(dir, seed, extras, position2d, false);
    }

    /**
     * As {@link #write(Path, long, boolean, boolean)}, with the 2D table added after the projector when
     * {@code afterProjector} (which implies {@code position2d}).
     */
    public static void write(Path dir, long seed, boolean extras, boolean position2d, boolean afterProjector)
            throws IOException {
        position2d |= afterProjector;
        Files.createDirectories(dir);
        List<String> special = new ArrayList<>(List.of(WordLevelTokenizer.UNK, WordLevelTokenizer.BOS,
                WordLevelTokenizer.EOS, WordLevelTokenizer.PAD, WordLevelTokenizer.IMAGE));
        if (extras) {
            special.add(WordLevelTokenizer.SEG);
        }
        WordLevelTokenizer tok = new WordLevelTokenizer(special, defaultWords());
        SieveExtras ex = extras
                ? new SieveExtras(tok.id(WordLevelTokenizer.SEG), 16, 4, true, 0, position2d, afterProjector)
                : position2d ? new SieveExtras(-1, 0, 0, false, 0, true, afterProjector) : SieveExtras.NONE;
        LlavaConfig config = tinyConfig(tok.size(), tok.id(WordLevelTokenizer.IMAGE), ex);
        config.save(dir);
        PreprocessorConfig.clip(config.vision().imageSize()).save(dir);
        tok.save(dir);
        try (ModelWeights w = ModelWeights.random(config, seed, 0.1f, NDManager.newBaseManager())) {
            w.save(dir, Map.of("seed", String.valueOf(seed), "kind", "random"));
        }
    }
}
