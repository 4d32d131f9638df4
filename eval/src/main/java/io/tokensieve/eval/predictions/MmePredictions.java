package io.tokensieve.eval.predictions;

import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.formats.MmeLoader;
import io.tokensieve.eval.EvalException;
import io.tokensieve.eval.Prediction;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * MME results in the official tool's format: a folder of {@code <subtask>.txt} files, each line
 * {@code image_name<TAB>question<TAB>ground_truth<TAB>prediction} (or without the ground-truth column),
 * matched by (subtask, image, question).
 */
final class MmePredictions implements PredictionSource {
    private final Map<String, String> byKey = new HashMap<>();

    MmePredictions(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new EvalException(dir + ": MME predictions must be a folder of <subtask>.txt files");
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.txt")) {
            for (Path f : ds) {
                String task = MmeLoader.canonicalTask(f.getFileName().toString().replaceFirst("\\.txt$", ""));
                List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
                for (int i = 0; i < lines.size(); i++) {
                    String line = lines.get(i).replace("\r", "");
                    if (line.isBlank()) {
                        continue;
                    }
                    String[] c = line.split("\t", -1);
                    if (c.length != 3 && c.length != 4) {
                        throw new EvalException(f + ": line " + (i + 1) + ": expected 4 tab-separated columns "
                                + "(image, question, answer, prediction) or 3 (image, question, prediction), got " + c.length);
                    }
                    if (byKey.put(key(task, c[0], c[1]), c[c.length - 1]) != null) {
                        throw new EvalException(f + ": line " + (i + 1) + ": duplicate prediction for " + c[0] + " / " + c[1]);
                    }
                }
            }
        } catch (IOException e) {
            throw new EvalException(dir + ": cannot read (" + e.getMessage() + ")");
        }
    }

    private static String key(String task, String image, String question) {
        return task + "\u0000" + image + "\u0000" + question;
    }

    @Override
    public Prediction get(Sample s) {
        String p = byKey.get(key(String.valueOf(s.extra().get("subtask")), String.valueOf(s.extra().get("image_name")),
                s.question()));
        return p == null ? Prediction.MISSING : Prediction.text(p);
    }

    @Override
    public int size() {
        return byKey.size();
    }
}
