package io.tokensieve.eval.predictions;

import io.tokensieve.datasets.Sample;
import io.tokensieve.eval.EvalException;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Scorers;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Predictions of an earlier run, looked up by sample. Each benchmark's official results format is read:
 * VQAv2 / TextVQA / GQA / POPE / ScienceQA / ScanQA / SQA3D / ICL as a JSON list or JSON lines of
 * objects with an id and an answer field; MME as its per-subtask txt files with a fourth column; MMBench
 * as a TSV with a {@code prediction} column; segmentation as a folder of {@code <sample id>.png} masks.
 */
public interface PredictionSource {
    /** The prediction for {@code s}, or {@link Prediction#MISSING}. */
    Prediction get(Sample s);

    /** How many predictions were read (for masks, the PNG files present). */
    int size();

    static PredictionSource open(String format, Path path) {
        if (!Files.exists(path)) {
            throw new EvalException(path + ": prediction file not found");
        }
        if (Scorers.isSegmentation(format)) {
            return new MaskPredictions(path);
        }
        return switch (format) {
            case "mme" -> new MmePredictions(path);
            case "mmbench" -> new TsvPredictions(path);
            default -> new JsonPredictions(path, format.equals("pope"));
        };
    }
}
