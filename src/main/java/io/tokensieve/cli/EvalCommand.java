package io.tokensieve.cli;

import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.datasets.DatasetSpec;
import io.tokensieve.eval.run.EvalRunner;
import io.tokensieve.eval.run.RunSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code sieve eval}: runs a model over a benchmark, writing per-sample records and a summary. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Run the model over a benchmark dataset; write <out>/records.jsonl and <out>/summary.json.")
final class EvalCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--dataset", required = true, paramLabel = "F:PATH",
            description = "dataset spec FORMAT:PATH[?key=value&...], e.g. vqav2:/data/vqav2")
    String dataset;

    @Option(names = "--pruner", paramLabel = "SPEC", description = "pruner spec, e.g. fastv:layer=2,keep=0.25 (default: none)")
    String pruner;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "N", description = "samples at most (default: all)")
    int limit;

    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default: runs/eval-<format>-<time>)")
    Path out;

    @Option(names = "--skip-bad", description = "report and skip bad records and undecodable images instead of stopping")
    boolean skipBad;

    @Option(names = "--variant", defaultValue = "official", paramLabel = "official|lmms",
            description = "scorer variant (default ${DEFAULT-VALUE})")
    String variant;

    @Option(names = "--max-new-tokens", defaultValue = "16", description = "generated tokens at most (default ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--seed", defaultValue = "0", description = "decoding seed, recorded in the summary")
    long seed;

    @Option(names = "--json", description = "print the summary as one JSON object")
    boolean json;

    @Override
    public Integer call() {
        String format = DatasetSpec.parse(dataset).format();
        String time = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path dir = out != null ? out : Path.of("runs", "eval-" + format.replace('+', 'p') + "-" + time);
        RunSettings settings = new RunSettings(dataset, pruner, limit, dir, skipBad, variant, maxNewTokens, seed);
        Map<String, Object> summary;
        try (VlmModel m = model.load()) {
            summary = new EvalRunner(m, settings, msg -> System.err.println("sieve eval: skipped: " + msg)).run();
        }
        if (json) {
            System.out.println(Jsons.pretty(summary));
            return 0;
        }
        Map<?, ?> metrics = (Map<?, ?>) summary.get("metrics");
        System.out.printf("%s: %s samples (%s failed), pruner %s, scorer %s%n", summary.get("dataset"), summary.get("n"),
                summary.get("n_failed"), summary.get("pruner"), summary.get("scorer_variant"));
        System.out.printf("  headline %s = %s%n", metrics.get("headline"),
                MetricsText.format(headlineValue(metrics, String.valueOf(metrics.get("headline")))));
        Map<Object, Object> values = new LinkedHashMap<>(metrics);
        values.keySet().removeAll(List.of("benchmark", "scorer_variant", "headline"));
        MetricsText.print(System.out, values, "  ");
        System.out.println("  averages:");
        MetricsText.print(System.out, (Map<?, ?>) summary.get("averages"), "    ");
        System.out.println("records: " + dir.resolve(EvalRunner.RECORDS) + ", summary: " + dir.resolve(EvalRunner.SUMMARY));
        return 0;
    }

    private static Object headlineValue(Map<?, ?> metrics, String path) {
        Object cur = metrics;
        for (String part : path.split("\\.")) {
            cur = cur instanceof Map<?, ?> m ? m.get(part) : null;
        }
        return cur;
    }
}
