package io.tokensieve.eval.scorers;

import io.tokensieve.datasets.Sample;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Scorer;
import io.tokensieve.eval.Tally;
import io.tokensieve.eval.text.PyStr;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * ScienceQA-IMG accuracy (benchmarks-vqa.md section 7) over the problems with an image (headline), and over
 * all scored problems. {@code official}: LLaVA's parsing (newlines become ". "; a lone valid letter, a
 * letter followed by ". ", or exactly one "The answer is X"; otherwise FAILED, counted in
 * {@code n_failed_parse}). {@code lmms}: exact letter, or a capital letter followed by a period.
 */
public final class ScienceQaScorer implements Scorer {
    public static final String FAILED = "FAILED";
    private static final String LETTERS = "ABCDE";
    private static final Pattern THE_ANSWER_IS = Pattern.compile("The answer is ([A-Z])");
    private final String variant;

    public ScienceQaScorer(String variant) {
        this.variant = variant;
    }

    @Override
    public String benchmark() {
        return "scienceqa";
    }

    @Override
    public String variant() {
        return variant;
    }

    /** The letter an answer picks under {@code official}, or FAILED. */
    public static String parseOfficial(String prediction, int choices) {
        String pred = prediction.replace("\n", ". ");
        String s = PyStr.strip(pred);
        String letter;
        if (s.length() == 1 && LETTERS.contains(s)) {
            letter = s;
        } else if (pred.length() >= 3 && LETTERS.indexOf(pred.charAt(0)) >= 0 && pred.startsWith(". ", 1)) {
            letter = String.valueOf(pred.charAt(0));
        } else {
            Matcher m = THE_ANSWER_IS.matcher(pred);
            List<String> found = m.results().map(r -> r.group(1)).toList();
            letter = found.size() == 1 && LETTERS.contains(found.get(0)) ? found.get(0) : FAILED;
        }
        return letter.equals(FAILED) || LETTERS.indexOf(letter.charAt(0)) >= choices ? FAILED : letter;
    }

    /** Whether the answer is right under {@code lmms}. */
    public static boolean correctLmms(String pred, String target) {
        if (pred.equals(target)) {
            return true;
        }
        return pred.length() >= 2 && Character.isUpperCase(pred.charAt(0)) && pred.charAt(1) == '.'
                && String.valueOf(pred.charAt(0)).equals(target);
    }

    @Override
    public Tally newTally() {
        return new BaseTally(benchmark(), variant) {
            private int right;
            private int img;
            private int imgRight;
            private int failed;

            @Override
            protected double score(Sample s, Prediction p) {
                if (s.references().isEmpty()) {
                    throw noReference(s);
                }
                String target = s.references().get(0);
                boolean ok;
                if (variant.equals("official")) {
                    int choices = s.extra().get("choices") instanceof List<?> c ? c.size() : LETTERS.length();
                    String letter = parseOfficial(p.text(), choices);
                    failed += letter.equals(FAILED) ? 1 : 0;
                    ok = letter.equals(target);
                } else {
                    ok = correctLmms(p.text(), target);
                }
                right += ok ? 1 : 0;
                if (Boolean.TRUE.equals(s.extra().get("has_image"))) {
                    img++;
                    imgRight += ok ? 1 : 0;
                }
                return ok ? 1 : 0;
            }

            @Override
            protected String fill(Map<String, Object> v) {
                v.put("accuracy", Counts.pct(imgRight, img));
                v.put("accuracy_all", Counts.pct(right, n));
                v.put("n_img", img);
                if (variant.equals("official")) {
                    v.put("n_failed_parse", failed);
                }
                return "accuracy";
            }
        };
    }
}
