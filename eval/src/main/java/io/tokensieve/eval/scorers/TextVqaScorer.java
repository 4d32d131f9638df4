package io.tokensieve.eval.scorers;

import io.tokensieve.datasets.Sample;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Scorer;
import io.tokensieve.eval.Tally;
import io.tokensieve.eval.text.VqaNormalizer;

import java.util.List;
import java.util.Map;

/**
 * TextVQA soft accuracy (benchmarks-vqa.md section 3): every answer and the prediction go through the
 * EvalAI processor, then leave-one-annotator-out accuracy. LLaVA's evaluator ({@code official}) and
 * lmms-eval ({@code lmms}) compute the same number; the variant is recorded, as is whether the prompt
 * carried OCR tokens.
 */
public final class TextVqaScorer implements Scorer {
    private final String variant;

    public TextVqaScorer(String variant) {
        this.variant = variant;
    }

    @Override
    public String benchmark() {
        return "textvqa";
    }

    @Override
    public String variant() {
        return variant;
    }

    public static double accuracy(String prediction, List<String> answers) {
        List<String> gts = answers.stream().map(VqaNormalizer::evalAi).toList();
        return VqaNormalizer.leaveOneOut(gts, VqaNormalizer.evalAi(prediction));
    }

    @Override
    public Tally newTally() {
        return new BaseTally(benchmark(), variant) {
            private double sum;
            private Object ocr;

            @Override
            protected double score(Sample s, Prediction p) {
                if (s.references().isEmpty()) {
                    throw noReference(s);
                }
                if (ocr == null) {
                    ocr = s.extra().get("textvqa_ocr_tokens");
                }
                double acc = accuracy(p.text(), s.references());
                sum += acc;
                return acc;
            }

            @Override
            protected String fill(Map<String, Object> v) {
                v.put("accuracy", Counts.pct(sum, n));
                v.put("textvqa_ocr_tokens", ocr == null ? false : ocr);
                return "accuracy";
            }
        };
    }
}
