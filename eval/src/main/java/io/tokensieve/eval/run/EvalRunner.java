package io.tokensieve.eval.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tokensieve.core.image.ImageException;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.Timings;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.datasets.Dataset;
import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.DatasetSpec;
import io.tokensieve.datasets.Datasets;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.mask.MaskPng;
import io.tokensieve.eval.EvalException;
import io.tokensieve.eval.Metrics;
import io.tokensieve.eval.Scorer;
import io.tokensieve.eval.Scorers;
import io.tokensieve.eval.Tally;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs a model over a dataset and writes one self-describing JSON record per sample to
 * {@code <out>/records.jsonl} (flushed as it goes, so a stopped run keeps what it computed) and the
 * aggregate to {@code <out>/summary.json}; segmentation masks go to {@code <out>/masks/<id>.png}, which
 * {@code sieve score} reads back. A bad record or an undecodable image stops the run with an error naming
 * the file and record, or with {@link RunSettings#skipBad} is reported to the listener, counted in
 * {@code n_failed} and skipped.
 *
 * <pre>{@code
 * try (VlmModel m = VlmModel.load(dir, Device.cpu())) {
 *     Map<String, Object> summary = new EvalRunner(m, settings, System.err::println).run();
 * }
 * }</pre>
 */
public final class EvalRunner {
    public static final String RECORDS = "records.jsonl";
    public static final String SUMMARY = "summary.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final VlmModel model;
    private final RunSettings settings;
    private final Consumer<String> onFailure;
    private final List<Map<String, String>> failures = new ArrayList<>();

    public EvalRunner(VlmModel model, RunSettings settings, Consumer<String> onFailure) {
        this.model = model;
        this.settings = settings;
        this.onFailure = onFailure;
    }

    /** Runs the whole dataset (or {@code limit} samples); returns the summary that was written. */
    public Map<String, Object> run() {
        long started = System.nanoTime();
        ConfiguredPruner pruner = settings.pruner() == null ? null
                : PrunerRegistry.defaultRegistry().create(settings.pruner());
        Datasets registry = Datasets.defaultRegistry();
        String format = DatasetSpec.parse(settings.dataset()).format();
        Scorer scorer = Scorers.create(format, settings.scorerVariant());
        LoadOptions load = new LoadOptions(settings.skipBad(), true, e -> fail(null, e.getMessage()),
                settings.out().resolve("cache"));
        Dataset dataset = registry.open(settings.dataset(), load);
        boolean segmentation = Scorers.isSegmentation(format);
        SampleInference inference = new SampleInference(model, pruner,
                new GenerationConfig(settings.maxNewTokens(), 0, 1, settings.seed()));
        Tally tally = scorer.newTally();
        Averages avg = new Averages();
        createDirectories(settings.out());
        Path recordsFile = settings.out().resolve(RECORDS);
        int attempted = 0;
        Iterator<Sample> it = dataset.iterator();
        try (BufferedWriter w = Files.newBufferedWriter(recordsFile, StandardCharsets.UTF_8)) {
            while ((settings.limit() == 0 || attempted < settings.limit()) && it.hasNext()) {
                Sample s = it.next();
                attempted++;
                SampleInference.Outcome o;
                try {
                    o = inference.run(s, segmentation);
                } catch (ImageException | DatasetException | IllegalArgumentException e) {
                    String msg = settings.dataset() + ": record " + s.id() + ": " + e.getMessage();
                    if (!settings.skipBad()) {
                        throw new EvalException(msg);
                    }
                    fail(s.id(), msg);
                    continue;
                }
                double score = tally.add(s, o.prediction());
                String maskFile = null;
                if (segmentation) {
                    maskFile = "masks/" + s.id() + ".png";
                    MaskPng.write(o.prediction().mask(), settings.out().resolve(maskFile));
                }
                avg.add(o.result());
                w.write(JSON.writeValueAsString(record(s, o, score, maskFile, scorer, pruner)));
                w.newLine();
                w.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(recordsFile + ": cannot write records", e);
        } finally {
            if (it instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    // the dataset is read-only
                }
            }
        }
        Map<String, Object> summary = summary(tally.result(), avg, pruner, format, started);
        writeJson(settings.out().resolve(SUMMARY), summary);
        return summary;
    }

    private void fail(String id, String message) {
        Map<String, String> f = new LinkedHashMap<>();
        if (id != null) {
            f.put("id", id);
        }
        f.put("error", message);
        failures.add(f);
        onFailure.accept(message);
    }

    private ObjectNode record(Sample s, SampleInference.Outcome o, double score, String maskFile, Scorer scorer,
                              ConfiguredPruner pruner) {
        GenerationResult r = o.result();
        ObjectNode rec = JSON.createObjectNode();
        rec.put("id", s.id());
        rec.put("dataset", s.format());
        rec.put("prediction", o.prediction().text());
        if (maskFile != null) {
            rec.put("mask", maskFile);
        }
        ArrayNode refs = rec.putArray("references");
        s.references().forEach(refs::add);
        if (Double.isNaN(score)) {
            rec.putNull("score");
        } else {
            rec.put("score", score);
        }
        rec.put("scorer_variant", scorer.variant());
        rec.put("pruner", pruner == null ? "none" : pruner.spec());
        rec.put("budget", pruner == null ? "all" : pruner.budget().label());
        rec.put("visual_tokens", r.visualTokens());
        rec.put("visual_tokens_entering_llm", r.visualTokensEnteringLlm());
        ArrayNode per = rec.putArray("visual_tokens_per_layer");
        for (int c : r.visualTokensPerLayer()) {
            per.add(c);
        }
        rec.put("equivalent_average_tokens", r.equivalentAverageTokens());
        rec.put("kv_cache_bytes", r.kvCacheBytes());
        rec.set("timings_ms", JSON.valueToTree(timings(r.timings())));
        rec.put("decode_steps", r.timings().decodeSteps());
        return rec;
    }

    static Map<String, Double> timings(Timings t) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("vision", t.visionMs());
        m.put("projector", t.projectorMs());
        m.put("prune", t.pruneMs());
        m.put("prefill", t.prefillMs());
        m.put("ttft", t.ttftMs());
        m.put("decode", t.decodeMs());
        return m;
    }

    private Map<String, Object> summary(Metrics metrics, Averages avg, ConfiguredPruner pruner, String format,
                                        long started) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("dataset", settings.dataset());
        s.put("format", format);
        s.put("model", model.dir().toString());
        s.put("pruner", pruner == null ? "none" : pruner.spec());
        s.put("budget", pruner == null ? "all" : pruner.budget().label());
        if (pruner != null) {
            s.put("budget_convention", pruner.convention().label());
            s.put("pruner_seed", pruner.seed());
        }
        s.put("seed", settings.seed());
        s.put("scorer_variant", metrics.scorerVariant());
        s.put("prompt_template", model.template().id());
        s.put("decoding", "greedy");
        s.put("max_new_tokens", Scorers.isSegmentation(format) ? 0 : settings.maxNewTokens());
        s.put("n", avg.n);
        s.put("n_failed", failures.size());
        s.put("metrics", metrics.toMap());
        s.put("averages", avg.toMap());
        s.put("failures", failures);
        s.put("finished", Instant.now().toString());
        s.put("elapsed_s", (System.nanoTime() - started) / 1e9);
        return s;
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot create the output folder", e);
        }
    }

    private static void writeJson(Path file, Object value) {
        try {
            JSON.writer().with(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), value);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write", e);
        }
    }

    /** Means of the per-sample costs over the samples that ran. */
    private static final class Averages {
        int n;
        double entering;
        double equivalent;
        double kv;
        final double[] t = new double[6];

        void add(GenerationResult r) {
            n++;
            entering += r.visualTokensEnteringLlm();
            equivalent += r.equivalentAverageTokens();
            kv += r.kvCacheBytes();
            int i = 0;
            for (double v : timings(r.timings()).values()) {
                t[i++] += v;
            }
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            double d = Math.max(1, n);
            m.put("visual_tokens_entering_llm", entering / d);
            m.put("equivalent_average_tokens", equivalent / d);
            m.put("kv_cache_bytes", kv / d);
            Map<String, Object> tm = new LinkedHashMap<>();
            String[] names = {"vision", "projector", "prune", "prefill", "ttft", "decode"};
            for (int i = 0; i < names.length; i++) {
                tm.put(names[i], t[i] / d);
            }
            m.put("timings_ms", tm);
            return m;
        }
    }
}
