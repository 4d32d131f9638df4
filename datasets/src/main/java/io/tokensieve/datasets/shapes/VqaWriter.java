package io.tokensieve.datasets.shapes;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;

/**
 * VQAv2 files: {@code v2_OpenEnded_mscoco_<split>_questions.json}, {@code v2_mscoco_<split>_annotations.json}
 * and {@code <split>/COCO_<split>_<12-digit image_id>.png}.
 */
final class VqaWriter {
    private VqaWriter() {}

    static ShapesWriter.Summary write(ShapesWriter.Options o) {
        String split = o.splitOr(ShapesBench.VQA_SPLIT);
        ArrayNode questions = JsonOut.array();
        ArrayNode annotations = JsonOut.array();
        int images = 0;
        int lastImage = -1;
        for (int i = 0; i < o.n(); i++) {
            VqaExample ex = ShapesBench.vqa(o.seed(), i);
            if (ex.imageId() != lastImage) {
                lastImage = ex.imageId();
                images++;
                JsonOut.writeBytes(imagePath(o.out(), split, ex.imageId()), Png.rgb8(ex.image()));
            }
            ObjectNode q = questions.addObject();
            q.put("image_id", ex.imageId());
            q.put("question", ex.question());
            q.put("question_id", ex.questionId());
            ObjectNode a = annotations.addObject();
            a.put("question_id", ex.questionId());
            a.put("image_id", ex.imageId());
            a.put("question_type", ex.family());
            a.put("answer_type", ex.answerType());
            a.put("multiple_choice_answer", ex.answer());
            ArrayNode answers = a.putArray("answers");
            for (int k = 0; k < ex.answers().size(); k++) {
                ObjectNode ans = answers.addObject();
                ans.put("answer", ex.answers().get(k));
                ans.put("answer_confidence", "yes");
                ans.put("answer_id", k + 1);
            }
        }
        ObjectNode qRoot = JsonOut.object();
        qRoot.set("info", JsonOut.info("vqa", o.seed(), o.n()));
        qRoot.put("task_type", "Open-Ended");
        qRoot.put("data_type", "mscoco");
        qRoot.set("license", license());
        qRoot.put("data_subtype", split);
        qRoot.set("questions", questions);
        JsonOut.write(o.out().resolve("v2_OpenEnded_mscoco_" + split + "_questions.json"), qRoot);
        ObjectNode aRoot = JsonOut.object();
        aRoot.set("info", JsonOut.info("vqa", o.seed(), o.n()));
        aRoot.set("license", license());
        aRoot.put("data_subtype", split);
        aRoot.set("annotations", annotations);
        JsonOut.write(o.out().resolve("v2_mscoco_" + split + "_annotations.json"), aRoot);
        return new ShapesWriter.Summary(Track.VQA, o.n(), images, o.out());
    }

    static Path imagePath(Path out, String split, int imageId) {
        return out.resolve(split).resolve(String.format("COCO_%s_%012d.png", split, imageId));
    }

    private static ObjectNode license() {
        ObjectNode l = JsonOut.object();
        l.put("name", "generated data, free to use");
        return l;
    }
}
