package io.tokensieve.eval.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * VQA answer normalisation (benchmarks-vqa.md sections 1.2 to 1.4): punctuation processing, digit/article
 * processing with a contraction table, and the EvalAI answer processor used by lmms-eval and TextVQA.
 */
public final class VqaNormalizer {
    /** The 21 punctuation characters, in the order they are processed. */
    public static final List<String> PUNCT = List.of(";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+", "\\",
            "_", "-", ">", "<", "@", "`", ",", "?", "!");
    private static final Pattern DIGIT_COMMA_DIGIT = Pattern.compile("(\\d)(,)(\\d)", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern PERIOD = Pattern.compile("\\.(?!\\d)", Pattern.UNICODE_CHARACTER_CLASS);
    /** The reference passes re.UNICODE (32) in the count position of re.sub, so at most 32 periods go. */
    private static final int MAX_PERIODS = 32;
    private static final Map<String, String> NUMBERS = Map.ofEntries(Map.entry("none", "0"), Map.entry("zero", "0"),
            Map.entry("one", "1"), Map.entry("two", "2"), Map.entry("three", "3"), Map.entry("four", "4"),
            Map.entry("five", "5"), Map.entry("six", "6"), Map.entry("seven", "7"), Map.entry("eight", "8"),
            Map.entry("nine", "9"), Map.entry("ten", "10"));
    private static final List<String> ARTICLES = List.of("a", "an", "the");

    private VqaNormalizer() {}

    /** Section 1.2: every test looks at the original input, never the partly processed output. */
    public static String processPunctuation(String in) {
        String out = in;
        boolean digitCommaDigit = DIGIT_COMMA_DIGIT.matcher(in).find();
        for (String p : PUNCT) {
            if (in.contains(p + " ") || in.contains(" " + p) || digitCommaDigit) {
                out = out.replace(p, "");
            } else {
                out = out.replace(p, " ");
            }
        }
        Matcher m = PERIOD.matcher(out);
        StringBuilder sb = new StringBuilder();
        int n = 0;
        while (n < MAX_PERIODS && m.find()) {
            m.appendReplacement(sb, "");
            n++;
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** Section 1.3: lower-case, split, number words to digits, articles dropped, contractions restored. */
    public static String processDigitArticle(String in, Map<String, String> contractions) {
        List<String> words = new ArrayList<>();
        for (String w : PyStr.split(in.toLowerCase(Locale.ROOT))) {
            w = NUMBERS.getOrDefault(w, w);
            if (!ARTICLES.contains(w)) {
                words.add(w);
            }
        }
        words.replaceAll(w -> contractions.getOrDefault(w, w));
        return String.join(" ", words);
    }

    /** Section 1.4: the EvalAI answer processor (lmms-eval VQAv2 and TextVQA; LLaVA's TextVQA scorer). */
    public static String evalAi(String in) {
        String s = in.toLowerCase(Locale.ROOT).replace(",", "").replace("?", "").replace("'s", " 's");
        s = PyStr.strip(s);
        s = PyStr.strip(s.replace("\n", " ").replace("\t", " "));
        s = processPunctuation(s);
        return processDigitArticle(s, Contractions.ASCII);
    }

    /** The official VQA evaluator's prediction normalisation (section 2.1, step 1). */
    public static String officialPrediction(String pred) {
        String s = PyStr.strip(pred.replace("\n", " ").replace("\t", " "));
        return processDigitArticle(processPunctuation(s), Contractions.OFFICIAL);
    }

    /** Leave-one-annotator-out accuracy (section 2.2): mean over i of min(1, #{j != i : g_j == p} / 3). */
    public static double leaveOneOut(List<String> gts, String p) {
        if (gts.isEmpty()) {
            return 0;
        }
        int matches = 0;
        for (String g : gts) {
            if (g.equals(p)) {
                matches++;
            }
        }
        double sum = 0;
        for (String g : gts) {
            int others = g.equals(p) ? matches - 1 : matches;
            sum += Math.min(1.0, others / 3.0);
        }
        return sum / gts.size();
    }
}
