package io.tokensieve.train;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.datasets.shapes.ShapesBench;
import io.tokensieve.datasets.shapes.ShapesWriter;
import io.tokensieve.datasets.shapes.Track;
import io.tokensieve.eval.run.EvalRunner;
import io.tokensieve.eval.run.RunSettings;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The test-split evaluation of a trained model (ShapesBench seed 11, never used in training) through the
 * same loaders, runtime and scorers as every other evaluation: each track unpruned and with {@code random}
 * at 11% and 33% of the visual tokens. Writes {@code eval_results.json} next to the model.
 */
public final class FinalEvaluation {
    public static final String RESULTS = "eval_results.json";
    public static final long TEST_SEED = 11;
    public static final List<String> RUNS = List.of("none", "random:keep=0.11", "random:keep=0.33");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private FinalEvaluation() {}

    /** Test-split sizes per track. */
    public static Map<Track, Integer> sizes() {
        Map<Track, Integer> m = new LinkedHashMap<>();
        m.put(Track.VQA, 300);
        m.put(Track.POPE, 150);
        m.put(Track.SEG, 100);
        m.put(Track.ICL, 100);
        m.put(Track.THREE_D, 100);
        return m;
    }

    /** Runs everything and writes the results file; returns the results map. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> run(Path modelDir, Path workDir, Map<Track, Integer> sizes, PrintStream log)
            throws IOException {
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("test_seed", TEST_SEED);
        try (VlmModel m = VlmModel.load(modelDir, Device.cpu())) {
            for (var e : sizes.entrySet()) {
                Track t = e.getKey();
                Path data = workDir.resolve("data").resolve(t.name().toLowerCase(Locale.ROOT));
                if (!Files.isDirectory(data)) {
                    ShapesWriter.write(new ShapesWriter.Options(t, e.getValue(), TEST_SEED, data, null,
                            ShapesBench.DEFAULT_VIEWS, ShapesBench.DEFAULT_SHOTS));
                }
                String dataset = t.format() + ":" + data;
                Map<String, Object> track = new LinkedHashMap<>();
                for (String pruner : RUNS) {
                    Path out = workDir.resolve("eval").resolve(t.name().toLowerCase(Locale.ROOT))
                            .resolve(pruner.replace(':', '_').replace('=', '_'));
                    RunSettings rs = new RunSettings(dataset, pruner.equals("none") ? null : pruner, 0, out, false,
                            "official", 8, 0);
                    long t0 = System.nanoTime();
                    Map<String, Object> summary = new EvalRunner(m, rs, log::println).run();
                    Map<String, Object> metrics = (Map<String, Object>) summary.get("metrics");
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("n", summary.get("n"));
                    r.put("headline_metric", metrics.get("headline"));
                    r.put("headline", headlineOf(metrics));
                    r.put("metrics", metrics);
                    r.put("averages", summary.get("averages"));
                    r.put("seconds", (System.nanoTime() - t0) / 1e9);
                    track.put(pruner, r);
                    log.printf("final eval %s %s: %s = %.2f (n = %s)%n", t.format(), pruner, metrics.get("headline"),
                            headlineOf(metrics), summary.get("n"));
                }
                results.put(t.format(), track);
            }
        }
        JSON.writeValue(modelDir.resolve(RESULTS).toFile(), results);
        return results;
    }

    @SuppressWarnings("unchecked")
    public static double headlineOf(Map<String, Object> metrics) {
        Object cur = metrics;
        for (String part : ((String) metrics.get("headline")).split("\\.")) {
            cur = ((Map<String, Object>) cur).get(part);
        }
        return ((Number) cur).doubleValue();
    }

    /** Reads a number at a dotted path of a track's run in a results map (NaN if absent). */
    @SuppressWarnings("unchecked")
    public static double value(Map<String, Object> results, String format, String run, String path) {
        Object cur = results.get(format);
        List<String> parts = new ArrayList<>(List.of(run));
        parts.addAll(List.of(path.split("\\.")));
        for (String p : parts) {
            if (!(cur instanceof Map<?, ?> mm) || !mm.containsKey(p)) {
                return Double.NaN;
            }
            cur = ((Map<String, Object>) mm).get(p);
        }
        return cur instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
