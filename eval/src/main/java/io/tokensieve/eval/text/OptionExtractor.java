package io.tokensieve.eval.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Rule-based option extraction for multiple-choice answers (benchmarks-vqa.md section 8, steps 1 to 3, as
 * VLMEvalKit's can_infer_option / can_infer_text). Without an LLM judge, an answer no rule resolves is
 * {@link #UNPARSED}.
 */
public final class OptionExtractor {
    /** The answer is a refusal or names no option: wrong. */
    public static final String REFUSED = "Z";
    /** No rule resolved the answer (the step an LLM judge would take). */
    public static final String UNPARSED = "?";

    private static final List<String> REFUSALS = List.of("Sorry, I can't help with images of people yet.",
            "I can't process this file.", "I'm sorry, but without the image provided", "Cannot determine the answer");
    private static final String SEPARATORS = ".()[],:;!*#{}";

    private OptionExtractor() {}

    /** The letter the answer picks among {@code options} (letter -> option text, in order), Z, or UNPARSED. */
    public static String extract(String answer, Map<String, String> options) {
        for (String r : REFUSALS) {
            if (answer.contains(r)) {
                return REFUSED;
            }
        }
        String letter = byLetter(answer, options);
        if (letter != null) {
            return letter;
        }
        String text = byText(answer, options);
        return text != null ? text : UNPARSED;
    }

    private static String byLetter(String answer, Map<String, String> options) {
        String mod = answer;
        for (char c : SEPARATORS.toCharArray()) {
            mod = mod.replace(c, ' ');
        }
        List<String> tokens = PyStr.split(mod);
        List<String> found = new ArrayList<>();
        for (String l : options.keySet()) {
            if (tokens.contains(l)) {
                found.add(l);
            }
        }
        if (found.size() == 1) {
            // a lone "A" in a longer sentence may be the article, not the option
            if (tokens.contains("A") && tokens.size() > 3) {
                return null;
            }
            return found.get(0);
        }
        if (found.isEmpty() && tokens.contains(REFUSED)) {
            return REFUSED;
        }
        return null;
    }

    private static String byText(String answer, Map<String, String> options) {
        String lower = answer.toLowerCase(Locale.ROOT);
        List<String> hits = new ArrayList<>();
        for (Map.Entry<String, String> e : options.entrySet()) {
            if (lower.contains(e.getValue().toLowerCase(Locale.ROOT))) {
                hits.add(e.getKey());
            }
        }
        return hits.size() == 1 ? hits.get(0) : null;
    }
}
