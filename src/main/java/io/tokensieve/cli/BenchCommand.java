package io.tokensieve.cli;

import io.tokensieve.core.prune.PrunerProvider;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.util.FileTrees;
import io.tokensieve.datasets.shapes.ShapesBench;
import io.tokensieve.datasets.shapes.ShapesWriter;
import io.tokensieve.datasets.shapes.Track;
import io.tokensieve.eval.sweep.SweepRunner;
import io.tokensieve.eval.sweep.SweepSpec;
import io.tokensieve.eval.sweep.SweepSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code sieve bench}: the main job. The default sweep on the bundled model and ShapesBench test slices
 * (seed 11, never seen in training): every pruner on VQA, each method also on the track it is meant for
 * (CATP on in-context episodes, LVLM_CSP on segmentation, AdaToken-3D on 3D scenes, the rest on POPE),
 * the none / random / pool baselines everywhere, three budgets.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run the default benchmark sweep on the bundled model and ShapesBench, print the summary table.")
final class BenchCommand implements Callable<Integer> {
    /** ShapesBench test seed; training uses 1000 and up. */
    static final long TEST_SEED = 11;

    @Mixin
    ModelOptions model;

    @Option(names = "--quick", description = "a few samples per track (about 3 minutes on 2 cores)")
    boolean quick;

    @Option(names = "--budgets", paramLabel = "B,...", defaultValue = "0.11,0.22,0.33",
            description = "budgets (default ${DEFAULT-VALUE} of the visual tokens per image)")
    String budgets;

    @Option(names = "--out", paramLabel = "DIR", description = "report folder (default reports/bench or reports/bench-quick)")
    Path out;

    @Option(names = "--resume", description = "finish an interrupted bench in --out instead of starting over")
    boolean resume;

    /** Samples per track: default and --quick. */
    static Map<Track, Integer> sizes(boolean quick) {
        Map<Track, Integer> m = new LinkedHashMap<>();
        m.put(Track.VQA, quick ? 24 : 120);
        m.put(Track.POPE, quick ? 12 : 60);
        m.put(Track.SEG, quick ? 8 : 40);
        m.put(Track.ICL, quick ? 8 : 40);
        m.put(Track.THREE_D, quick ? 8 : 40);
        return m;
    }

    /** The bench's sweep: which pruner runs on which track. */
    static SweepSpec spec(String name, Path modelDir, Map<Track, Path> data, List<String> budgets) {
        List<String> datasets = new ArrayList<>();
        data.forEach((t, p) -> datasets.add(t.format() + ":" + p));
        Map<String, List<String>> tracks = new LinkedHashMap<>();
        List<String> pruners = new ArrayList<>();
        for (PrunerProvider p : PrunerRegistry.defaultRegistry().providers()) {
            String id = p.id();
            if (id.equals("none") || SweepSpec.BASELINES.contains(id)) {
                continue;
            }
            pruners.add(id);
            tracks.put(id, switch (id) {
                case "catp" -> List.of("vqav2", "icl");
                case "lvlm-csp" -> List.of("vqav2", "reasonseg");
                case "adatoken3d" -> List.of("vqav2", "scanqa");
                default -> List.of("vqav2", "pope");
            });
        }
        return new SweepSpec(name, modelDir.toString(), datasets, pruners, budgets, true, tracks, 0, 1, 0L, 8, null)
                .validated("bench");
    }

    @Override
    public Integer call() throws IOException {
        Path home = Path.of(System.getenv().getOrDefault("SIEVE_HOME", "."));
        String name = quick ? "bench-quick" : "bench";
        Path dir = out != null ? out : Path.of("reports", name);
        Map<Track, Path> data = new LinkedHashMap<>();
        for (var e : sizes(quick).entrySet()) {
            Path p = home.resolve("runs").resolve("shapes-test").resolve(e.getKey().name().toLowerCase() + "-" + e.getValue());
            if (!Files.isDirectory(p) || Files.list(p).findAny().isEmpty()) {
                System.err.println("bench: generating ShapesBench " + e.getKey().name().toLowerCase() + " (" + e.getValue()
                        + " samples, seed " + TEST_SEED + ") in " + p);
                ShapesWriter.write(new ShapesWriter.Options(e.getKey(), e.getValue(), TEST_SEED, p, null,
                        ShapesBench.DEFAULT_VIEWS, ShapesBench.DEFAULT_SHOTS));
            }
            data.put(e.getKey(), p);
        }
        if (!resume && Files.exists(dir)) {
            FileTrees.delete(dir);
        }
        SweepSpec spec = spec(name, model.modelDir(), data, List.of(budgets.split(",")));
        try (VlmModel m = model.load()) {
            SweepSummary.Result r = new SweepRunner(m, spec, dir, false, System.err::println).run(resume);
            System.out.print(r.markdown());
            System.out.println("records, summary.csv, summary.md and plots in " + dir);
        }
        return 0;
    }
}
