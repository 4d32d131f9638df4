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

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * POPE: {@code coco_pope_<subset>.json} files (JSON lines {@code {question_id, image, text, label}}) for the
 * subsets random, popular and adversarial, in {@code <root>} or {@code <root>/coco}; images in
 * {@code <root>/images/} or {@code <root>/val2014/}. Question ids restart in every subset, so a sample's id
 * is {@code <subset>/<question_id>}. Parameter {@code subsets} (comma-separated) restricts the subsets read;
 * by default every subset file present is read, in the order random, popular, adversarial.
 */
public final class PopeLoader implements DatasetLoader {
    public static final List<String> SUBSETS = List.of("random", "popular", "adversarial");

    @Override
    public String id() {
        return "pope";
    }

    @Override
    public String layout() {
        return "ROOT/coco_pope_{random,popular,adversarial}.json (JSON lines), images ROOT/images/ or ROOT/val2014/";
    }

    @Override
    public List<String> parameters() {
        return List.of("subsets");
    }

    @Override
    public Iterable<Sample> open(Path root, LoaderParams params, LoadOptions options) {
        List<String> wanted = params.string("subsets", null) == null ? SUBSETS
                : List.of(params.string("subsets", "").split(","));
        List<Map.Entry<String, Path>> files = new ArrayList<>();
        for (String s : wanted) {
            if (!SUBSETS.contains(s.strip())) {
                throw new DatasetException("pope: unknown subset '" + s + "' (known: " + String.join(", ", SUBSETS) + ")");
            }
            String name = "coco_pope_" + s.strip() + ".json";
            Path f = Files.isRegularFile(root.resolve(name)) ? root.resolve(name) : root.resolve("coco").resolve(name);
            if (Files.isRegularFile(f)) {
                files.add(Map.entry(s.strip(), f));
            } else if (params.string("subsets", null) != null) {
                throw new DatasetException(root + ": subset file " + name + " not found");
            }
        }
        if (files.isEmpty()) {
            throw new DatasetException(root + ": no POPE files (coco_pope_random.json, coco_pope_popular.json, "
                    + "coco_pope_adversarial.json)");
        }
        return () -> Records.of(new SubsetLines(files), e -> {
            JsonRecords.Line line = e.getValue();
            Rec r = line.json();
            String qid = r.id("question_id");
            Rec rec = r.named("question_id", qid);
            String imageName = rec.str("image");
            String question = rec.str("text");
            String label = rec.str("label").strip().toLowerCase(java.util.Locale.ROOT);
            if (!label.equals("yes") && !label.equals("no")) {
                throw rec.error("'label' must be yes or no, got '" + rec.str("label") + "'");
            }
            Path image = DataFiles.firstExisting(List.of(root.resolve("images").resolve(imageName),
                    root.resolve("val2014").resolve(imageName)), options.checkImages(), rec);
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("subset", e.getKey());
            extra.put("question_id", qid);
            return List.of(new Sample(e.getKey() + "/" + qid, id(), List.of(image), question,
                    Prompts.shortAnswer(1, question), List.of(label), extra));
        }, options);
    }

    /** The lines of every subset file in turn, each tagged with its subset. */
    private static final class SubsetLines implements CloseableIterator<Map.Entry<String, JsonRecords.Line>> {
        private final Iterator<Map.Entry<String, Path>> files;
        private CloseableIterator<JsonRecords.Line> current;
        private String subset;

        SubsetLines(List<Map.Entry<String, Path>> files) {
            this.files = files.iterator();
        }

        @Override
        public boolean hasNext() {
            while (current == null || !current.hasNext()) {
                if (current != null) {
                    current.close();
                }
                if (!files.hasNext()) {
                    current = null;
                    return false;
                }
                Map.Entry<String, Path> f = files.next();
                subset = f.getKey();
                current = JsonRecords.lines(f.getValue());
            }
            return true;
        }

        @Override
        public Map.Entry<String, JsonRecords.Line> next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return Map.entry(subset, current.next());
        }

        @Override
        public void close() {
            if (current != null) {
                current.close();
            }
        }
    }
}
