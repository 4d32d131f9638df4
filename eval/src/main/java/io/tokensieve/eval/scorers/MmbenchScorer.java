package io.tokensieve.eval.scorers;

import io.tokensieve.datasets.Sample;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Scorer;
import io.tokensieve.eval.Tally;
import io.tokensieve.eval.text.OptionExtractor;

import java.util.Map;
import java.util.TreeMap;

/**
 * MMBench CircularEval (benchmarks-vqa.md section 8): each pass's answer goes through rule extraction
 * (refusal, option letter, option text); a question counts only if every pass of its group
 * ({@code index mod 1,000,000}) is right. Without an LLM judge, a pass no rule resolves is wrong and
 * counted in {@code mcq_unparsed_rate} (fraction of passes). Samples without an answer key are ignored.
 * Only the {@code official} variant (VLMEvalKit's rules, no judge) exists.
 */
public final class MmbenchScorer implements Scorer {
    @Override
    public String benchmark() {
        return "mmbench";
    }

    @Override
    public String variant() {
        return "official";
    }

    @Override
    public Tally newTally() {
        return new BaseTally(benchmark(), variant()) {
            /** base index -> {all passes right so far (1/0), passes} plus its categories. */
            private final Map<Long, Group> groups = new TreeMap<>();
            private int passes;
            private int unparsed;

            @Override
            protected double score(Sample s, Prediction p) {
                if (s.references().isEmpty()) {
                    return Double.NaN;
                }
                @SuppressWarnings("unchecked")
                Map<String, String> options = (Map<String, String>) s.extra().get("options");
                String letter = OptionExtractor.extract(p.text(), options);
                passes++;
                if (letter.equals(OptionExtractor.UNPARSED) && !p.missing()) {
                    unparsed++;
                }
                boolean ok = letter.equals(s.references().get(0));
                long base = ((Number) s.extra().get("base_index")).longValue();
                Group g = groups.computeIfAbsent(base, k -> new Group(String.valueOf(s.extra().get("category")),
                        String.valueOf(s.extra().get("l2_category"))));
                g.allRight &= ok;
                g.passes++;
                return ok ? 1 : 0;
            }

            @Override
            protected String fill(Map<String, Object> v) {
                int right = 0;
                Counts.MeanByKey byL2 = new Counts.MeanByKey();
                Counts.MeanByKey byCategory = new Counts.MeanByKey();
                for (Group g : groups.values()) {
                    right += g.allRight ? 1 : 0;
                    byL2.add(g.l2, g.allRight ? 1 : 0);
                    byCategory.add(g.category, g.allRight ? 1 : 0);
                }
                v.put("accuracy", Counts.pct(right, groups.size()));
                v.put("per_l2_category", byL2.percentages(false));
                v.put("per_category", byCategory.percentages(false));
                v.put("n_questions", groups.size());
                v.put("n_passes", passes);
                v.put("mcq_unparsed_rate", passes == 0 ? 0.0 : (double) unparsed / passes);
                return "accuracy";
            }
        };
    }

    private static final class Group {
        final String category;
        final String l2;
        boolean allRight = true;
        int passes;

        Group(String category, String l2) {
            this.category = category;
            this.l2 = l2;
        }
    }
}
