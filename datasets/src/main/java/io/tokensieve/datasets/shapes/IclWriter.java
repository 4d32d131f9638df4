package io.tokensieve.datasets.shapes;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The project's in-context JSONL: {@code icl.jsonl} lines {@code {"id", "instruction", "demos": [{"image",
 * "question", "answer"}], "query": {"image", "question"}, "answers": [...]}} with image paths relative to
 * the folder ({@code images/<id>_demo<k>.png}, {@code images/<id>_query.png}).
 */
final class IclWriter {
    static final String FILE = "icl.jsonl";

    private IclWriter() {}

    static ShapesWriter.Summary write(ShapesWriter.Options o) {
        StringBuilder lines = new StringBuilder();
        int images = 0;
        for (int i = 0; i < o.n(); i++) {
            IclExample ex = ShapesBench.icl(o.seed(), i, o.shots());
            ObjectNode line = JsonOut.object();
            line.put("id", ex.id());
            line.put("instruction", ex.instruction());
            ArrayNode demos = line.putArray("demos");
            for (int k = 0; k < ex.demos().size(); k++) {
                IclExample.Demo d = ex.demos().get(k);
                String rel = "images/" + ex.id() + "_demo" + k + ".png";
                JsonOut.writeBytes(o.out().resolve(rel), Png.rgb8(d.image()));
                images++;
                ObjectNode demo = demos.addObject();
                demo.put("image", rel);
                demo.put("question", d.question());
                demo.put("answer", d.answer());
            }
            String rel = "images/" + ex.id() + "_query.png";
            JsonOut.writeBytes(o.out().resolve(rel), Png.rgb8(ex.queryImage()));
            images++;
            ObjectNode query = line.putObject("query");
            query.put("image", rel);
            query.put("question", ex.question());
            ArrayNode answers = line.putArray("answers");
            ex.answers().forEach(answers::add);
            lines.append(JsonOut.line(line)).append('\n');
        }
        JsonOut.writeText(o.out().resolve(FILE), lines.toString());
        return new ShapesWriter.Summary(Track.ICL, o.n(), images, o.out());
    }
}
