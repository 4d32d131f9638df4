package io.tokensieve.cli;

import io.tokensieve.datasets.shapes.ShapesBench;
import io.tokensieve.datasets.shapes.ShapesWriter;
import io.tokensieve.datasets.shapes.Track;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code sieve shapes}: writes a ShapesBench track in its real benchmark format. */
@Command(name = "shapes", mixinStandardHelpOptions = true,
        description = {"Generate a seeded, byte-for-byte reproducible ShapesBench dataset in the real format of its "
                + "counterpart: vqa (VQAv2), pope (POPE), seg (ReasonSeg), icl (in-context JSONL), 3d (ScanQA + "
                + "posed images).",
            "Splits are disjoint seeds: training uses 1000 and up, tests and benchmarks 11, 12, ..."})
final class ShapesCommand implements Callable<Integer> {
    @Option(names = "--track", required = true, paramLabel = "vqa|pope|seg|icl|3d", description = "which track")
    String track;

    @Option(names = "--n", required = true, paramLabel = "N",
            description = "examples: questions (vqa, 3d), probes per file (pope), samples (seg), episodes (icl)")
    int n;

    @Option(names = "--seed", required = true, paramLabel = "S", description = "generator seed")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder (created if missing)")
    Path out;

    @Option(names = "--split", paramLabel = "NAME",
            description = "split name in file names (default: vqa val2014, seg val, 3d val; unused by pope and icl)")
    String split;

    @Option(names = "--views", defaultValue = "" + ShapesBench.DEFAULT_VIEWS, paramLabel = "V",
            description = "rendered views per 3D scene (default ${DEFAULT-VALUE})")
    int views;

    @Option(names = "--shots", defaultValue = "" + ShapesBench.DEFAULT_SHOTS, paramLabel = "K",
            description = "demos per in-context episode (default ${DEFAULT-VALUE})")
    int shots;

    @Override
    public Integer call() {
        ShapesWriter.Summary s = ShapesWriter.write(
                new ShapesWriter.Options(Track.parse(track), n, seed, out, split, views, shots));
        System.out.println("wrote ShapesBench " + s.track().id() + ": " + s.examples() + " examples, " + s.images()
                + " images (seed " + seed + ") to " + s.out());
        return 0;
    }
}
