package io.tokensieve.eval.scorers;

import io.tokensieve.datasets.Sample;
import io.tokensieve.eval.EvalException;
import io.tokensieve.eval.Metrics;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Scorers;
import io.tokensieve.eval.Tally;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VqaScorersTest {
    private static List<String> answers(Object... countThenAnswer) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < countThenAnswer.length; i += 2) {
            out.addAll(Collections.nCopies((Integer) countThenAnswer[i], (String) countThenAnswer[i + 1]));
        }
        return out;
    }

    private static List<Sample> vqav2() {
        return List.of(
                Samples.of("vqav2", "421", List.of("black", "black", "black", "black", "gray", "gray", "gray", "dark gray",
                        "black and white", "grey"), Map.of("answer_type", "other", "question_type", "what color is the")),
                Samples.of("vqav2", "730", answers(10, "2"), Map.of("answer_type", "number", "question_type", "how many")),
                Samples.of("vqav2", "731", answers(9, "yes", 1, "no"), Map.of("answer_type", "yes/no", "question_type", "is it")));
    }

    @Test
    void vqav2OfficialAccuracyPerTypeRounded() {
        Tally t = Scorers.create("vqav2", "official").newTally();
        List<Sample> s = vqav2();
        assertEquals(0.9, t.add(s.get(0), Prediction.text("Gray.")), 1e-12);
        assertEquals(1.0, t.add(s.get(1), Prediction.text("two")), 1e-12);
        assertEquals(0.3, t.add(s.get(2), Prediction.text("no")), 1e-12);
        Metrics m = t.result();
        assertEquals("official", m.scorerVariant());
        assertEquals(73.33, m.headlineValue(), 0);
        assertEquals(90.0, m.number("per_answer_type.other"), 0);
        assertEquals(30.0, m.number("per_answer_type.yes/no"), 0);
        assertEquals("official", m.values().get("contraction_table"));
    }

    @Test
    void vqav2VariantsDifferOnGroundTruthNormalisation() {
        // the answers differ, so OFFICIAL only punctuation-processes them ("a dog" stays) while LMMS also drops articles
        Sample s = Samples.of("vqav2", "1", answers(4, "a dog", 1, "dog", 5, "cat"));
        assertEquals(0.3, new VqaV2Scorer("official").accuracy("dog", s.references()), 1e-12);
        assertEquals(1.0, new VqaV2Scorer("lmms").accuracy("dog", s.references()), 1e-12);
        Tally lmms = Scorers.create("vqav2", "lmms").newTally();
        vqav2().forEach(x -> lmms.add(x, Prediction.text(x.id().equals("421") ? "Gray." : x.id().equals("730") ? "two" : "no")));
        assertEquals(100 * 2.2 / 3, lmms.result().headlineValue(), 1e-9);
        assertEquals("ascii", lmms.result().values().get("contraction_table"));
    }

    @Test
    void missingPredictionScoresZeroAndIsCounted() {
        Tally t = Scorers.create("vqav2", "official").newTally();
        assertEquals(0.0, t.add(vqav2().get(1), Prediction.MISSING));
        assertEquals(1, t.result().values().get("n_missing"));
        assertEquals(0.0, t.result().headlineValue());
    }

    @Test
    void roundsLikePython() {
        assertEquals(0.12, Counts.round2(0.125), 0);
        assertEquals(2.67, Counts.round2(2.675), 0);
        assertEquals(73.33, Counts.round2(100 * 2.2 / 3), 0);
    }

    @Test
    void textVqaNormalisesBothSides() {
        Sample a = Samples.of("textvqa", "34602", List.of("dakota", "dakota", "dakota", "nikon", "nikon", "nikon", "nikon",
                "dakota digital", "Dakota Digital", "dakota"), Map.of("textvqa_ocr_tokens", true));
        Sample b = Samples.of("textvqa", "34603", answers(2, "copenhagen", 8, "thursday"));
        Tally t = Scorers.create("textvqa", "official").newTally();
        assertEquals(1.0, t.add(a, Prediction.text("Dakota")), 1e-12);
        // "Dakota Digital" and "dakota digital" are the same answer after normalisation: 2 matches
        assertEquals(0.6, TextVqaScorer.accuracy("DAKOTA DIGITAL!", a.references()), 1e-12);
        assertEquals(0.6, t.add(b, Prediction.text("Copenhagen")), 1e-12);
        assertEquals(80.0, t.result().headlineValue(), 1e-9);
        assertEquals(true, t.result().values().get("textvqa_ocr_tokens"));
    }

    @Test
    void gqaVariants() {
        GqaScorer official = new GqaScorer("official");
        GqaScorer lmms = new GqaScorer("lmms");
        // spec section 4: t-shirt vs tshirt is right under LMMS and wrong under OFFICIAL
        assertEquals(false, official.correct("tshirt", "t-shirt"));
        assertEquals(true, lmms.correct("tshirt", "t-shirt"));
        assertEquals(true, official.correct("No..", "no"));
        assertEquals(false, official.correct(" no", "no"));
        assertEquals(true, lmms.correct(" no ", "no"));
        assertEquals(false, official.correct("no!", "no"));
        assertEquals(true, lmms.correct("no!", "no"));
    }

    @Test
    void iclExactMatchAfterNormalisation() {
        IclScorer s = new IclScorer("official");
        assertEquals(true, s.correct("Green.", List.of("green")));
        assertEquals(true, s.correct("two", List.of("2", "two")));
        assertEquals(false, s.correct("three", List.of("2", "two")));
        assertEquals(true, new IclScorer("lmms").correct("The red one", List.of("red 1")));
    }

    @Test
    void unknownVariantListsTheKnownOnes() {
        EvalException e = assertThrows(EvalException.class, () -> Scorers.create("mmbench", "lmms"));
        assertTrue(e.getMessage().contains("unknown scorer variant 'lmms' (known: official)"), e.getMessage());
        EvalException f = assertThrows(EvalException.class, () -> Scorers.create("vqa", "official"));
        assertTrue(f.getMessage().contains("no scorer for format 'vqa'"), f.getMessage());
    }
}
