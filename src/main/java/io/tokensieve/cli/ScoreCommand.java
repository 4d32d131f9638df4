package io.tokensieve.cli;

import io.tokensieve.datasets.Dataset;
import io.tokensieve.datasets.Datasets;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.eval.Metrics;
import io.tokensieve.eval.PredictionScoring;
import io.tokensieve.eval.Scorer;
import io.tokensieve.eval.Scorers;
import io.tokensieve.eval.predictions.PredictionSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code sieve score}: scores an existing prediction file against a benchmark's references. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Score a prediction file (the benchmark's official results format) against its references.")
final class ScoreCommand implements Callable<Integer> {
    @Option(names = "--format", required = true, paramLabel = "F",
            description = "benchmark format: vqav2, gqa, textvqa, pope, mme, scienceqa, mmbench, refcoco, refcoco+, "
                    + "refcocog, reasonseg, scanqa, sqa3d, icl")
    String format;

    @Option(names = "--references", required = true, paramLabel = "PATH",
            description = "the benchmark folder (or file), as for --dataset F:PATH; loader parameters may follow "
                    + "after '?', e.g. /data/textvqa?ocr=true")
    String references;

    @Option(names = "--predictions", required = true, paramLabel = "P",
            description = "prediction file (or folder: MME txt files, segmentation PNG masks)")
    Path predictions;

    @Option(names = "--variant", defaultValue = "official", paramLabel = "official|lmms",
            description = "scorer variant (default ${DEFAULT-VALUE})")
    String variant;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() {
        Scorer scorer = Scorers.create(format, variant);
        PredictionSource preds = PredictionSource.open(format, predictions);
        Dataset refs = Datasets.defaultRegistry().open(format + ":" + references, LoadOptions.strict().withCheckImages(false));
        Metrics m = PredictionScoring.score(refs, preds, scorer);
        if (json) {
            System.out.println(Jsons.pretty(m.toMap()));
        } else {
            System.out.printf("%s (scorer %s): %s = %s%n", m.benchmark(), m.scorerVariant(), m.headline(),
                    MetricsText.format(m.headlineValue()));
            MetricsText.print(System.out, m.values(), "  ");
        }
        return 0;
    }
}
