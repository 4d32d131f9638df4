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
import io.tokensieve.datasets.scene.SceneViews;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * SQA3D balanced files: {@code <root>/v1_balanced_questions_<split>_scannetv2.json} ({@code {"questions":
 * [{question_id, scene_id, situation, question}]}}) and {@code <root>/v1_balanced_sqa_annotations_<split>_scannetv2.json}
 * ({@code {"annotations": [{question_id, answers: [{answer}]}]}}), scene views as for ScanQA. The prompt is
 * the situation, a space, the question and the short-answer instruction. {@code extra.question_type} is
 * the SQA3D type 0..5 from the question's first word (what, is, how, can, which, other). Parameters:
 * {@code split} (default test), {@code views} (default 3).
 */
public final class Sqa3dLoader implements DatasetLoader {
    public static final List<String> QUESTION_TYPES = List.of("what", "is", "how", "can", "which", "other");

    @Override
    public String id() {
        return "sqa3d";
    }

    @Override
    public String layout() {
        return "ROOT/v1_balanced_questions_<split>_scannetv2.json + ROOT/v1_balanced_sqa_annotations_<split>_scannetv2.json, "
                + "scenes ROOT/posed_images/<scene_id>/";
    }

    @Override
    public List<String> parameters() {
        return List.of("split", "views");
    }

    /** SQA3D question type from the question's first word: 0 what, 1 is, 2 how, 3 can, 4 which, 5 other. */
    public static int questionType(String question) {
        String q = question.stripLeading().toLowerCase(Locale.ROOT);
        for (int t = 0; t < 5; t++) {
            if (q.startsWith(QUESTION_TYPES.get(t))) {
                return t;
            }
        }
        return 5;
    }

    @Override
    public Iterable<Sample> open(Path root, LoaderParams params, LoadOptions options) {
        String split = params.string("split", "test");
        int views = params.positiveInt("views", 3);
        Path questions = DataFiles.single(root, "v1_balanced_questions_" + split + "_*.json", null, "SQA3D questions");
        Path annotations = DataFiles.single(root, "v1_balanced_sqa_annotations_" + split + "_*.json", null,
                "SQA3D annotations");
        Map<String, List<String>> answers = new HashMap<>();
        try (CloseableIterator<Rec> it = JsonRecords.listElements(annotations, "annotations", null)) {
            while (it.hasNext()) {
                Rec r = it.next();
                try {
                    String qid = r.id("question_id");
                    Rec rec = r.named("question_id", qid);
                    List<String> a = new ArrayList<>();
                    for (int i = 0; i < rec.array("answers").size(); i++) {
                        a.add(rec.element("answers", i).str("answer"));
                    }
                    if (a.isEmpty()) {
                        throw rec.error("'answers' is empty");
                    }
                    answers.put(qid, a);
                } catch (DatasetException e) {
                    if (!options.skipBad()) {
                        throw e;
                    }
                    options.onSkip().accept(e);
                }
            }
        }
        return () -> {
            Map<String, SceneViews> scenes = new HashMap<>();
            return Records.of(JsonRecords.listElements(questions, "questions", null), r -> {
                String qid = r.id("question_id");
                Rec rec = r.named("question_id", qid);
                String sceneId = rec.str("scene_id");
                String situation = rec.str("situation");
                String question = rec.str("question");
                List<String> refs = answers.get(qid);
                if (refs == null) {
                    throw rec.error("no annotation with this question_id in " + annotations.getFileName());
                }
                Map<String, Object> extra = new LinkedHashMap<>();
                extra.put("scene_id", sceneId);
                extra.put("situation", situation);
                extra.put("question_type", questionType(question));
                List<Path> images = ScanQaLoader.sceneImages(root, sceneId, views, scenes, extra, rec);
                return List.of(new Sample(qid, id(), images, question,
                        Prompts.shortAnswer(views, situation + " " + question), refs, extra));
            }, options);
        };
    }
}
