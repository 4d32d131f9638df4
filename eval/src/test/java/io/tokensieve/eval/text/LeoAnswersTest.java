package io.tokensieve.eval.text;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LeoAnswersTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "The Chair2|chair",
        "2|two",
        "tv stand|TV stand",
        "TV stand|TV stand",
        "  brown   table.|brown table",
        "a table on the left side|table on left side",
        "none|zero",
        "23|twenty-three",
        "walk backwards!|walk backward",
        "rigth of the door|right of door",
    })
    void cleansAsTheReference(String raw, String clean) {
        assertEquals(clean, LeoAnswers.clean(raw));
    }

    @Test
    void exactAndRefinedMatch() {
        List<String> refs = List.of(LeoAnswers.clean("TV stand"));
        assertTrue(LeoAnswers.exactMatch(LeoAnswers.clean("tv stand"), refs));
        List<String> table = List.of(LeoAnswers.clean("table"));
        String pred = LeoAnswers.clean("brown wooden table");
        assertFalse(LeoAnswers.exactMatch(pred, table));
        assertTrue(LeoAnswers.refinedMatch(pred, table));
        assertTrue(LeoAnswers.refinedMatch("table", List.of("brown wooden table")));
        assertFalse(LeoAnswers.refinedMatch("chair", List.of("brown wooden table")));
        assertTrue(LeoAnswers.refinedMatch("wooden  table", List.of("brownwoodentable")));
    }
}
