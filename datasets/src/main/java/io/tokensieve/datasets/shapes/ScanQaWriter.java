package io.tokensieve.datasets.shapes;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;

/**
 * ScanQA + LLaVA-3D posed images: {@code ScanQA_v1.0_<split>.json} (a list of {@code {"question_id",
 * "scene_id", "question", "answers", "object_ids", "object_names"}}) and per scene
 * {@code posed_images/<scene_id>/<frame>.png} (colour), {@code <frame>_depth.png} (16-bit millimetres,
 * 0 = no hit), {@code <frame>.txt} (4x4 camera-to-world) and {@code intrinsic.txt} (4x4).
 */
final class ScanQaWriter {
    private ScanQaWriter() {}

    static ShapesWriter.Summary write(ShapesWriter.Options o) {
        String split = o.splitOr(ShapesBench.SCANQA_SPLIT);
        ArrayNode list = JsonOut.array();
        int images = 0;
        ShapesBench.Posed posed = null;
        int posedIndex = -1;
        for (int i = 0; i < o.n(); i++) {
            int sceneIndex = i / ShapesBench.SCANQA_QUESTIONS_PER_SCENE;
            if (sceneIndex != posedIndex) {
                posed = ShapesBench.posedScene(o.seed(), sceneIndex, o.views());
                posedIndex = sceneIndex;
                images += writeViews(o.out().resolve("posed_images").resolve(ShapesBench.sceneId(sceneIndex)), posed);
            }
            Scene3dExample ex = ShapesBench.scene3d(posed, i, split);
            ObjectNode q = list.addObject();
            q.put("question_id", ex.questionId());
            q.put("scene_id", ex.sceneId());
            q.put("question", ex.question());
            ArrayNode answers = q.putArray("answers");
            ex.answers().forEach(answers::add);
            ArrayNode ids = q.putArray("object_ids");
            ex.objectIds().forEach(ids::add);
            ArrayNode names = q.putArray("object_names");
            ex.objectNames().forEach(names::add);
        }
        JsonOut.write(o.out().resolve("ScanQA_v1.0_" + split + ".json"), list);
        return new ShapesWriter.Summary(Track.THREE_D, o.n(), images, o.out());
    }

    private static int writeViews(Path dir, ShapesBench.Posed posed) {
        int size = ShapesBench.IMAGE_SIZE;
        for (PosedView v : posed.views()) {
            String frame = String.format("%05d", v.frame());
            JsonOut.writeBytes(dir.resolve(frame + ".png"), Png.rgb8(v.colour()));
            JsonOut.writeBytes(dir.resolve(frame + "_depth.png"), Png.gray16(v.depthMm(), size, size));
            JsonOut.writeText(dir.resolve(frame + ".txt"), Camera.format(v.camera().pose()));
        }
        JsonOut.writeText(dir.resolve("intrinsic.txt"), Camera.format(posed.views().get(0).camera().intrinsic()));
        return posed.views().size();
    }
}
