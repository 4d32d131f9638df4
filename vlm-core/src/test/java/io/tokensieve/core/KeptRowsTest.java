package io.tokensieve.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.prune.KeptRows;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneException;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The row assembly both appliers share, against rows written out by hand. */
class KeptRowsTest {

    /** Row i of the full set is {10 i, 10 i + 1}; the live rows of tokens 1, 3, 4 carry +100 (they moved on). */
    @Test
    void replacementsWinThenLiveRowsThenTokensBroughtBack() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray all = m.create(new float[] {0, 1, 10, 11, 20, 21, 30, 31, 40, 41, 50, 51}, new Shape(6, 2));
            NDArray live = m.create(new float[] {110, 111, 130, 131, 140, 141}, new Shape(3, 2)); // tokens 1, 3, 4
            NDArray repl = m.create(new float[] {-1, -2, -3, -4}, new Shape(2, 2)); // for tokens 3 and 1
            int[] kept = {0, 1, 2, 3, 4, 5};
            int[] current = {-1, 0, -1, 1, 2, -1};
            PruneDecision d = PruneDecision.keep(kept).withReplacements(new int[] {3, 1}, repl);
            Map<Integer, Integer> slots = KeptRows.replacementSlots(d, "test", 2);
            assertEquals(Map.of(3, 0, 1, 1), slots);
            NDArray out = KeptRows.assemble(live, kept, current, slots, repl, () -> all, m, true);
            assertArrayEquals(new float[] {0, 1, -3, -4, 20, 21, -1, -2, 140, 141, 50, 51}, out.toFloatArray());
        }
    }

    @Test
    void textPositionsKeepTheirRowsAndTheFullSetIsOnlyAskedForWhenNeeded() {
        try (NDManager m = NDManager.newBaseManager()) {
            // a sequence: text, visual 2, visual 5, text; visual 5 is dropped
            NDArray seq = m.create(new float[] {7, 7, 2, 2, 5, 5, 8, 8}, new Shape(4, 2));
            AtomicInteger asked = new AtomicInteger();
            NDArray out = KeptRows.assemble(seq, new int[] {-1, 2, -1}, new int[] {0, 1, 3}, Map.of(), null, () -> {
                asked.incrementAndGet();
                return seq;
            }, m, false);
            assertArrayEquals(new float[] {7, 7, 2, 2, 8, 8}, out.toFloatArray());
            assertEquals(0, asked.get(), "nothing was brought back");
            // unchanged rows come back as they are only when the caller allows it
            int[] same = {0, 1, 2, 3};
            assertSame(seq, KeptRows.assemble(seq, new int[] {-1, 2, 5, -1}, same, Map.of(), null, () -> seq, m, true));
            NDArray copy = KeptRows.assemble(seq, new int[] {-1, 2, 5, -1}, same, Map.of(), null, () -> seq, m, false);
            assertTrue(copy != seq);
            assertArrayEquals(seq.toFloatArray(), copy.toFloatArray());
        }
    }

    @Test
    void badReplacementsAreRefusedWithTheStepNamed() {
        try (NDManager m = NDManager.newBaseManager()) {
            PruneDecision wrongWidth = PruneDecision.keep(new int[] {0, 1}).withReplacements(new int[] {1}, m.zeros(new Shape(1, 3)));
            assertTrue(assertThrows(PruneException.class, () -> KeptRows.replacementSlots(wrongWidth, "step s", 2))
                    .getMessage().startsWith("step s: replacements must be [1, 2]"));
            PruneDecision notKept = PruneDecision.keep(new int[] {0, 1}).withReplacements(new int[] {4}, m.zeros(new Shape(1, 2)));
            assertTrue(assertThrows(PruneException.class, () -> KeptRows.replacementSlots(notKept, "s", 2))
                    .getMessage().contains("token 4, which is not kept"));
            PruneDecision twice = PruneDecision.keep(new int[] {0, 1}).withReplacements(new int[] {1, 1}, m.zeros(new Shape(2, 2)));
            assertTrue(assertThrows(PruneException.class, () -> KeptRows.replacementSlots(twice, "s", 2))
                    .getMessage().contains("replaced twice"));
            PruneDecision ints = PruneDecision.keep(new int[] {0, 1}).withReplacements(new int[] {1},
                    m.zeros(new Shape(1, 2), DataType.INT32));
            assertTrue(assertThrows(PruneException.class, () -> KeptRows.replacementSlots(ints, "s", 2))
                    .getMessage().contains("float32"));
        }
    }
}
