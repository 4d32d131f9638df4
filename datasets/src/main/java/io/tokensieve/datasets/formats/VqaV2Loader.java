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
 * VQAv2 in the official layout: {@code *questions*.json} ({@code {"data_subtype", "questions": [{image_id,
 * question, question_id}]}}) and {@code *annotations*.json} ({@code {"annotations": [{question_id,
 * answer_type, question_type, multiple_choice_answer, answers: [10 x {answer, ...}]}]}}), images at
 * {@code <root>/<data_subtype>/COCO_<data_subtype>_<12-digit image_id>.jpg} (or {@code .png}, or in
 * {@code <root>/images/}). References are the 10 human answers. Parameter {@code split} picks the files
 * when the folder holds several (e.g. {@code split=val2014}).
 */
public final class VqaV2Loader implements DatasetLoader {
    static final int ANSWERS = 10;

    @Override
    public String id() {
        return "vqav2";
    }

    @Override
    public String layout() {
        return "ROOT/*questions*.json + ROOT/*annotations*.json, "
                + "images ROOT/<data_subtype>/COCO_<data_subtype>_<12-digit id>.jpg";
    }

    @Override
    public List<String> parameters() {
        return List.of("split");
    }

    @Override
    public Iterable<Sample> open(Path root, LoaderParams params, LoadOptions options) {
        String split = params.string("split", null);
        Path questions = DataFiles.single(root, "*questions*.json", split, "VQAv2 questions file");
        Path annotations = DataFiles.single(root, "*annotations*.json", split, "VQAv2 annotations file");
        Map<String, Annotation> index = readAnnotations(annotations, options);
        return () -> iterate(root, questions, annotations, index, options);
    }

    private CloseableIterator<Sample> iterate(Path root, Path questions, Path annFile, Map<String, Annotation> index,
                                              LoadOptions options) {
        Map<String, String> scalars = new HashMap<>();
        CloseableIterator<Rec> raw = JsonRecords.listElements(questions, "questions", scalars);
        String subtype = scalars.containsKey("data_subtype") ? scalars.get("data_subtype")
                : JsonRecords.topLevelScalars(questions).get("data_subtype");
        if (subtype == null) {
            raw.close();
            throw new DatasetException(questions + ": missing key 'data_subtype' (needed for image file names)");
        }
        return Records.of(raw, r -> {
            String qid = r.id("question_id");
            Rec rec = r.named("question_id", qid);
            String question = rec.str("question");
            long imageId = rec.integer("image_id");
            Annotation a = index.get(qid);
            if (a == null) {
                throw rec.error("no annotation with this question_id in " + annFile.getFileName());
            }
            String name = String.format("COCO_%s_%012d", subtype, imageId);
            Path image = DataFiles.firstExisting(List.of(
                    root.resolve(subtype).resolve(name + ".jpg"), root.resolve(subtype).resolve(name + ".png"),
                    root.resolve("images").resolve(name + ".jpg"), root.resolve("images").resolve(name + ".png")),
                    options.checkImages(), rec);
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("question_id", qid);
            extra.put("image_id", imageId);
            extra.put("answer_type", a.answerType());
            extra.put("question_type", a.questionType());
            extra.put("multiple_choice_answer", a.multipleChoiceAnswer());
            return List.of(new Sample(qid, id(), List.of(image), question, Prompts.shortAnswer(1, question),
                    a.answers(), extra));
        }, options);
    }

    /** Reads the annotations once into an index by question id; answer strings are shared to save memory. */
    static Map<String, Annotation> readAnnotations(Path file, LoadOptions options) {
        Map<String, Annotation> index = new HashMap<>();
        Map<String, String> pool = new HashMap<>();
        try (CloseableIterator<Rec> it = JsonRecords.listElements(file, "annotations", null)) {
            while (it.hasNext()) {
                Rec r = it.next();
                try {
                    String qid = r.id("question_id");
                    Rec rec = r.named("question_id", qid);
                    var answers = rec.array("answers");
                    if (answers.size() != ANSWERS) {
                        throw rec.error("'answers' must hold " + ANSWERS + " answers, got " + answers.size());
                    }
                    String[] a = new String[ANSWERS];
                    for (int i = 0; i < ANSWERS; i++) {
                        a[i] = pool.computeIfAbsent(rec.element("answers", i).str("answer"), s -> s);
                    }
                    Annotation prev = index.put(qid, new Annotation(List.of(a), rec.str("answer_type"),
                            rec.str("question_type"), rec.optStr("multiple_choice_answer", "")));
                    if (prev != null) {
                        throw rec.error("duplicate question_id");
                    }
                } catch (DatasetException e) {
                    if (!options.skipBad()) {
                        throw e;
                    }
                    options.onSkip().accept(e);
                }
            }
        }
        return index;
    }

    record Annotation(List<String> answers, String answerType, String questionType, String multipleChoiceAnswer) {}
}
