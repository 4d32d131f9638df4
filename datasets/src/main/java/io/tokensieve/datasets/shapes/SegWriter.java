package io.tokensieve.datasets.shapes;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * ReasonSeg files: {@code <split>/<id>.png} and {@code <split>/<id>.json} with
 * {@code {"text": [expression], "is_sentence": bool, "shapes": [{"label": "target", "points": [[x, y], ...],
 * "shape_type": "polygon"}]}}. Targets are never covered by other objects, so no "ignore" polygon is needed.
 */
final class SegWriter {
    private SegWriter() {}

    static ShapesWriter.Summary write(ShapesWriter.Options o) {
        String split = o.splitOr(ShapesBench.SEG_SPLIT);
        for (int i = 0; i < o.n(); i++) {
            SegExample ex = ShapesBench.seg(o.seed(), i);
            JsonOut.writeBytes(o.out().resolve(split).resolve(ex.id() + ".png"), Png.rgb8(ex.image()));
            JsonOut.write(o.out().resolve(split).resolve(ex.id() + ".json"), json(ex));
        }
        return new ShapesWriter.Summary(Track.SEG, o.n(), o.n(), o.out());
    }

    static ObjectNode json(SegExample ex) {
        ObjectNode root = JsonOut.object();
        root.putArray("text").add(ex.expression());
        root.put("is_sentence", ex.isSentence());
        ObjectNode shape = root.putArray("shapes").addObject();
        shape.put("label", "target");
        ArrayNode points = shape.putArray("points");
        for (int k = 0; k < ex.target().size(); k++) {
            points.addArray().add((double) ex.target().x(k)).add((double) ex.target().y(k));
        }
        shape.put("shape_type", "polygon");
        return root;
    }
}
