package io.tokensieve.datasets.formats;

import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.DatasetLoader;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.datasets.LoaderParams;
import io.tokensieve.datasets.Prompts;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.io.CloseableIterator;
import io.tokensieve.datasets.io.DataFiles;
import io.tokensieve.datasets.io.Records;
import io.tokensieve.datasets.io.Tsv;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MMBench TSV ({@code index, question, hint, A, B, C, D, answer, category, l2-category, image} with the
 * image as base64), the file itself or the one {@code *.tsv} in a folder. Images are decoded once into a
 * cache folder ({@link LoadOptions#cacheDir}, else a folder under the temporary directory), since samples
 * hold paths; an image field that is a short number refers to the image of that row index.
 *
 * <p>Circular evaluation (spec section 8), parameter {@code circular}: {@code expand} (default) asks each
 * question with N options N times, pass k rotating the option texts by k (option i shows original option
 * (i + k) mod N) under id {@code index + k * 1,000,000}; {@code file} takes rows as they are, for files
 * that already hold the rotated copies; {@code off} asks each row once.
 */
public final class MmbenchLoader implements DatasetLoader {
    public static final long CIRCULAR_STRIDE = 1_000_000L;

    @Override
    public String id() {
        return "mmbench";
    }

    @Override
    public String layout() {
        return "ROOT.tsv or ROOT/*.tsv: index, question, hint, A..D, answer, category, l2-category, image (base64)";
    }

    @Override
    public List<String> parameters() {
        return List.of("circular");
    }

    @Override
    public Iterable<Sample> open(Path root, LoaderParams params, LoadOptions options) {
        String circular = params.choice("circular", "expand", "expand", "file", "off");
        Path file = Files.isDirectory(root) ? DataFiles.single(root, "*.tsv", null, "MMBench TSV") : root;
        Path cache = options.cacheDir() != null ? options.cacheDir().resolve("mmbench-" + stem(file)) : defaultCache(file);
        try (Tsv t = Tsv.open(file)) {
            for (String col : List.of("index", "question", "A", "B", "image")) {
                if (!t.header().contains(col)) {
                    throw new DatasetException(file + ": missing column '" + col + "' (header: " + t.header() + ")");
                }
            }
        }
        return () -> iterate(file, cache, circular, options);
    }

    private CloseableIterator<Sample> iterate(Path file, Path cache, String circular, LoadOptions options) {
        Map<String, Path> imageOf = new HashMap<>();
        Tsv tsv = Tsv.open(file);
        List<String> letters = new ArrayList<>();
        for (char c : Prompts.LETTERS.toCharArray()) {
            if (tsv.header().contains(String.valueOf(c))) {
                letters.add(String.valueOf(c));
            }
        }
        return Records.of(tsv, row -> {
            long index;
            try {
                index = Long.parseLong(row.get("index").strip());
            } catch (NumberFormatException e) {
                throw row.error("'index' must be an integer, got '" + row.get("index") + "'");
            }
            if (circular.equals("expand") && index >= CIRCULAR_STRIDE) {
                throw row.error("index " + index + " is a stored circular copy; open the file with circular=file");
            }
            List<String> opts = new ArrayList<>();
            for (String l : letters) {
                String v = row.opt(l);
                if (v == null) {
                    break;
                }
                opts.add(v);
            }
            if (opts.size() < 2) {
                throw row.error("fewer than 2 options");
            }
            String answer = row.opt("answer");
            int answerIdx = -1;
            if (answer != null) {
                answerIdx = Prompts.LETTERS.indexOf(answer.strip());
                if (answer.strip().length() != 1 || answerIdx < 0 || answerIdx >= opts.size()) {
                    throw row.error("'answer' must be a letter among the " + opts.size() + " options, got '" + answer + "'");
                }
            }
            Path image = image(row, String.valueOf(index), imageOf, cache, options);
            String question = row.get("question");
            String hint = row.opt("hint");
            int passes = circular.equals("expand") ? opts.size() : 1;
            List<Sample> out = new ArrayList<>();
            for (int k = 0; k < passes; k++) {
                List<String> rotated = new ArrayList<>();
                for (int i = 0; i < opts.size(); i++) {
                    rotated.add(opts.get((i + k) % opts.size()));
                }
                StringBuilder text = new StringBuilder();
                if (hint != null) {
                    text.append(hint).append('\n');
                }
                text.append(question).append('\n').append(Prompts.options(rotated)).append(Prompts.OPTION_LETTER);
                long id = index + k * CIRCULAR_STRIDE;
                Map<String, Object> extra = new LinkedHashMap<>();
                extra.put("index", id);
                extra.put("base_index", index % CIRCULAR_STRIDE);
                extra.put("pass", k);
                Map<String, Object> optionMap = new LinkedHashMap<>();
                for (int i = 0; i < rotated.size(); i++) {
                    optionMap.put(Prompts.letter(i), rotated.get(i));
                }
                extra.put("options", optionMap);
                extra.put("category", row.opt("category") == null ? "" : row.opt("category"));
                extra.put("l2_category", row.opt("l2-category") == null ? "" : row.opt("l2-category"));
                List<String> refs = answerIdx < 0 ? List.of()
                        : List.of(Prompts.letter(Math.floorMod(answerIdx - k, opts.size())));
                out.add(new Sample(String.valueOf(id), id(), List.of(image), question,
                        Prompts.withImages(1, text.toString()), refs, extra));
            }
            return out;
        }, options);
    }

    /** The cached image file of a row, decoding its base64 field on first sight. */
    private static Path image(Tsv.Row row, String index, Map<String, Path> imageOf, Path cache, LoadOptions options) {
        String field = row.get("image").strip();
        if (field.length() <= 64 && field.chars().allMatch(Character::isDigit)) {
            Path p = imageOf.get(field);
            if (p == null) {
                throw row.error("image refers to row index " + field + ", which has not appeared before it");
            }
            imageOf.put(index, p);
            return p;
        }
        String ext = field.startsWith("/9j/") ? ".jpg" : field.startsWith("iVBOR") ? ".png" : ".img";
        Path p = cache.resolve(index + ext);
        imageOf.put(index, p);
        if (!options.checkImages()) {
            return p;
        }
        byte[] bytes;
        try {
            bytes = Base64.getMimeDecoder().decode(field);
        } catch (IllegalArgumentException e) {
            throw row.error("image is not valid base64 (" + e.getMessage() + ")");
        }
        if (bytes.length == 0) {
            throw row.error("image is empty");
        }
        try {
            if (!Files.isRegularFile(p) || Files.size(p) != bytes.length) {
                Files.createDirectories(cache);
                Path tmp = Files.createTempFile(cache, index, ".part");
                Files.write(tmp, bytes);
                Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            throw new DatasetException(cache + ": cannot write decoded image (" + e.getMessage() + ")");
        }
        return p;
    }

    private static String stem(Path file) {
        return file.getFileName().toString().replaceFirst("\\.tsv$", "");
    }

    private static Path defaultCache(Path file) {
        long size;
        long mtime;
        try {
            size = Files.size(file);
            mtime = Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read (" + e.getMessage() + ")");
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "tokensieve-cache",
                "mmbench-" + stem(file) + "-" + Long.toHexString(size) + "-" + Long.toHexString(mtime));
    }
}
