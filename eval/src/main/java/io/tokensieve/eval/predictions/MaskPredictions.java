package io.tokensieve.eval.predictions;

import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.mask.MaskPng;
import io.tokensieve.eval.EvalException;
import io.tokensieve.eval.Prediction;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Segmentation predictions: {@code <dir>/<sample id>.png}, any non-zero pixel foreground; read on demand. */
final class MaskPredictions implements PredictionSource {
    private final Path dir;

    MaskPredictions(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new EvalException(dir + ": segmentation predictions must be a folder of <sample id>.png masks");
        }
        this.dir = dir;
    }

    @Override
    public Prediction get(Sample s) {
        Path f = dir.resolve(s.id() + ".png");
        if (!Files.isRegularFile(f)) {
            return Prediction.MISSING;
        }
        try {
            return Prediction.mask(MaskPng.readBinary(f));
        } catch (DatasetException e) {
            throw new EvalException(e.getMessage());
        }
    }

    @Override
    public int size() {
        try (Stream<Path> s = Files.list(dir)) {
            return (int) s.filter(p -> p.getFileName().toString().endsWith(".png")).count();
        } catch (IOException e) {
            throw new EvalException(dir + ": cannot list (" + e.getMessage() + ")");
        }
    }
}
