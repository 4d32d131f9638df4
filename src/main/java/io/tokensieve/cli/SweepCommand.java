package io.tokensieve.cli;

import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.eval.sweep.SweepRunner;
import io.tokensieve.eval.sweep.SweepSpec;
import io.tokensieve.eval.sweep.SweepSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code sieve sweep}: pruners x budgets x datasets, resumable, with a summary, CSV, Markdown and plots. */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Run a sweep of pruners x budgets x datasets from a spec file or flags; resumable after a kill.")
final class SweepCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--spec", paramLabel = "FILE", description = "sweep spec (JSON, see sweeps/example.json)")
    Path specFile;

    @Option(names = "--dataset", paramLabel = "F:PATH", description = "dataset (repeatable)")
    List<String> datasets = new ArrayList<>();

    @Option(names = "--pruners", paramLabel = "A,B,...", description = "pruner specs without keep, comma-separated "
            + "(a spec's own key=value pairs may follow it: fastv:layer=3,score=mean,zoo)")
    String pruners;

    @Option(names = "--budgets", paramLabel = "B,...", description = "budgets: ratios (0.11,0.22,0.33) or counts (16,32)")
    String budgets;

    @Option(names = "--no-baselines", description = "leave out the random and pool baselines")
    boolean noBaselines;

    @Option(names = "--limit", description = "samples per dataset (0 = all)")
    Integer limit;

    @Option(names = "--repeats", description = "repeats of every point (seed + r for seeded pruners)")
    Integer repeats;

    @Option(names = "--seed", description = "seed")
    Long seed;

    @Option(names = "--max-new-tokens", description = "decoding length")
    Integer maxNewTokens;

    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default reports/<name>)")
    Path out;

    @Option(names = "--resume", description = "finish an interrupted sweep in --out")
    boolean resume;

    @Option(names = "--skip-bad", description = "skip bad records and undecodable images instead of stopping")
    boolean skipBad;

    @Override
    public Integer call() {
        SweepSpec spec;
        if (specFile != null) {
            spec = SweepSpec.load(specFile);
            if (!datasets.isEmpty() || pruners != null || budgets != null) {
                throw new Errors.UserException("give either --spec or --dataset/--pruners/--budgets, not both");
            }
        } else {
            if (datasets.isEmpty()) {
                throw new Errors.UserException("give --spec FILE or at least one --dataset F:PATH");
            }
            spec = new SweepSpec("sweep", model.modelDir().toString(), datasets, splitSpecs(pruners),
                    budgets == null ? null : List.of(budgets.split(",")), !noBaselines, null, limit, repeats, seed,
                    maxNewTokens, null).validated("command line");
        }
        Path modelDir = spec.model() != null && model.model == null ? Path.of(spec.model()) : model.modelDir();
        Path dir = out != null ? out : Path.of("reports", spec.name());
        try (VlmModel m = VlmModel.load(modelDir, model.resolveDevice())) {
            SweepSummary.Result r = new SweepRunner(m, spec, dir, skipBad, System.err::println).run(resume);
            System.out.print(r.markdown());
            System.out.println("records, summary.csv, summary.md and plots in " + dir);
        }
        return 0;
    }

    /** Splits "fastv:layer=3,score=mean,zoo" into ["fastv:layer=3,score=mean", "zoo"]. */
    static List<String> splitSpecs(String s) {
        List<String> out = new ArrayList<>();
        if (s == null || s.isBlank()) {
            return out;
        }
        for (String part : s.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) {
                continue;
            }
            if (p.contains("=") && !p.contains(":") && !out.isEmpty()) {
                out.set(out.size() - 1, out.get(out.size() - 1) + "," + p);
            } else {
                out.add(p);
            }
        }
        return out;
    }
}
