package io.tokensieve.cli;

import io.tokensieve.train.TrainSettings;
import io.tokensieve.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code sieve train}: trains the embedded model on ShapesBench. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a small LLaVA-architecture model on ShapesBench (DJL autograd, CPU), with checkpoints and resume.")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--preset", defaultValue = "sieve-tiny", paramLabel = "sieve-tiny|smoke",
            description = "settings preset (default ${DEFAULT-VALUE}); smoke is a seconds-long run for checks")
    String preset;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder (model + checkpoint)")
    Path out;

    @Option(names = "--resume", description = "continue from OUT/checkpoint")
    boolean resume;

    @Option(names = "--steps", paramLabel = "N", description = "override the preset's number of steps")
    Integer steps;

    @Option(names = "--max-minutes", paramLabel = "M", description = "stop (and save) once this much training time is spent")
    Double maxMinutes;

    @Override
    public Integer call() throws Exception {
        TrainSettings s = switch (preset) {
            case "sieve-tiny" -> TrainSettings.sieveTiny();
            case "smoke" -> TrainSettings.smoke(steps == null ? 4 : steps);
            default -> throw new Errors.UserException("--preset must be sieve-tiny or smoke, got '" + preset + "'");
        };
        if (steps != null || maxMinutes != null) {
            s = new TrainSettings(s.preset(), s.imageSize(), s.patch(), s.visionWidth(), s.visionLayers(), s.visionHeads(),
                    s.textWidth(), s.textLayers(), s.textHeads(), s.kvHeads(), s.ffn(), s.segDim(), s.batchSize(),
                    steps == null ? s.steps() : steps, s.peakLr(), s.minLrFraction(), s.warmupSteps(), s.weightDecay(),
                    s.clipNorm(), s.segWeight(), s.dataSeed(), s.initSeed(), s.shots(), s.views(), s.mixture(),
                    s.checkpointEvery(), maxMinutes == null ? s.maxMinutes() : maxMinutes);
        }
        if (s.steps() <= 0) {
            throw new Errors.UserException("--steps must be positive");
        }
        Trainer.Outcome o = new Trainer(s, out, System.err).run(resume);
        System.out.printf("model written to %s after %d steps (%.1f min)%s%n", o.modelDir(), o.steps(), o.wallSeconds() / 60,
                o.finished() ? "" : " (stopped early: time budget)");
        return 0;
    }
}
