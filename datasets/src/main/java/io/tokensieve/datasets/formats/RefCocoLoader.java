package io.tokensieve.datasets.formats;

import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.DatasetLoader;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.datasets.LoaderParams;
import io.tokensieve.datasets.Prompts;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.io.DataFiles;
import io.tokensieve.datasets.io.JsonRecords;
import io.tokensieve.datasets.io.PickleReader;
import io.tokensieve.datasets.io.Rec;
import io.tokensieve.datasets.io.Records;
import io.tokensieve.datasets.mask.GroundTruthMasks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * RefCOCO, RefCOCO+ and RefCOCOg in the REFER layout: {@code <root>/<dataset>/refs(<splitBy>).p} (a Python
 * pickle, read by {@link PickleReader}) or {@code refs(<splitBy>).json}, and {@code <root>/<dataset>/instances.json}
 * (COCO images and annotations); images {@code <root>/images/train2014/COCO_train2014_<12 digits>.jpg} (or
 * LISA's {@code <root>/images/mscoco/images/train2014/}). One sample per (ref, sentence), id
 * {@code <ref_id>-<sent_id>}, with the referred annotation's segmentation as ground truth (spec A.1) and
 * LISA's short-phrase prompt (spec A.2). Parameters: {@code split} (default val), {@code splitBy} (default
 * unc, umd for RefCOCOg).
 */
public abstract class RefCocoLoader implements DatasetLoader {
    private final String dataset;
    private final String defaultSplitBy;

    RefCocoLoader(String dataset, String defaultSplitBy) {
        this.dataset = dataset;
        this.defaultSplitBy = defaultSplitBy;
    }

    /** {@code refcoco}, splitBy unc. */
    public static final class RefCoco extends RefCocoLoader {
        public RefCoco() {
            super("refcoco", "unc");
        }
    }

    /** {@code refcoco+}, splitBy unc. */
    public static final class RefCocoPlus extends RefCocoLoader {
        public RefCocoPlus() {
            super("refcoco+", "unc");
        }
    }

    /** {@code refcocog}, splitBy umd. */
    public static final class RefCocoG extends RefCocoLoader {
        public RefCocoG() {
            super("refcocog", "umd");
        }
    }

    /** LISA's evaluation prompt for a short referring phrase. */
    public static String phrasePrompt(String text) {
        return Prompts.segPhrase(text);
    }

    /** LISA's evaluation prompt for a long instruction sentence. */
    public static String sentencePrompt(String text) {
        return Prompts.segSentence(text);
    }

    @Override
    public String id() {
        return dataset;
    }

    @Override
    public String layout() {
        return "ROOT/" + dataset + "/refs(" + defaultSplitBy + ").p + ROOT/" + dataset
                + "/instances.json, images ROOT/images/train2014/COCO_train2014_<12 digits>.jpg";
    }

    @Override
    public List<String> parameters() {
        return List.of("split", "splitBy");
    }

    @Override
    public Iterable<Sample> open(Path root, LoaderParams params, LoadOptions options) {
        String split = params.string("split", "val");
        String splitBy = params.string("splitBy", defaultSplitBy);
        Path dir = root.resolve(dataset);
        Path pickle = dir.resolve("refs(" + splitBy + ").p");
        Path json = dir.resolve("refs(" + splitBy + ").json");
        Path refsFile = Files.isRegularFile(pickle) ? pickle : json;
        if (!Files.isRegularFile(refsFile)) {
            throw new DatasetException(dir + ": neither refs(" + splitBy + ").p nor refs(" + splitBy + ").json found");
        }
        Path instances = dir.resolve("instances.json");
        if (!Files.isRegularFile(instances)) {
            throw new DatasetException(dir + ": instances.json not found");
        }
        List<Rec> refs = readRefs(refsFile, split);
        Set<Long> annIds = new HashSet<>();
        for (Rec r : refs) {
            if (r.has("ann_id") && r.get("ann_id").canConvertToLong()) {
                annIds.add(r.get("ann_id").asLong());
            }
        }
        Map<Long, Rec> anns = new HashMap<>();
        Map<Long, Rec> images = new HashMap<>();
        JsonRecords.forEachInLists(instances, Map.of(
                "annotations", a -> {
                    if (a.has("id") && annIds.contains(a.get("id").asLong())) {
                        anns.put(a.get("id").asLong(), a);
                    }
                },
                "images", i -> {
                    if (i.has("id")) {
                        images.put(i.get("id").asLong(), i);
                    }
                }));
        return () -> Records.of(refs.iterator(), r -> toSamples(root, r, anns, images, instances, options), options);
    }

    private List<Sample> toSamples(Path root, Rec r, Map<Long, Rec> anns, Map<Long, Rec> images, Path instances,
                                   LoadOptions options) {
        long refId = r.integer("ref_id");
        Rec ref = r.named("ref_id", refId);
        long annId = ref.integer("ann_id");
        long imageId = ref.integer("image_id");
        Rec ann = anns.get(annId);
        if (ann == null) {
            throw ref.error("annotation " + annId + " not found in " + instances);
        }
        Rec img = images.get(imageId);
        if (img == null) {
            throw ref.error("image " + imageId + " not found in " + instances);
        }
        String fileName = img.optStr("file_name", String.format("COCO_train2014_%012d.jpg", imageId));
        Path image = DataFiles.firstExisting(List.of(root.resolve("images").resolve("train2014").resolve(fileName),
                root.resolve("images").resolve("mscoco").resolve("images").resolve("train2014").resolve(fileName),
                root.resolve("images").resolve(fileName)), options.checkImages(), ref);
        int h = (int) img.integer("height");
        int w = (int) img.integer("width");
        Object seg = JsonRecords.MAPPER.convertValue(ann.get("segmentation"), Object.class);
        if (!(seg instanceof List<?>) && !(seg instanceof Map<?, ?>)) {
            throw ann.error("'segmentation' must be polygons or RLE");
        }
        List<Sample> out = new ArrayList<>();
        var sentences = ref.array("sentences");
        if (sentences.isEmpty()) {
            throw ref.error("'sentences' is empty");
        }
        for (int i = 0; i < sentences.size(); i++) {
            Rec s = ref.element("sentences", i);
            String text = s.has("sent") ? s.str("sent") : s.str("raw");
            String sentId = s.id("sent_id");
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("ref_id", refId);
            extra.put("sent_id", sentId);
            extra.put("ann_id", annId);
            extra.put("image_id", imageId);
            extra.put("is_sentence", false);
            extra.put(GroundTruthMasks.KEY, GroundTruthMasks.coco(seg, h, w));
            out.add(new Sample(refId + "-" + sentId, id(), List.of(image), text.strip(), phrasePrompt(text.strip()),
                    List.of(), extra));
        }
        return out;
    }

    /** The refs of {@code split}, as records (pickle data converted to JSON trees for uniform access). */
    private static List<Rec> readRefs(Path file, String split) {
        Object data = file.getFileName().toString().endsWith(".p") ? PickleReader.read(file)
                : JsonRecords.MAPPER.convertValue(JsonRecords.readTree(file), Object.class);
        if (!(data instanceof List<?> list)) {
            throw new DatasetException(file + ": expected a list of refs");
        }
        List<Rec> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            Rec r = new Rec(JsonRecords.MAPPER.valueToTree(list.get(i)), file, "ref " + i);
            r.requireObject();
            if (split.equals(r.optStr("split", null))) {
                out.add(r);
            }
        }
        return out;
    }
}
