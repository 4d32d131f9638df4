package io.tokensieve.eval.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

/**
 * The answer cleaning of the 3D QA evaluators (credited to LEO's data utilities; adatoken-3d spec section 9)
 * and its two match rules. Patterns use Unicode character classes, as Python 3's {@code re} does.
 */
public final class LeoAnswers {
    private static final int U = Pattern.UNICODE_CHARACTER_CLASS;
    private static final List<Rule> RULES = rules();

    private record Rule(Pattern pattern, String replacement) {}

    private static List<Rule> rules() {
        List<Rule> out = new ArrayList<>();
        BiConsumer<String, String> rule = (regex, replacement) ->
                out.add(new Rule(Pattern.compile(regex, U), replacement));
        // 1. spaces
        rule.accept("[ ]+$", "");
        rule.accept("^[ ]+", "");
        rule.accept(" {2,}", " ");
        rule.accept("\\.[ ]{2,}", ". ");
        // 2. characters outside letters, digits, comma, apostrophe, whitespace, hyphen and colon
        rule.accept("[^a-zA-Z0-9,'\\s\\-:]+", "");
        // 3. typos (the first two never fire after step 2; kept in the reference order)
        rule.accept("ç", "c");
        rule.accept("\u2019", "'");
        rule.accept("\\bletf\\b", "left");
        rule.accept("\\blet\\b", "left");
        rule.accept("\\btehre\\b", "there");
        rule.accept("\\brigth\\b", "right");
        rule.accept("\\brght\\b", "right");
        rule.accept("\\bbehine\\b", "behind");
        rule.accept("\\btv\\b", "TV");
        rule.accept("\\bchai\\b", "chair");
        rule.accept("\\bwasing\\b", "washing");
        rule.accept("\\bwaslked\\b", "walked");
        rule.accept("\\boclock\\b", "o'clock");
        rule.accept("\\bo'[ ]+clock\\b", "o'clock");
        // 4. numbers to words
        rule.accept("\\b0\\b", "zero");
        rule.accept("\\bnone\\b", "zero");
        String[] words = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
            "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"};
        for (int i = 0; i < words.length; i++) {
            rule.accept("\\b" + (i + 1) + "\\b", words[i]);
        }
        rule.accept("\\b23\\b", "twenty-three");
        // 5. a word followed by one digit loses it (chair2 -> chair)
        rule.accept("\\b([a-zA-Z]+)([0-9])\\b", "$1");
        // 6. articles before a word
        rule.accept("\\ba\\b ([a-zA-Z]+)", "$1");
        rule.accept("\\ban\\b ([a-zA-Z]+)", "$1");
        rule.accept("\\bthe\\b ([a-zA-Z]+)", "$1");
        // 7.
        rule.accept("\\bbackwards\\b", "backward");
        return List.copyOf(out);
    }

    private LeoAnswers() {}

    public static String clean(String s) {
        String out = s.toLowerCase(Locale.ROOT);
        for (Rule r : RULES) {
            out = r.pattern().matcher(out).replaceAll(r.replacement());
        }
        return out;
    }

    /** EM@1: the cleaned prediction equals one cleaned reference. */
    public static boolean exactMatch(String pred, List<String> refs) {
        return refs.contains(pred);
    }

    /** EM-refined: exact, or with all whitespace removed one string contains the other. */
    public static boolean refinedMatch(String pred, List<String> refs) {
        if (exactMatch(pred, refs)) {
            return true;
        }
        String p = String.join("", PyStr.split(pred));
        for (String r : refs) {
            String g = String.join("", PyStr.split(r));
            if (g.contains(p) || p.contains(g)) {
                return true;
            }
        }
        return false;
    }
}
