package io.tokensieve.eval.scorers;

import io.tokensieve.datasets.Sample;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Scorer;
import io.tokensieve.eval.Tally;
import io.tokensieve.eval.text.LeoAnswers;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ScanQA and SQA3D exact match (adatoken-3d spec section 9): prediction and references cleaned with the
 * LEO routine, then EM@1 (headline) and EM-refined, x100; SQA3D also per question type 0..5 (what, is,
 * how, can, which, other). A missing prediction scores 0 on both (an empty answer would be a substring of
 * every reference under EM-refined).
 */
public final class Scene3dQaScorer implements Scorer {
    private static final List<String> SQA_TYPES = List.of("what", "is", "how", "can", "which", "other");
    private final String benchmark;

    public Scene3dQaScorer(String benchmark) {
        this.benchmark = benchmark;
    }

    @Override
    public String benchmark() {
        return benchmark;
    }

    @Override
    public String variant() {
        return "official";
    }

    @Override
    public Tally newTally() {
        return new BaseTally(benchmark, variant()) {
            private int em;
            private int refined;
            private final Map<Integer, int[]> byType = new java.util.TreeMap<>();

            @Override
            protected double score(Sample s, Prediction p) {
                if (s.references().isEmpty()) {
                    throw noReference(s);
                }
                List<String> refs = s.references().stream().map(LeoAnswers::clean).toList();
                String pred = LeoAnswers.clean(p.text());
                boolean exact = !p.missing() && LeoAnswers.exactMatch(pred, refs);
                boolean loose = !p.missing() && LeoAnswers.refinedMatch(pred, refs);
                em += exact ? 1 : 0;
                refined += loose ? 1 : 0;
                if (s.extra().get("question_type") instanceof Integer t) {
                    int[] c = byType.computeIfAbsent(t, k -> new int[3]);
                    c[0] += exact ? 1 : 0;
                    c[1] += loose ? 1 : 0;
                    c[2]++;
                }
                return exact ? 1 : 0;
            }

            @Override
            protected String fill(Map<String, Object> v) {
                v.put("em", Counts.pct(em, n));
                v.put("em_refined", Counts.pct(refined, n));
                if (!byType.isEmpty()) {
                    Map<String, Object> per = new LinkedHashMap<>();
                    byType.forEach((t, c) -> {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("em", Counts.pct(c[0], c[2]));
                        m.put("em_refined", Counts.pct(c[1], c[2]));
                        m.put("n", c[2]);
                        per.put(t + "_" + (t < SQA_TYPES.size() ? SQA_TYPES.get(t) : "unknown"), m);
                    });
                    v.put("per_question_type", per);
                }
                return "em";
            }
        };
    }
}
