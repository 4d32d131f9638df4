package io.tokensieve.eval.sweep;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Summary tables list the reference first, then each pruner's budgets in increasing order. */
class SweepSummaryOrderTest {
    @Test
    void budgetsAscendEvenWhenFewerTokensEnterAtALargerBudget() {
        List<SweepSummary.Row> rows = new ArrayList<>(List.of(
                row("lvlm-csp", "lvlm-csp", "0.11", 19),
                row("random", "random", "0.33", 21),
                row("lvlm-csp", "lvlm-csp", "0.33", 13),
                row("none", "none", "all", 64),
                row("random", "random", "0.11", 7),
                row("lvlm-csp", "lvlm-csp", "0.22", 16)));
        rows.sort(SweepSummary.ROW_ORDER);
        assertEquals(List.of("none all", "lvlm-csp 0.11", "lvlm-csp 0.22", "lvlm-csp 0.33", "random 0.11", "random 0.33"),
                rows.stream().map(r -> r.pruner() + " " + r.budget()).toList());
    }

    @Test
    void tokenCountBudgetsSortNumerically() {
        List<SweepSummary.Row> rows = new ArrayList<>(List.of(
                row("fastv", "fastv", "128", 128), row("fastv", "fastv", "64", 64), row("fastv", "fastv", "9", 9)));
        rows.sort(SweepSummary.ROW_ORDER);
        assertEquals(List.of("9", "64", "128"), rows.stream().map(SweepSummary.Row::budget).toList());
    }

    private static SweepSummary.Row row(String pruner, String id, String budget, double tokensIn) {
        return new SweepSummary.Row("vqav2:x", pruner, id, budget, 10, 1, 50, 0, 100, 1, tokensIn, tokensIn, 1, 1, 0, 1,
                1, 0, "accuracy");
    }
}
