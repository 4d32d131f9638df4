package io.tokensieve.datasets.formats;

import io.tokensieve.datasets.DatasetLoader;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.datasets.LoaderParams;
import io.tokensieve.datasets.Prompts;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.io.DataFiles;
import io.tokensieve.datasets.io.JsonRecords;
import io.tokensieve.datasets.io.Rec;
import io.tokensieve.datasets.io.Records;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GQA balanced questions: {@code <root>/*_questions.json}, a map {@code {questionId: {imageId, question,
 * answer, fullAnswer, types, ...}}}, images {@code <root>/images/<imageId>.jpg} (or {@code .png}).
 * Parameter {@code split} (e.g. {@code testdev_balanced}) reads {@code <split>_questions.json}; without it the
 * folder must hold exactly one questions file.
 */
public final class GqaLoader implements DatasetLoader {
    @Override
    public String id() {
        return "gqa";
    }

    @Override
    public String layout() {
        return "ROOT/<split>_questions.json (map questionId -> {imageId, question, answer, "
                + "...}), images ROOT/images/<imageId>.jpg";
    }

    @Override
    public List<String> parameters() {
        return List.of("split");
    }

    @Override
    public Iterable<Sample> open(Path root, LoaderParams params, LoadOptions options) {
        String split = params.string("split", null);
        Path file = DataFiles.single(root, split == null ? "*_questions.json" : split + "_questions.json", null,
                "GQA questions file");
        return () -> Records.of(JsonRecords.objectEntries(file), r -> {
            String qid = ((JsonRecords.KeyedRec) r).key();
            Rec rec = r.named("questionId", qid);
            rec.requireObject();
            String imageId = rec.id("imageId");
            String question = rec.str("question");
            String answer = rec.str("answer");
            Path image = DataFiles.firstExisting(List.of(root.resolve("images").resolve(imageId + ".jpg"),
                    root.resolve("images").resolve(imageId + ".png")), options.checkImages(), rec);
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("image_id", imageId);
            extra.put("full_answer", rec.optStr("fullAnswer", ""));
            if (rec.has("types") && rec.get("types").isObject()) {
                Map<String, Object> types = new LinkedHashMap<>();
                rec.get("types").fields().forEachRemaining(e -> types.put(e.getKey(), e.getValue().asText()));
                extra.put("types", types);
            }
            return List.of(new Sample(qid, id(), List.of(image), question, Prompts.shortAnswer(1, question),
                    List.of(answer), extra));
        }, options);
    }
}
