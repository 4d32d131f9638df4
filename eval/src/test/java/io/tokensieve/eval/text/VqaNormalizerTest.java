package io.tokensieve.eval.text;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class VqaNormalizerTest {
    /** benchmarks-vqa.md 2.4: OFFICIAL normalisation of the prediction. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "Yes.|yes",
        "Two|2",
        "the red one|red 1",
        "3.5|3.5",
        "1,000|1000",
        "well-lit|well lit",
        "(a) cat|cat",
        "don't|don't",
        "dont|don\u2019t",
    })
    void officialTestVectors(String raw, String normalized) {
        assertEquals(normalized, VqaNormalizer.officialPrediction(raw));
    }

    @Test
    void lmmsKeepsTheAsciiContraction() {
        assertEquals("don't", VqaNormalizer.evalAi("dont"));
        assertEquals("yes", VqaNormalizer.evalAi("Yes."));
        assertEquals("1000", VqaNormalizer.evalAi("1,000"));
        assertEquals("red 1", VqaNormalizer.evalAi("The red one?"));
        // 's is split off before the punctuation pass
        assertEquals("man 's hat", VqaNormalizer.evalAi("Man's hat"));
    }

    @Test
    void punctuationTestsTheOriginalInput() {
        // "a-b -c": "-" is next to a space somewhere, so every "-" is deleted, not spaced
        assertEquals("ab c", VqaNormalizer.processPunctuation("a-b -c"));
        assertEquals("a b", VqaNormalizer.processPunctuation("a;b"));
        assertEquals("3.5 end", VqaNormalizer.processPunctuation("3.5 end."));
        assertEquals("ok:yes", VqaNormalizer.processPunctuation("ok:yes"));
    }

    @Test
    void atMost32PeriodsAreRemoved() {
        String in = "x.".repeat(40);
        String out = VqaNormalizer.processPunctuation(in);
        assertEquals(8, out.chars().filter(c -> c == '.').count());
    }

    /** benchmarks-vqa.md 2.2: the closed form is the oracle for the leave-one-out loop. */
    @Test
    void leaveOneOutMatchesTheClosedForm() {
        double[] table = {0.0, 0.3, 0.6, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0};
        for (int k = 0; k <= 10; k++) {
            List<String> gts = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                gts.add(i < k ? "p" : "other" + i);
            }
            double closed = (k * Math.min(1, (k - 1) / 3.0) + (10 - k) * Math.min(1, k / 3.0)) / 10;
            assertEquals(closed, VqaNormalizer.leaveOneOut(gts, "p"), 1e-12, "k=" + k);
            assertEquals(table[k], VqaNormalizer.leaveOneOut(gts, "p"), 1e-12, "k=" + k);
        }
    }
}
