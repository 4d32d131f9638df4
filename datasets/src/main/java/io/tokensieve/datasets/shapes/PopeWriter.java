package io.tokensieve.datasets.shapes;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * POPE files: {@code coco_pope_random.json}, {@code coco_pope_popular.json}, {@code coco_pope_adversarial.json}
 * (JSON lines {@code {"question_id", "image", "text", "label"}}) with the images in {@code images/}. The
 * three files share images and yes-probes and differ in their no-probes.
 */
final class PopeWriter {
    private PopeWriter() {}

    static ShapesWriter.Summary write(ShapesWriter.Options o) {
        int images = 0;
        for (PopeVariant v : PopeVariant.values()) {
            StringBuilder lines = new StringBuilder();
            String lastImage = null;
            for (int i = 0; i < o.n(); i++) {
                PopeExample ex = ShapesBench.pope(o.seed(), i, v);
                if (v == PopeVariant.RANDOM && !ex.imageFile().equals(lastImage)) {
                    lastImage = ex.imageFile();
                    images++;
                    JsonOut.writeBytes(o.out().resolve("images").resolve(ex.imageFile()), Png.rgb8(ex.image()));
                }
                ObjectNode line = JsonOut.object();
                line.put("question_id", ex.questionId());
                line.put("image", ex.imageFile());
                line.put("text", ex.question());
                line.put("label", ex.label());
                lines.append(JsonOut.line(line)).append('\n');
            }
            JsonOut.writeText(o.out().resolve(v.fileName()), lines.toString());
        }
        return new ShapesWriter.Summary(Track.POPE, o.n(), images, o.out());
    }
}
