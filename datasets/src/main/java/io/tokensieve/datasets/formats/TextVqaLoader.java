package io.tokensieve.datasets.formats;

import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.DatasetLoader;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.datasets.LoaderParams;
import io.tokensieve.datasets.Prompts;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.io.CloseableIterator;
import io.tokensieve.datasets.io.DataFiles;
import io.tokensieve.datasets.io.JsonRecords;
import io.tokensieve.datasets.io.Rec;
import io.tokensieve.datasets.io.Records;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TextVQA: {@code <root>/TextVQA_*_<split>.json} ({@code {"data": [{question, image_id, question_id,
 * answers: [10], ocr_tokens?}]}}), an optional Rosetta OCR file {@code <root>/*Rosetta*<split>*.json}
 * ({@code {"data": [{image_id, ocr_tokens}]}}) used where a record has no tokens, images
 * {@code <root>/train_images/<image_id>.jpg} or {@code <root>/images/<image_id>.jpg}.
 *
 * <p>Prompt (spec section 3): the question with its first letter upper-cased; with {@code ocr=true}
 * {@code "\nReference OCR token: " + tokens joined by ", "} follows it (LLaVA-1.5's reported setting); then
 * the short-answer instruction. Default {@code ocr=false} (the lmms-eval default).
 */
public final class TextVqaLoader implements DatasetLoader {
    @Override
    public String id() {
        return "textvqa";
    }

    @Override
    public String layout() {
        return "ROOT/TextVQA_*_<split>.json (+ optional *Rosetta*<split>*.json), images ROOT/train_images/<image_id>.jpg";
    }

    @Override
    public List<String> parameters() {
        return List.of("split", "ocr");
    }

    @Override
    public Iterable<Sample> open(Path root, LoaderParams params, LoadOptions options) {
        String split = params.string("split", "val");
        boolean ocr = params.bool("ocr", false);
        List<Path> files = DataFiles.glob(root, "TextVQA_*_" + split + ".json").stream()
                .filter(p -> !p.getFileName().toString().contains("Rosetta")).toList();
        if (files.size() != 1) {
            throw new DatasetException(root + ": expected one TextVQA_*_" + split + ".json file, found "
                    + files.stream().map(p -> p.getFileName().toString()).toList());
        }
        Path file = files.get(0);
        List<Path> rosetta = DataFiles.glob(root, "*Rosetta*" + split + "*.json");
        Map<String, List<String>> ocrIndex = ocr && !rosetta.isEmpty() ? readRosetta(rosetta.get(0)) : Map.of();
        return () -> iterate(root, file, ocr, ocrIndex, options);
    }

    private CloseableIterator<Sample> iterate(Path root, Path file, boolean ocr, Map<String, List<String>> ocrIndex,
                                              LoadOptions options) {
        return Records.of(JsonRecords.listElements(file, "data", null), r -> {
            String qid = r.id("question_id");
            Rec rec = r.named("question_id", qid);
            String question = rec.str("question");
            String imageId = rec.id("image_id");
            List<String> answers = rec.strings("answers");
            if (answers.isEmpty()) {
                throw rec.error("'answers' is empty");
            }
            Path image = DataFiles.firstExisting(List.of(root.resolve("train_images").resolve(imageId + ".jpg"),
                    root.resolve("images").resolve(imageId + ".jpg"), root.resolve("train_images").resolve(imageId + ".png"),
                    root.resolve("images").resolve(imageId + ".png")), options.checkImages(), rec);
            String text = capitalizeFirst(question);
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("image_id", imageId);
            extra.put("textvqa_ocr_tokens", ocr);
            if (ocr) {
                List<String> tokens = rec.has("ocr_tokens") ? rec.strings("ocr_tokens") : ocrIndex.get(imageId);
                if (tokens == null) {
                    throw rec.error("ocr=true but the record has no 'ocr_tokens' and no Rosetta OCR file lists image "
                            + imageId);
                }
                text += "\nReference OCR token: " + String.join(", ", tokens);
                extra.put("ocr_tokens", tokens);
            }
            return List.of(new Sample(qid, id(), List.of(image), question, Prompts.withImages(1, text + Prompts.SHORT_ANSWER),
                    answers, extra));
        }, options);
    }

    static String capitalizeFirst(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        return new StringBuilder().appendCodePoint(Character.toUpperCase(first)).append(s.substring(Character.charCount(first)))
                .toString();
    }

    private static Map<String, List<String>> readRosetta(Path file) {
        Map<String, List<String>> index = new HashMap<>();
        try (CloseableIterator<Rec> it = JsonRecords.listElements(file, "data", null)) {
            while (it.hasNext()) {
                Rec r = it.next();
                if (!r.node().isObject() || !r.has("image_id")) {
                    continue; // Rosetta files open with a header record without image_id
                }
                index.put(r.id("image_id"), r.strings("ocr_tokens"));
            }
        } catch (DatasetException e) {
            throw new DatasetException("Rosetta OCR file: " + e.getMessage());
        }
        return index;
    }
}
