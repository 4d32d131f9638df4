package io.tokensieve.datasets.formats;

import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.DatasetLoader;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.datasets.LoaderParams;
import io.tokensieve.datasets.Prompts;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.io.DataFiles;
import io.tokensieve.datasets.io.JsonRecords;
import io.tokensieve.datasets.io.Rec;
import io.tokensieve.datasets.io.Records;
import io.tokensieve.datasets.scene.SceneViews;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ScanQA: {@code <root>/ScanQA_v1.0_<split>.json}, a list of {@code {question_id, scene_id, question,
 * answers, object_ids, object_names}}, with scene views in the posed_images layout ({@link SceneViews}).
 * A sample's images are {@code views} frames sampled uniformly (default 3), one placeholder each, then the
 * question and the short-answer instruction. Parameters: {@code split} (default val), {@code views}.
 */
public final class ScanQaLoader implements DatasetLoader {
    @Override
    public String id() {
        return "scanqa";
    }

    @Override
    public String layout() {
        return "ROOT/ScanQA_v1.0_<split>.json, scenes ROOT/posed_images/<scene_id>/<frame>.jpg|.png|.txt + intrinsic.txt";
    }

    @Override
    public List<String> parameters() {
        return List.of("split", "views");
    }

    @Override
    public Iterable<Sample> open(Path root, LoaderParams params, LoadOptions options) {
        String split = params.string("split", "val");
        int views = params.positiveInt("views", 3);
        Path file = DataFiles.single(root, "ScanQA_v1.0_" + split + "*.json", null, "ScanQA " + split + " file");
        boolean answered = !split.startsWith("test");
        return () -> {
            Map<String, SceneViews> scenes = new HashMap<>();
            return Records.of(JsonRecords.listElements(file, null, null), r -> {
                String qid = r.id("question_id");
                Rec rec = r.named("question_id", qid);
                String sceneId = rec.str("scene_id");
                String question = rec.str("question");
                List<String> answers = answered || rec.has("answers") ? rec.strings("answers") : List.of();
                if (answered && answers.isEmpty()) {
                    throw rec.error("'answers' is empty");
                }
                Map<String, Object> extra = new LinkedHashMap<>();
                extra.put("scene_id", sceneId);
                if (rec.has("object_names")) {
                    extra.put("object_names", rec.strings("object_names"));
                }
                List<Path> images = sceneImages(root, sceneId, views, scenes, extra, rec);
                return List.of(new Sample(qid, id(), images, question, Prompts.shortAnswer(views, question), answers,
                        extra));
            }, options);
        };
    }

    /** Samples the scene's views, records their geometry in {@code extra}, returns the colour images. */
    static List<Path> sceneImages(Path root, String sceneId, int views, Map<String, SceneViews> scenes,
                                  Map<String, Object> extra, Rec rec) {
        SceneViews scene;
        try {
            scene = scenes.computeIfAbsent(sceneId, s -> SceneViews.open(root, s));
        } catch (DatasetException e) {
            throw rec.error(e.getMessage());
        }
        List<SceneViews.Frame> picked = scene.sample(views);
        extra.putAll(scene.extra(picked));
        return picked.stream().map(SceneViews.Frame::colour).toList();
    }
}
