package io.tokensieve.cli;

import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.datasets.Dataset;
import io.tokensieve.datasets.Datasets;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.datasets.Sample;
import io.tokensieve.eval.run.SampleInference;
import io.tokensieve.pruners.StageLayers;
import io.tokensieve.pruners.analysis.AttentionRecorder;
import io.tokensieve.pruners.analysis.InflectionAnalysis;
import io.tokensieve.pruners.analysis.InformationFlowAnalysis;
import io.tokensieve.pruners.analysis.ScheduleFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * {@code sieve analyze}: the offline analyses behind AdaptInfer's pruning layers and AdaToken-3D's
 * schedule. Runs the unpruned model over a dataset (each sample as {@code sieve eval} builds it), records
 * the attention of every decoder layer, writes a schedule file that {@code schedule=FILE} loads, and prints
 * a summary.
 */
@Command(name = "analyze", mixinStandardHelpOptions = true,
        description = "Offline layer analysis over a dataset; writes a schedule file for adaptinfer or adatoken3d.")
final class AnalyzeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--method", required = true, paramLabel = "adaptinfer|adatoken3d", description = "which analysis")
    String method;

    @Option(names = "--dataset", required = true, paramLabel = "F:PATH",
            description = "dataset spec FORMAT:PATH[?key=value&...], e.g. mme:/data/mme or scanqa:/data/3d")
    String dataset;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "N", description = "samples at most (default: all)")
    int limit;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "schedule file to write (JSON)")
    Path out;

    @Option(names = "--stages", defaultValue = "3", paramLabel = "K",
            description = "adaptinfer: inflection layers to keep, the most frequent (default ${DEFAULT-VALUE})")
    int stages;

    @Option(names = "--top-share", defaultValue = "0.1", paramLabel = "R",
            description = "adaptinfer: share of each sample's visual tokens whose curves are split (default ${DEFAULT-VALUE})")
    double topShare;

    @Option(names = "--boundaries", defaultValue = "8/16/24", paramLabel = "B1/B2/...",
            description = "adatoken3d: stage starts of a 32-layer model, mapped to depth (default ${DEFAULT-VALUE})")
    String boundaries;

    @Option(names = "--rho-min", defaultValue = "0.05", paramLabel = "R",
            description = "adatoken3d: smallest keep ratio (default ${DEFAULT-VALUE})")
    double rhoMin;

    @Option(names = "--end", defaultValue = "10", paramLabel = "A",
            description = "adatoken3d: the fit's value in percent after the last layer (default ${DEFAULT-VALUE})")
    double end;

    @Option(names = "--window", defaultValue = "10", paramLabel = "W",
            description = "adatoken3d: attention pooling window (default ${DEFAULT-VALUE})")
    int window;

    @Option(names = "--literal", description = "adatoken3d: the reference's literal indexing (reads the upper "
            + "triangle, all flows zero under causal attention)")
    boolean literal;

    @Option(names = "--diagonal-blocks", description = "adatoken3d: count diagonal blocks as intra-spatial flow")
    boolean diagonalBlocks;

    @Option(names = "--json", description = "print the schedule file's content as JSON")
    boolean json;

    @Override
    public Integer call() {
        if (!method.equals("adaptinfer") && !method.equals("adatoken3d")) {
            throw new Errors.UserException("--method must be adaptinfer or adatoken3d, got '" + method + "'");
        }
        if (limit < 0 || stages < 1 || !(topShare > 0 && topShare <= 1) || window < 1 || !(rhoMin > 0 && rhoMin <= 1)) {
            throw new Errors.UserException("--limit must be >= 0, --stages >= 1, --top-share and --rho-min in (0, 1], "
                    + "--window >= 1");
        }
        int[] b32 = parseBoundaries(boundaries);
        Dataset data = Datasets.defaultRegistry().open(dataset, LoadOptions.strict());
        try (VlmModel m = model.load()) {
            int layers = m.shape().layers();
            Map<String, Object> provenance = new LinkedHashMap<>();
            provenance.put("model", m.dir().toString());
            provenance.put("dataset", dataset);
            Map<String, Object> schedule;
            if (method.equals("adaptinfer")) {
                InflectionAnalysis a = new InflectionAnalysis(layers, topShare);
                int n = run(m, data, a::add, AttentionRecorder.Rows.TEXT_AFTER_FIRST_VISUAL);
                requireSamples(a.samples(), n);
                schedule = a.toSchedule(stages, provenance);
                ScheduleFile.write(out, schedule);
                if (!json) {
                    printAdaptInfer(m, n, a);
                }
            } else {
                if (layers < 2) {
                    throw new Errors.UserException(m.dir() + ": the information-flow profile needs at least 2 layers");
                }
                InformationFlowAnalysis a = new InformationFlowAnalysis(layers, new InformationFlowAnalysis.Settings(window,
                        0.7, 0.3, 0.73, 0.4, 0.3, 0.3, literal, diagonalBlocks));
                int n = run(m, data, a::add, AttentionRecorder.Rows.ALL);
                requireSamples(a.samples(), n);
                int[] b = StageLayers.map(b32, 32, m.shape(), 1);
                if (b.length == 0) {
                    throw new Errors.UserException("--boundaries " + boundaries + " leave no stage on a " + layers
                            + "-layer model");
                }
                schedule = a.toSchedule(b, rhoMin, end, provenance);
                ScheduleFile.write(out, schedule);
                if (!json) {
                    printAdaToken(m, n, schedule);
                }
            }
            if (json) {
                System.out.println(Jsons.pretty(schedule));
            }
        }
        return 0;
    }

    private static int[] parseBoundaries(String s) {
        try {
            int[] b = Arrays.stream(s.split("/")).map(String::trim).mapToInt(Integer::parseInt).toArray();
            for (int i = 0; i < b.length; i++) {
                if (b[i] < 1 || b[i] > 31 || (i > 0 && b[i] <= b[i - 1])) {
                    throw new NumberFormatException();
                }
            }
            return b;
        } catch (NumberFormatException e) {
            throw new Errors.UserException("--boundaries must be ascending layers of a 32-layer model in 1..31 separated "
                    + "by '/', got '" + s + "'");
        }
    }

    /** Runs the unpruned model over the samples with the recorder; returns how many ran. */
    private int run(VlmModel m, Dataset data, Consumer<AttentionRecorder.Prefill> sink, AttentionRecorder.Rows rows) {
        SampleInference inference = new SampleInference(m, AttentionRecorder.configured(sink, rows),
                GenerationConfig.greedy(0));
        int n = 0;
        Iterator<Sample> it = data.iterator();
        try {
            while ((limit == 0 || n < limit) && it.hasNext()) {
                inference.run(it.next(), false);
                n++;
            }
        } finally {
            if (it instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    // the dataset is read-only
                }
            }
        }
        return n;
    }

    private void requireSamples(int used, int ran) {
        if (used == 0) {
            throw new Errors.UserException(dataset + ": none of the " + ran + " samples had visual tokens followed by "
                    + "text, nothing to analyse");
        }
    }

    private void printAdaptInfer(VlmModel m, int n, InflectionAnalysis a) {
        int[] h = a.histogram();
        String hist = java.util.stream.IntStream.range(0, h.length).mapToObj(l -> l + ":" + h[l])
                .collect(Collectors.joining(" "));
        int[] layers = a.inflectionLayers(stages);
        System.out.printf("adaptinfer analysis: %d samples of %s on %s (%d layers)%n", n, dataset, m.dir(), h.length);
        System.out.printf("  change points per layer over %d tokens: %s%n", a.tokens(), hist);
        System.out.printf("  inflection layers (outputs pruned): %s%n", join(layers));
        System.out.printf("schedule: %s (use adaptinfer:schedule=%s)%n", out, out);
    }

    @SuppressWarnings("unchecked")
    private void printAdaToken(VlmModel m, int n, Map<String, Object> s) {
        double[] curve = (double[]) s.get("curve");
        Map<String, Object> fit = (Map<String, Object>) s.get("fit");
        System.out.printf("adatoken3d analysis: %d samples of %s on %s (%d layers)%n", n, dataset, m.dir(),
                (int) s.get("layers"));
        System.out.printf("  information-flow curve (percent, x = 1..%d): %s%n", curve.length,
                Arrays.stream(curve).mapToObj(v -> String.format(Locale.ROOT, "%.1f", v)).collect(Collectors.joining(" ")));
        System.out.printf(Locale.ROOT, "  fit %s: A=%.4g B=%.4g C=%.4g D=%.4g, objective %.4g%n", fit.get("formula"),
                (double) fit.get("A"), (double) fit.get("B"), (double) fit.get("C"), (double) fit.get("D"),
                (double) fit.get("objective"));
        System.out.printf("  schedule: boundaries %s, ratios %s%n", join((int[]) s.get("boundaries")),
                Arrays.stream((double[]) s.get("ratios")).mapToObj(v -> String.format(Locale.ROOT, "%.3f", v))
                        .collect(Collectors.joining("/")));
        System.out.printf("schedule: %s (use adatoken3d:schedule=%s)%n", out, out);
    }

    private static String join(int[] v) {
        return v.length == 0 ? "(none)" : Arrays.stream(v).mapToObj(String::valueOf).collect(Collectors.joining("/"));
    }
}
