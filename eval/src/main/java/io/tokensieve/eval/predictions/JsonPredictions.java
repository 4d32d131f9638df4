package io.tokensieve.eval.predictions;

import com.fasterxml.jackson.databind.JsonNode;
import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.io.CloseableIterator;
import io.tokensieve.datasets.io.JsonRecords;
import io.tokensieve.datasets.io.Rec;
import io.tokensieve.eval.EvalException;
import io.tokensieve.eval.Prediction;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON list or JSON-lines prediction file. The id is the first present of {@code question_id},
 * {@code questionId}, {@code id}, {@code index}; the answer the first present of {@code answer},
 * {@code text}, {@code prediction}, {@code answer_top10} (its first element). For POPE an optional
 * {@code category} (random / popular / adversarial) qualifies the id, since question ids restart in every
 * subset; a bare id that two subsets would share is an error rather than a silent match.
 */
final class JsonPredictions implements PredictionSource {
    static final List<String> ID_FIELDS = List.of("question_id", "questionId", "id", "index");
    static final List<String> TEXT_FIELDS = List.of("answer", "text", "prediction", "answer_top10");

    private final Path file;
    private final boolean pope;
    private final Map<String, String> byId = new HashMap<>();
    /** POPE: which subset first used each bare id. */
    private final Map<String, String> bareUsedBy = new HashMap<>();

    JsonPredictions(Path file, boolean pope) {
        this.file = file;
        this.pope = pope;
        try {
            if (startsWithList(file)) {
                try (CloseableIterator<Rec> it = JsonRecords.listElements(file, null, null)) {
                    it.forEachRemaining(this::add);
                }
            } else {
                try (CloseableIterator<JsonRecords.Line> it = JsonRecords.lines(file)) {
                    it.forEachRemaining(l -> add(l.json()));
                }
            }
        } catch (DatasetException e) {
            throw new EvalException(e.getMessage());
        }
    }

    private void add(Rec r) {
        r.requireObject();
        String id = null;
        for (String f : ID_FIELDS) {
            if (r.has(f)) {
                id = r.id(f);
                break;
            }
        }
        if (id == null) {
            throw new EvalException(file + ": " + r.label() + ": no id field (one of " + ID_FIELDS + ")");
        }
        Rec rec = r.named("id", id);
        String text = null;
        for (String f : TEXT_FIELDS) {
            if (rec.has(f)) {
                JsonNode v = rec.get(f);
                if (f.equals("answer_top10")) {
                    if (!v.isArray() || v.isEmpty() || !v.get(0).isTextual()) {
                        throw new EvalException(file + ": " + rec.label() + ": 'answer_top10' must be a non-empty list of strings");
                    }
                    text = v.get(0).asText();
                } else {
                    text = rec.str(f);
                }
                break;
            }
        }
        if (text == null) {
            throw new EvalException(file + ": " + rec.label() + ": no answer field (one of " + TEXT_FIELDS + ")");
        }
        String key = pope && rec.has("category") ? rec.str("category") + "/" + id : id;
        if (byId.put(key, text) != null) {
            throw new EvalException(file + ": " + rec.label() + ": duplicate prediction for id " + key);
        }
    }

    @Override
    public Prediction get(Sample s) {
        String text = byId.get(s.id());
        if (text == null && pope && s.extra().get("question_id") instanceof String qid && byId.containsKey(qid)) {
            String subset = String.valueOf(s.extra().get("subset"));
            String prev = bareUsedBy.putIfAbsent(qid, subset);
            if (prev != null && !prev.equals(subset)) {
                throw new EvalException(file + ": question_id " + qid + " matches samples of subsets " + prev + " and "
                        + subset + "; add a 'category' field to each prediction");
            }
            text = byId.get(qid);
        }
        return text == null ? Prediction.MISSING : Prediction.text(text);
    }

    @Override
    public int size() {
        return byId.size();
    }

    private static boolean startsWithList(Path file) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int c;
            do {
                c = r.read();
            } while (c != -1 && Character.isWhitespace(c));
            return c == '[';
        } catch (IOException e) {
            throw new EvalException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }
}
