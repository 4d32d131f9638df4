package io.tokensieve.eval.scorers;

import io.tokensieve.datasets.Sample;
import io.tokensieve.eval.Metrics;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Scorers;
import io.tokensieve.eval.Tally;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class YesNoChoiceScorersTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "Yes, there is a snowboard.|yes",
        "No.|no",
        "No, there is not.|no",
        "There is no dog. But a cat.|no",
        "Not sure.|yes",
        "I do not see any|no",
        "no.|no",
        "There is a dog in the image. No doubt.|yes",
        "''|yes",
    })
    void popeOfficialParsing(String text, String parsed) {
        assertEquals(parsed, new PopeScorer("official").parse(text));
    }

    private static Sample pope(String subset, int qid, String label) {
        return Samples.of("pope", subset + "/" + qid, List.of(label), Map.of("subset", subset, "question_id", "" + qid));
    }

    @Test
    void popeMetricsPerSubsetAndMean() {
        Tally t = Scorers.create("pope", "official").newTally();
        String[][] rows = {
            {"random", "yes", "Yes, there is a snowboard."}, {"random", "yes", "No."}, {"random", "no", "No, there is not."},
            {"random", "no", "Yes"}, {"adversarial", "yes", "There is a dog in the image."},
            {"adversarial", "no", "I do not see any."}, {"adversarial", "yes", "yes"}, {"adversarial", "no", "No there isn't"}};
        for (int i = 0; i < rows.length; i++) {
            t.add(pope(rows[i][0], i, rows[i][1]), Prediction.text(rows[i][2]));
        }
        Metrics m = t.result();
        assertEquals("mean.f1", m.headline());
        assertEquals(50.0, m.number("per_subset.random.f1"), 1e-9);
        assertEquals(50.0, m.number("per_subset.random.precision"), 1e-9);
        assertEquals(50.0, m.number("per_subset.random.yes_ratio"), 1e-9);
        assertEquals(100.0, m.number("per_subset.adversarial.accuracy"), 1e-9);
        assertEquals(75.0, m.headlineValue(), 1e-9);
        assertEquals(75.0, m.number("mean.accuracy"), 1e-9);
        assertEquals(75.0, m.number("pooled.accuracy"), 1e-9);
    }

    @Test
    void popeLmmsCountsOnlyExactYesNo() {
        Tally t = Scorers.create("pope", "lmms").newTally();
        t.add(pope("random", 1, "yes"), Prediction.text("Yes, there is."));
        t.add(pope("random", 2, "no"), Prediction.text(" YES "));
        t.add(pope("random", 3, "yes"), Prediction.text("yes"));
        Metrics m = t.result();
        assertEquals(100.0 / 3, m.number("per_subset.random.accuracy"), 1e-9);
        // TP 1, FP 1, FN 0 ("Yes, there is." is neither yes nor no)
        assertEquals(50.0, m.number("per_subset.random.precision"), 1e-9);
        assertEquals(100.0, m.number("per_subset.random.recall"), 1e-9);
        assertEquals(200.0 / 3, m.number("per_subset.random.yes_ratio"), 1e-9);
    }

    @Test
    void popeZeroDenominatorsGiveZero() {
        Tally t = Scorers.create("pope", "official").newTally();
        t.add(pope("random", 1, "no"), Prediction.text("no"));
        Metrics m = t.result();
        assertEquals(0.0, m.number("per_subset.random.precision"));
        assertEquals(0.0, m.number("per_subset.random.f1"));
        assertEquals(100.0, m.number("per_subset.random.accuracy"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "official|Yes|yes", "official|yes, it is|yes", "official|The answer is yes|other", "official|no.|no",
        "official|y|other", "official|Nope|no", "official|Absolutely|other",
        "lmms|y|yes", "lmms|N.|no", "lmms| Yes. |yes", "lmms|x|other", "lmms|The answer is yes|other",
    })
    void mmeParsing(String variant, String pred, String parsed) {
        assertEquals(parsed, new MmeScorer(variant).parse(pred));
    }

    @Test
    void mmeAccAccPlusAndTotalsAgreeAcrossVariants() {
        Object[][] rows = {
            {"existence", "a.jpg", "Yes", "Yes"}, {"existence", "a.jpg", "No", "No"},
            {"existence", "b.jpg", "Yes", "yes, it is"}, {"existence", "b.jpg", "No", "Yes"},
            {"code_reasoning", "c.png", "Yes", "The answer is yes"}, {"code_reasoning", "c.png", "No", "no"}};
        for (String variant : List.of("official", "lmms")) {
            Tally t = Scorers.create("mme", variant).newTally();
            int i = 0;
            for (Object[] r : rows) {
                t.add(Samples.of("mme", "s" + i++, List.of((String) r[2]), Map.of("subtask", r[0], "image_name", r[1])),
                        Prediction.text((String) r[3]));
            }
            Metrics m = t.result();
            assertEquals(75.0, m.number("per_subtask.existence.acc"), 1e-9, variant);
            assertEquals(50.0, m.number("per_subtask.existence.acc_plus"), 1e-9, variant);
            assertEquals(125.0, m.headlineValue(), 1e-9, variant);
            assertEquals(50.0, m.number("cognition"), 1e-9, variant);
            assertEquals(0, m.values().get("images_without_two_questions"));
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "B|4|B", "C\\n|4|C", "A. yes|2|A", "The answer is B.|4|B", "Because... The answer is C|4|C",
        "The answer is B. The answer is C.|4|FAILED", "E|3|FAILED", "D. maybe|3|FAILED", "b|4|FAILED", "|4|FAILED",
    })
    void scienceQaOfficialParsing(String pred, int choices, String letter) {
        assertEquals(letter, ScienceQaScorer.parseOfficial(pred == null ? "" : pred.replace("\\n", "\n"), choices));
    }

    @Test
    void scienceQaLmmsAndSubsets() {
        assertEquals(true, ScienceQaScorer.correctLmms("B", "B"));
        assertEquals(true, ScienceQaScorer.correctLmms("B. because", "B"));
        assertEquals(false, ScienceQaScorer.correctLmms("b", "B"));
        assertEquals(false, ScienceQaScorer.correctLmms("The answer is B", "B"));
        Tally t = Scorers.create("scienceqa", "official").newTally();
        t.add(Samples.of("scienceqa", "1", List.of("A"), Map.of("has_image", true, "choices", List.of("x", "y"))),
                Prediction.text("A"));
        t.add(Samples.of("scienceqa", "2", List.of("A"), Map.of("has_image", false, "choices", List.of("x", "y"))),
                Prediction.text("A. x"));
        t.add(Samples.of("scienceqa", "4", List.of("A"), Map.of("has_image", true, "choices", List.of("x", "y", "z"))),
                Prediction.text("nonsense"));
        Metrics m = t.result();
        assertEquals(50.0, m.headlineValue(), 1e-9);
        assertEquals(200.0 / 3, m.number("accuracy_all"), 1e-9);
        assertEquals(1, m.values().get("n_failed_parse"));
    }

    private static Sample mmb(long base, int pass, String answer, String category, String... options) {
        Map<String, Object> opts = new LinkedHashMap<>();
        for (int i = 0; i < options.length; i++) {
            opts.put(String.valueOf((char) ('A' + i)), options[i]);
        }
        return Samples.of("mmbench", String.valueOf(base + pass * 1_000_000L), List.of(answer),
                Map.of("base_index", base, "pass", pass, "options", opts, "category", category, "l2_category", "L2-" + category));
    }

    @Test
    void mmbenchCountsAQuestionOnlyWhenEveryPassIsRight() {
        Tally t = Scorers.create("mmbench", "official").newTally();
        t.add(mmb(0, 0, "B", "x", "red", "green"), Prediction.text("B"));
        t.add(mmb(0, 1, "A", "x", "green", "red"), Prediction.text("green"));
        t.add(mmb(1, 0, "A", "y", "sun", "rain"), Prediction.text("A"));
        t.add(mmb(1, 1, "B", "y", "rain", "sun"), Prediction.text("I think it is A"));
        // without an answer key a row is ignored
        assertEquals(Double.NaN, t.add(Samples.of("mmbench", "7", List.of(), Map.of()), Prediction.text("A")));
        Metrics m = t.result();
        assertEquals(50.0, m.headlineValue(), 1e-9);
        assertEquals(100.0, m.number("per_category.x"), 1e-9);
        assertEquals(0.0, m.number("per_l2_category.L2-y"), 1e-9);
        assertEquals(0.25, m.number("mcq_unparsed_rate"), 1e-12);
        assertEquals(2, m.values().get("n_questions"));
    }
}
