package io.tokensieve.datasets.formats;

import com.fasterxml.jackson.databind.JsonNode;
import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.DatasetLoader;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.datasets.LoaderParams;
import io.tokensieve.datasets.Prompts;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.io.JsonRecords;
import io.tokensieve.datasets.io.Rec;
import io.tokensieve.datasets.io.Records;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * ScienceQA: {@code <root>/problems.json} (map {@code pid -> {question, choices, answer (index), hint,
 * image, split, subject, ...}}) with optional {@code <root>/pid_splits.json}; images
 * {@code <root>/images/<split>/<pid>/image.png}. Parameters: {@code split} (default test), {@code subset}
 * {@code img} (default: problems with an image, the ScienceQA-IMG benchmark) or {@code all}. The reference
 * is the answer letter; {@code extra} holds the choices and the answer index.
 */
public final class ScienceQaLoader implements DatasetLoader {
    @Override
    public String id() {
        return "scienceqa";
    }

    @Override
    public String layout() {
        return "ROOT/problems.json (+ ROOT/pid_splits.json), images ROOT/images/<split>/<pid>/image.png";
    }

    @Override
    public List<String> parameters() {
        return List.of("split", "subset");
    }

    @Override
    public Iterable<Sample> open(Path root, LoaderParams params, LoadOptions options) {
        String split = params.string("split", "test");
        boolean imgOnly = params.choice("subset", "img", "img", "all").equals("img");
        Path problems = root.resolve("problems.json");
        if (!Files.isRegularFile(problems)) {
            throw new DatasetException(root + ": problems.json not found");
        }
        Set<String> pids = splitPids(root.resolve("pid_splits.json"), split);
        return () -> Records.of(JsonRecords.objectEntries(problems), r -> {
            String pid = ((JsonRecords.KeyedRec) r).key();
            Rec rec = r.named("pid", pid);
            rec.requireObject();
            boolean inSplit = pids != null ? pids.contains(pid) : split.equals(rec.optStr("split", ""));
            if (!inSplit) {
                return List.of();
            }
            String imageName = rec.has("image") ? rec.str("image") : null;
            if (imgOnly && imageName == null) {
                return List.of();
            }
            String question = rec.str("question");
            List<String> choices = rec.strings("choices");
            if (choices.size() < 2 || choices.size() > Prompts.LETTERS.length()) {
                throw rec.error("'choices' must hold 2 or more options, got " + choices.size());
            }
            long answer = rec.integer("answer");
            if (answer < 0 || answer >= choices.size()) {
                throw rec.error("'answer' " + answer + " is not an index into " + choices.size() + " choices");
            }
            String hint = rec.optStr("hint", "");
            StringBuilder text = new StringBuilder();
            if (!hint.isEmpty()) {
                text.append("Context: ").append(hint).append('\n');
            }
            text.append(question).append('\n').append(Prompts.options(choices)).append(Prompts.OPTION_LETTER);
            List<Path> images = List.of();
            if (imageName != null) {
                Path img = root.resolve("images").resolve(split).resolve(pid).resolve(imageName);
                if (options.checkImages() && !Files.isRegularFile(img)) {
                    throw rec.error("image not found (" + img + ")");
                }
                images = List.of(img);
            }
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("choices", choices);
            extra.put("answer_index", (int) answer);
            extra.put("has_image", imageName != null);
            for (String k : List.of("subject", "category", "grade")) {
                if (rec.has(k)) {
                    extra.put(k, rec.get(k).asText());
                }
            }
            return List.of(new Sample(pid, id(), images, question, Prompts.withImages(images.size(), text.toString()),
                    List.of(Prompts.letter((int) answer)), extra));
        }, options);
    }

    /** The problem ids of {@code split} from pid_splits.json, or null when the file is absent. */
    private static Set<String> splitPids(Path file, String split) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode root = JsonRecords.readTree(file);
        JsonNode list = root.get(split);
        if (list == null || !list.isArray()) {
            throw new DatasetException(file + ": no list for split '" + split + "'");
        }
        Set<String> out = new HashSet<>();
        list.forEach(n -> out.add(n.asText()));
        return out;
    }
}
