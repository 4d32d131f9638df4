package io.tokensieve.eval.scorers;

import io.tokensieve.datasets.Sample;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Scorer;
import io.tokensieve.eval.Tally;
import io.tokensieve.eval.text.Contractions;
import io.tokensieve.eval.text.PyStr;
import io.tokensieve.eval.text.VqaNormalizer;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

/**
 * VQAv2 soft accuracy (benchmarks-vqa.md section 2). {@code official}: the GT-Vision-Lab evaluator (the
 * prediction always normalised with the official contraction table; GT punctuation-processed only when
 * the 10 answers differ; scores rounded to 2 decimals). {@code lmms}: lmms-eval (EvalAI processor on the
 * prediction; GT and prediction fully processed again when the answers differ; full precision).
 */
public final class VqaV2Scorer implements Scorer {
    private final String variant;

    public VqaV2Scorer(String variant) {
        this.variant = variant;
    }

    @Override
    public String benchmark() {
        return "vqav2";
    }

    @Override
    public String variant() {
        return variant;
    }

    /** Accuracy of one prediction against the human answers, in [0, 1]. */
    public double accuracy(String prediction, List<String> answers) {
        boolean differ = new HashSet<>(answers).size() > 1;
        List<String> gts = new ArrayList<>(answers);
        String p;
        if (variant.equals("official")) {
            p = VqaNormalizer.officialPrediction(prediction);
            if (differ) {
                gts.replaceAll(VqaNormalizer::processPunctuation);
            }
        } else {
            p = VqaNormalizer.evalAi(prediction);
            gts.replaceAll(g -> PyStr.strip(g.replace("\n", " ").replace("\t", " ")));
            if (new HashSet<>(gts).size() > 1) {
                gts.replaceAll(g -> VqaNormalizer.processDigitArticle(VqaNormalizer.processPunctuation(g),
                        Contractions.ASCII));
                p = VqaNormalizer.processDigitArticle(VqaNormalizer.processPunctuation(p), Contractions.ASCII);
            }
        }
        return VqaNormalizer.leaveOneOut(gts, p);
    }

    @Override
    public Tally newTally() {
        boolean round = variant.equals("official");
        return new BaseTally(benchmark(), variant) {
            private double sum;
            private final Counts.MeanByKey byAnswerType = new Counts.MeanByKey();
            private final Counts.MeanByKey byQuestionType = new Counts.MeanByKey();

            @Override
            protected double score(Sample s, Prediction p) {
                if (s.references().isEmpty()) {
                    throw noReference(s);
                }
                double acc = accuracy(p.text(), s.references());
                sum += acc;
                if (s.extra().get("answer_type") instanceof String t) {
                    byAnswerType.add(t, acc);
                }
                if (s.extra().get("question_type") instanceof String t) {
                    byQuestionType.add(t, acc);
                }
                return acc;
            }

            @Override
            protected String fill(Map<String, Object> v) {
                double overall = Counts.pct(sum, n);
                v.put("accuracy", round ? Counts.round2(overall) : overall);
                v.put("per_answer_type", byAnswerType.percentages(round));
                v.put("per_question_type", byQuestionType.percentages(round));
                v.put("contraction_table", round ? "official" : "ascii");
                return "accuracy";
            }
        };
    }
}
