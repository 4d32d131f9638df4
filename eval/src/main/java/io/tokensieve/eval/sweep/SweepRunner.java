package io.tokensieve.eval.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tokensieve.core.image.ImageException;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.DatasetSpec;
import io.tokensieve.datasets.Datasets;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.mask.LabelMask;
import io.tokensieve.datasets.mask.MaskPng;
import io.tokensieve.eval.EvalException;
import io.tokensieve.eval.Progress;
import io.tokensieve.eval.Scorer;
import io.tokensieve.eval.Scorers;
import io.tokensieve.eval.Tally;
import io.tokensieve.eval.run.SampleInference;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Runs a sweep and survives being killed: one self-describing JSONL record per (point, sample), appended and
 * flushed as it goes; {@code --resume} reads the records back (dropping a half-written last line), skips
 * every (point, sample) already recorded and finishes the rest, so nothing is lost or duplicated. Samples
 * are the outer loop and points the inner one, so each sample is decoded once and the unpruned reference
 * runs next to the pruned points it is compared with. The summary is always rebuilt from the records.
 */
public final class SweepRunner {
    public static final String RECORDS = "records.jsonl";
    public static final String SPEC = "spec.json";
    /** Points dropped because their pruner refused the budget on this model: point key -> reason. */
    public static final String REFUSED = "refused_points.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final VlmModel model;
    private final SweepSpec spec;
    private final Path out;
    private final Consumer<String> log;
    private final boolean skipBad;

    public SweepRunner(VlmModel model, SweepSpec spec, Path out, boolean skipBad, Consumer<String> log) {
        this.model = model;
        this.spec = spec;
        this.out = out;
        this.skipBad = skipBad;
        this.log = log;
    }

    /** Loaded samples of every dataset, in spec order (limit applied). */
    public Map<String, List<Sample>> loadSamples() {
        Map<String, List<Sample>> all = new LinkedHashMap<>();
        for (String d : spec.datasets()) {
            List<Sample> list = new ArrayList<>();
            LoadOptions load = new LoadOptions(skipBad, true, e -> log.accept("skipped: " + e.getMessage()),
                    out.resolve("cache"));
            for (Sample s : Datasets.defaultRegistry().open(d, load)) {
                list.add(s);
                if (spec.limit() > 0 && list.size() >= spec.limit()) {
                    break;
                }
            }
            if (list.isEmpty()) {
                throw new EvalException(d + ": the dataset has no samples");
            }
            all.put(d, list);
        }
        return all;
    }

