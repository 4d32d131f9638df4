package io.tokensieve.datasets.formats;

import com.fasterxml.jackson.databind.JsonNode;
import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.DatasetLoader;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.datasets.LoaderParams;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.io.DataFiles;
import io.tokensieve.datasets.io.JsonRecords;
import io.tokensieve.datasets.io.Rec;
import io.tokensieve.datasets.io.Records;
import io.tokensieve.datasets.mask.GroundTruthMasks;
import io.tokensieve.datasets.mask.LabelMask;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ReasonSeg: {@code <root>/<split>/<name>.jpg} (or {@code .png}) each with {@code <name>.json}
 * ({@code {"text": [...], "is_sentence": bool, "shapes": [{"label", "points": [[x, y], ...]}]}}). Ground
 * truth as LISA builds it (spec A.1): "flag" shapes skipped, labels containing "ignore" drawn as 255,
 * others as 1, largest area first. Only the first instruction is used; long sentences and short phrases
 * get LISA's two prompts (spec A.2). Parameter {@code split} (default val).
 */
public final class ReasonSegLoader implements DatasetLoader {
    @Override
    public String id() {
        return "reasonseg";
    }

    @Override
    public String layout() {
        return "ROOT/<split>/<name>.jpg + ROOT/<split>/<name>.json {text, is_sentence, shapes}";
    }

    @Override
    public List<String> parameters() {
        return List.of("split");
    }

    @Override
    public Iterable<Sample> open(Path root, LoaderParams params, LoadOptions options) {
        String split = params.string("split", "val");
        Path dir = root.resolve(split);
        List<Path> jsons = DataFiles.glob(dir, "*.json");
        if (jsons.isEmpty()) {
            throw new DatasetException(dir + ": no ReasonSeg annotation files (*.json)");
        }
        return () -> Records.of(jsons.iterator(), f -> List.of(toSample(f, options)), options);
    }

    private Sample toSample(Path json, LoadOptions options) {
        String stem = json.getFileName().toString().replaceFirst("\\.json$", "");
        Rec rec = new Rec(JsonRecords.readTree(json), json, "sample " + stem);
        rec.requireObject();
        List<String> texts = rec.strings("text");
        if (texts.isEmpty()) {
            throw rec.error("'text' is empty");
        }
        boolean sentence = rec.bool("is_sentence");
        JsonNode shapes = rec.array("shapes");
        List<Map<String, Object>> drawn = new ArrayList<>();
        for (int i = 0; i < shapes.size(); i++) {
            Rec s = rec.element("shapes", i);
            String label = s.str("label").toLowerCase(Locale.ROOT);
            if (label.equals("flag")) {
                continue;
            }
            JsonNode pts = s.array("points");
            if (pts.size() < 3) {
                throw s.error("a polygon needs at least 3 points, got " + pts.size());
            }
            List<List<Double>> points = new ArrayList<>();
            for (JsonNode p : pts) {
                if (!p.isArray() || p.size() != 2 || !p.get(0).isNumber() || !p.get(1).isNumber()) {
                    throw s.error("'points' must be [x, y] number pairs, got " + p);
                }
                points.add(List.of(p.get(0).asDouble(), p.get(1).asDouble()));
            }
            Map<String, Object> shape = new LinkedHashMap<>();
            shape.put("label", label.contains("ignore") ? LabelMask.IGNORE : 1);
            shape.put("points", points);
            drawn.add(shape);
        }
        Path dir = json.getParent();
        Path image = DataFiles.firstExisting(List.of(dir.resolve(stem + ".jpg"), dir.resolve(stem + ".png"),
                dir.resolve(stem + ".jpeg")), options.checkImages(), rec);
        Integer h = rec.has("imageHeight") ? (int) rec.integer("imageHeight") : null;
        Integer w = rec.has("imageWidth") ? (int) rec.integer("imageWidth") : null;
        String text = texts.get(0).strip();
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("is_sentence", sentence);
        extra.put(GroundTruthMasks.KEY, GroundTruthMasks.polygons(drawn, h, w));
        return new Sample(stem, id(), List.of(image), text,
                sentence ? RefCocoLoader.sentencePrompt(text) : RefCocoLoader.phrasePrompt(text), List.of(), extra);
    }
}
