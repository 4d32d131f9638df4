package io.tokensieve.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The step timer's table: medians over batches and the median of per-batch ratios, from given timings. */
class StepTimerTest {
    @Test
    void tablePrintsMediansAndTheMedianPerBatchRatio() {
        // four batches: medians of an even count are the mean of the middle two
        StepTimer.Result r = new StepTimer.Result("sieve-tiny", 16, new double[] {100, 300, 200, 1000},
                new double[] {150, 600, 500, 1100}, new long[] {1000, 2000, 1500, 1200}, new long[] {2000, 3000, 3000, 1200});
        String t = StepTimer.table(r);
        assertTrue(t.contains("of sieve-tiny: 4 batches of 16 from the final mixture"), t);
        assertTrue(t.contains("| every sequence padded to the batch's longest | 2500 | 550 |"), t);
        assertTrue(t.contains("| length groups (the default) | 1350 | 250 |"), t);
        // ratios 1.5, 2.0, 2.5, 1.1 -> median 1.75; rows 2.0, 1.5, 2.0, 1.0 -> 1.75
        assertTrue(t.contains("time 1.75x, rows 1.75x"), t);
        assertEquals(2.0, StepTimer.median(new double[] {3, 1, 2}));
    }
}