    /** Runs (or resumes) the sweep and writes the summary; returns it. */
    public SweepSummary.Result run(boolean resume) {
        createDirectories(out);
        Path recordsFile = out.resolve(RECORDS);
        Path specFile = out.resolve(SPEC);
        Map<String, Object> specMap = spec.toMap();
        if (Files.exists(recordsFile) || Files.exists(specFile)) {
            if (!resume) {
                throw new EvalException(out + " already holds a sweep: pass --resume to finish it, or choose another --out");
            }
            try {
                JsonNode saved = JSON.readTree(specFile.toFile());
                // compare as parsed text on both sides (a long seed and the int read back are the same value)
                JsonNode now = JSON.readTree(JSON.writeValueAsString(specMap));
                if (!saved.equals(now)) {
                    List<String> differ = new ArrayList<>();
                    now.fieldNames().forEachRemaining(k -> {
                        if (!now.get(k).equals(saved.get(k))) {
                            differ.add(k + " (was " + saved.get(k) + ", now " + now.get(k) + ")");
                        }
                    });
                    throw new EvalException(out + ": --resume with a different sweep spec than the one that started it: "
                            + String.join(", ", differ));
                }
            } catch (IOException e) {
                throw new EvalException(specFile + ": cannot read (" + e.getMessage() + ")");
            }
        } else {
            writeJson(specFile, specMap);
        }
        Map<String, List<Sample>> samples = loadSamples();
        List<JsonNode> existing = SweepRecords.readAndRepair(recordsFile);
        Set<String> done = new HashSet<>();
        Map<String, JsonNode> references = new HashMap<>();
        for (JsonNode r : existing) {
            done.add(r.get("point").asText() + " # " + r.get("id").asText());
            if (r.get("pruner_id").asText().equals("none") && r.get("repeat").asInt() == 0) {
                references.put(r.get("dataset").asText() + " # " + r.get("id").asText(), r);
            }
        }
        long total = 0;
        for (var e : samples.entrySet()) {
            total += (long) e.getValue().size() * spec.points(e.getKey()).size();
        }
        if (resume && !existing.isEmpty()) {
            log.accept("resuming: " + done.size() + " of " + total + " runs already recorded");
        }
        String code = Versions.codeVersion();
        String modelHash = Versions.modelHash(model.dir());
        ModelShape shape = model.shape();
        GenerationConfig gen = new GenerationConfig(spec.maxNewTokens(), 0, 1, spec.seed());
        SampleInference inference = new SampleInference(model, null, gen);
        Progress progress = Progress.onStderr("sweep", total, done.size());
        long finished = done.size();
        Map<String, String> refused = new java.util.LinkedHashMap<>();
        try (BufferedWriter w = Files.newBufferedWriter(recordsFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
            for (var e : samples.entrySet()) {
                String dataset = e.getKey();
                String format = DatasetSpec.parse(dataset).format();
                boolean seg = Scorers.isSegmentation(format);
                Scorer scorer = Scorers.create(format, spec.scorerVariant());
                List<SweepPoint> points = spec.points(dataset);
                Map<String, ConfiguredPruner> pruners = new HashMap<>();
                for (SweepPoint p : points) {
                    if (!p.isReference()) {
                        pruners.put(p.spec(), PrunerRegistry.defaultRegistry().create(p.spec()));
                    }
                }
                for (Sample s : e.getValue()) {
                    SampleInference.Prepared prepared = null;
                    for (SweepPoint p : points) {
                        String key = p.key() + " # " + s.id();
                        if (done.contains(key)) {
                            continue;
                        }
                        try {
                            if (prepared == null) {
                                prepared = SampleInference.prepare(model, s, seg);
                            }
                        } catch (ImageException | DatasetException | IllegalArgumentException ex) {
                            String msg = dataset + ": record " + s.id() + ": " + ex.getMessage();
                            if (!skipBad) {
                                throw new EvalException(msg);
                            }
                            log.accept("skipped: " + msg);
                            break;
                        }
                        if (refused.containsKey(p.key())) {
                            finished++;
                            continue;
                        }
                        SampleInference.Outcome o;
                        try {
                            o = inference.run(prepared, p.isReference() ? null : pruners.get(p.spec()));
                        } catch (PruneException ex) {
                            // a budget this pruner cannot meet on this model: drop the point, keep the sweep
                            refused.put(p.key(), dataset + ": " + p.spec() + " on " + s.id() + ": " + ex.getMessage());
                            log.accept("point dropped: " + refused.get(p.key()));
                            finished++;
                            continue;
                        }
                        Tally single = scorer.newTally();
                        double score = single.add(s, o.prediction());
                        String mask = null;
                        if (seg) {
                            mask = maskPath(p, s);
                            MaskPng.write(o.prediction().mask(), out.resolve(mask));
                        }
                        JsonNode ref = references.get(dataset + " # " + s.id());
                        ObjectNode rec = record(p, s, o, score, mask, ref, shape, code, modelHash, prepared, pruners);
                        if (p.isReference() && p.repeat() == 0) {
                            references.put(dataset + " # " + s.id(), rec);
                        }
                        w.write(JSON.writeValueAsString(rec));
                        w.newLine();
                        w.flush();
                        done.add(key);
                        finished++;
                        progress.update(finished, p.prunerId());
                    }
                }
            }
        } catch (IOException ex) {
            throw new UncheckedIOException(recordsFile + ": cannot write", ex);
        }
        progress.finish(null);
        writeJson(out.resolve(REFUSED), refused);
        return SweepSummary.rebuild(out, spec, samples, shape);
    }

    private String maskPath(SweepPoint p, Sample s) {
        String safe = s.id().replaceAll("[^A-Za-z0-9._-]", "_");
        return "masks/" + Integer.toHexString(p.key().hashCode()) + "/" + safe + ".png";
    }

    private ObjectNode record(SweepPoint p, Sample s, SampleInference.Outcome o, double score, String mask, JsonNode ref,
                              ModelShape shape, String code, String modelHash, SampleInference.Prepared prepared,
                              Map<String, ConfiguredPruner> pruners) {
        GenerationResult r = o.result();
        ObjectNode rec = JSON.createObjectNode();
        rec.put("point", p.key());
        rec.put("dataset", p.dataset());
        rec.put("id", s.id());
        rec.put("pruner", p.spec());
        rec.put("pruner_id", p.prunerId());
        rec.put("budget", p.budget());
        rec.put("repeat", p.repeat());
        ConfiguredPruner cp = p.isReference() ? null : pruners.get(p.spec());
        if (cp != null) {
            int[] perImage = new int[prepared.images().size()];
            java.util.Arrays.fill(perImage, model.config().tokensPerImage());
            rec.put("budget_label", cp.budget().label());
            rec.put("budget_applied_tokens", cp.budget().resolve(perImage).total());
            rec.put("budget_convention", cp.convention().label());
            rec.put("position_policy", cp.positions().label());
            rec.put("seed", cp.seed());
        } else {
            rec.put("budget_applied_tokens", r.visualTokens());
            rec.put("seed", spec.seed());
        }
        rec.put("prediction", o.prediction().text());
        if (mask != null) {
            rec.put("mask", mask);
        }
        ArrayNode refs = rec.putArray("references");
        s.references().forEach(refs::add);
        if (Double.isNaN(score)) {
            rec.putNull("score");
        } else {
            rec.put("score", score);
        }
        rec.put("loyalty", loyalty(p, o, mask, ref));
        rec.put("visual_tokens", r.visualTokens());
        rec.put("visual_tokens_entering_llm", r.visualTokensEnteringLlm());
        ArrayNode per = rec.putArray("visual_tokens_per_layer");
        for (int c : r.visualTokensPerLayer()) {
            per.add(c);
        }
        ArrayNode all = rec.putArray("tokens_per_layer");
        for (int c : r.tokensPerLayer()) {
            all.add(c);
        }
        rec.put("equivalent_average_tokens", r.equivalentAverageTokens());
        rec.put("flops_visual", Flops.total(r.visualTokensPerLayer(), shape, 2));
        rec.put("flops_sequence", Flops.total(r.tokensPerLayer(), shape, 2));
        ObjectNode t = rec.putObject("timings_ms");
        t.put("vision", r.timings().visionMs());
        t.put("projector", r.timings().projectorMs());
        t.put("prune", r.timings().pruneMs());
        t.put("prefill", r.timings().prefillMs());
        t.put("ttft", r.timings().ttftMs());
        t.put("decode", r.timings().decodeMs());
        rec.put("decode_tokens_per_s", r.timings().decodeTokensPerSecond());
        rec.put("kv_cache_bytes", r.kvCacheBytes());
        long[] mem = Versions.memory();
        rec.put("rss_bytes", mem[0]);
        rec.put("peak_rss_bytes", mem[1]);
        rec.put("model", model.dir().toString());
        rec.put("model_hash", modelHash);
        rec.put("code_version", code);
        rec.put("scorer_variant", spec.scorerVariant());
        return rec;
    }

    /** 1 when the answer equals the unpruned one (case and surrounding space ignored); for masks, their IoU. */
    private double loyalty(SweepPoint p, SampleInference.Outcome o, String mask, JsonNode ref) {
        if (p.isReference() || ref == null) {
            return 1.0;
        }
        if (mask != null && ref.has("mask")) {
            LabelMask a = o.prediction().mask();
            LabelMask b = MaskPng.readBinary(out.resolve(ref.get("mask").asText()));
            return iou(a, b);
        }
        String x = o.prediction().text().strip().toLowerCase(Locale.ROOT);
        String y = ref.get("prediction").asText().strip().toLowerCase(Locale.ROOT);
        return x.equals(y) ? 1.0 : 0.0;
    }

    static double iou(LabelMask a, LabelMask b) {
        if (a.width() != b.width() || a.height() != b.height()) {
            return 0;
        }
        long inter = 0;
        long union = 0;
        for (int y = 0; y < a.height(); y++) {
            for (int x = 0; x < a.width(); x++) {
                boolean pa = a.get(x, y) == 1;
                boolean pb = b.get(x, y) == 1;
                inter += pa && pb ? 1 : 0;
                union += pa || pb ? 1 : 0;
            }
        }
        return union == 0 ? 1.0 : (double) inter / union;
    }

    static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot create", e);
        }
    }

    static void writeJson(Path file, Object value) {
        try {
            JSON.writer().with(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), value);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write", e);
        }
    }
}
