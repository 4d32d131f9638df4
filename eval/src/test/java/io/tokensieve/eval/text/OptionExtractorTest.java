package io.tokensieve.eval.text;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class OptionExtractorTest {
    private static final Map<String, String> OPTIONS = new LinkedHashMap<>(Map.of("A", "red", "B", "green", "C", "dark blue"));

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "B|B",
        "(C)|C",
        "B) green|B",
        "A. red|A",
        "The answer is C.|C",
        "Answer: B|B",
        // a lone A in a longer sentence may be the article: letter rule gives up, text rule finds nothing
        "It is A shade I like|?",
        "A B|?",
        "green|B",
        "I think red or green|?",
        "Dark Blue, clearly|C",
        "Z|Z",
        "Cannot determine the answer|Z",
        "Sorry, the picture shows green. Cannot determine the answer|Z",
        "nothing useful|?",
    })
    void extractsAsTheRules(String answer, String letter) {
        assertEquals(letter, OptionExtractor.extract(answer, OPTIONS));
    }
}
