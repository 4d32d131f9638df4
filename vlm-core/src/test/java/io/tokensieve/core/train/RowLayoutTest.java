package io.tokensieve.core.train;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decoder row layout of a batch: the plain padded layout, and groups of neighbouring lengths. */
class RowLayoutTest {
    @Test
    void singleIsThePlainPaddedLayout() {
        int[] lens = {5, 9, 3};
        RowLayout l = RowLayout.single(lens);
        assertEquals(1, l.groups());
        assertEquals(27, l.rows());
        for (int i = 0; i < lens.length; i++) {
            for (int s = 0; s < 9; s++) {
                assertEquals(i * 9L + s, l.row(i, s));
            }
        }
        assertArrayEquals(new long[] {0, 1, 2, 0, 0, 0, 0, 0, 0}, l.positions(0)[2]);
        float[] mask = l.causalMask(0, -1f);
        // sequence 2 (length 3), query slot 4 (padding): sees slots 0-2 only; query slot 1 sees 0-1
        for (int k = 0; k < 9; k++) {
            assertEquals(k < 3 ? 0f : -1f, mask[(2 * 9 + 4) * 9 + k]);
            assertEquals(k <= 1 ? 0f : -1f, mask[(2 * 9 + 1) * 9 + k]);
        }
    }

    @Test
    void groupsSplitOneImageFromThreeImageSequencesAndNumberEveryRowOnce() {
        // a training batch's mix: one-image sequences of about 85 slots, three-image ones of about 230
        int[] lens = {85, 231, 90, 88, 229, 84, 86, 92, 87, 230, 85, 89, 91, 86, 88, 90};
        RowLayout g = RowLayout.grouped(lens);
        RowLayout single = RowLayout.single(lens);
        assertEquals(2, g.groups(), "short and long apart");
        assertEquals(3 * 231 + 13 * 92, g.rows());
        assertTrue(g.rows() < 0.6 * single.rows(), g.rows() + " rows against " + single.rows());
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < lens.length; i++) {
            assertTrue(g.width(i) >= lens[i]);
            int group = g.groupOfRow(g.row(i, 0));
            assertEquals(group, g.groupOfRow(g.row(i, g.width(i) - 1)), "a sequence stays in one group");
            for (int s = 0; s < g.width(i); s++) {
                long r = g.row(i, s);
                assertTrue(r >= 0 && r < g.rows());
                assertTrue(seen.add(r), "row " + r + " used twice");
            }
            // the sequence's rotary positions and mask row follow its own length
            int member = (int) ((g.row(i, 0) - g.base(group)) / g.groupWidth(group));
            long[] pos = g.positions(group)[member];
            assertEquals(lens[i] - 1, pos[lens[i] - 1]);
        }
        assertEquals(g.rows(), seen.size());
        assertThrows(IndexOutOfBoundsException.class, () -> g.groupOfRow(g.rows()));
    }

    @Test
    void equalLengthsAndSmallBatchesStayInOneGroup() {
        assertEquals(1, RowLayout.grouped(new int[] {80, 80, 80, 80}).groups());
        assertEquals(1, RowLayout.grouped(new int[] {80, 96}).groups(), "a small saving does not pay for a group");
        assertEquals(1, RowLayout.grouped(new int[] {120}).groups());
    }
}
