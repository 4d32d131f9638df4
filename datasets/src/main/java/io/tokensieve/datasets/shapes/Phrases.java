package io.tokensieve.datasets.shapes;

/** Small English helpers shared by the question generators. */
final class Phrases {
    private Phrases() {}

    /** "a" or "an" before {@code phrase}. */
    static String article(String phrase) {
        return "aeiou".indexOf(phrase.charAt(0)) >= 0 ? "an" : "a";
    }

    /** The answer word for a printed character: lower case, as VQA answers are released. */
    static String characterAnswer(char c) {
        return String.valueOf(Character.toLowerCase(c));
    }
}
