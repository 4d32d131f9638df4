package io.tokensieve.datasets.shapes;

import io.tokensieve.core.image.RgbImage;

import java.util.ArrayList;
import java.util.List;

/**
 * One ScanQA-format question about a multi-view 3D scene.
 *
 * @param questionId {@code <split>-<scene_id>-<n>}
 * @param sceneId {@code scene%04d_00}
 * @param views the posed views (colour, depth, camera, per-patch xyz)
 * @param question question text
 * @param family nearest, farthest, tallest, count, colour, shape, above or below
 * @param answers reference answers, canonical first
 * @param objectIds ScanQA object_ids: the objects the answer is about
 * @param objectNames ScanQA object_names of those objects
 * @param scene the scene graph the answers were computed from
 */
public record Scene3dExample(String questionId, String sceneId, List<PosedView> views, String question, String family,
                             List<String> answers, List<Integer> objectIds, List<String> objectNames, Scene3d scene)
        implements ShapesExample {
    public Scene3dExample {
        views = List.copyOf(views);
        answers = List.copyOf(answers);
        objectIds = List.copyOf(objectIds);
        objectNames = List.copyOf(objectNames);
    }

    @Override
    public Track track() {
        return Track.THREE_D;
    }

    @Override
    public String id() {
        return questionId;
    }

    @Override
    public List<RgbImage> images() {
        List<RgbImage> out = new ArrayList<>();
        for (PosedView v : views) {
            out.add(v.colour());
        }
        return out;
    }

    /** One {@code <image>} per view, then the question and the short-answer instruction. */
    @Override
    public String prompt() {
        return ShapesPrompts.shortAnswer(question, views.size());
    }

    /** Per view, the {@code [256][3]} world xyz of its visual tokens. */
    public float[][][] patchXyz() {
        float[][][] out = new float[views.size()][][];
        for (int i = 0; i < views.size(); i++) {
            out[i] = views.get(i).patchXyz();
        }
        return out;
    }
}
