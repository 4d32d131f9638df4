package io.tokensieve.eval.predictions;

import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.io.Tsv;
import io.tokensieve.eval.EvalException;
import io.tokensieve.eval.Prediction;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** MMBench predictions: a TSV with an {@code index} and a {@code prediction} column (other columns ignored). */
final class TsvPredictions implements PredictionSource {
    private final Map<String, String> byIndex = new HashMap<>();

    TsvPredictions(Path file) {
        try (Tsv t = Tsv.open(file)) {
            if (!t.header().contains("index") || !t.header().contains("prediction")) {
                throw new EvalException(file + ": needs 'index' and 'prediction' columns (header: " + t.header() + ")");
            }
            while (t.hasNext()) {
                Tsv.Row r = t.next();
                String index = r.get("index").strip();
                String p = r.fields().get("prediction");
                if (byIndex.put(index, p == null ? "" : p) != null) {
                    throw new EvalException(r.where() + ": duplicate prediction for index " + index);
                }
            }
        } catch (DatasetException e) {
            throw new EvalException(e.getMessage());
        }
    }

    @Override
    public Prediction get(Sample s) {
        String p = byIndex.get(s.id());
        return p == null ? Prediction.MISSING : Prediction.text(p);
    }

    @Override
    public int size() {
        return byIndex.size();
    }
}
