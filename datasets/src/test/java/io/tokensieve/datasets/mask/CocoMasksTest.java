package io.tokensieve.datasets.mask;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class CocoMasksTest {
    @Test
    void compressedRleDecodesAsTheCocoStringCodec() {
        // counts 3, 2, 5 are written as single characters '3' '2' '5'; from the 4th on, each is the difference
        // to the count two places back: 1 - 2 = -1 is 'O' (31 + 48, sign bit set)
        assertArrayEquals(new long[] {3, 2, 5, 1}, CocoMasks.decodeString("325O"));
        assertArrayEquals(new long[] {3, 2, 5, 4}, CocoMasks.decodeString("3252"));
        // 100 needs two characters: 100 = 4 + 3 * 32 -> (4 | 0x20) + 48, then 3 + 48
        assertArrayEquals(new long[] {100}, CocoMasks.decodeString(new String(new char[] {(char) (36 + 48), '3'})));
    }

    @Test
    void runsFillColumnMajor() {
        LabelMask m = CocoMasks.fromRuns(new long[] {1, 2, 3}, 2, 3);
        // column-major: pixel 0 off, pixels 1 and 2 on -> (x0, y1) and (x1, y0)
        assertEquals(0, m.get(0, 0));
        assertEquals(1, m.get(0, 1));
        assertEquals(1, m.get(1, 0));
        assertEquals(2, m.count(1));
    }

    @Test
    void rectanglePolygonEqualsItsBox() {
        // COCO turns a box into a mask through this very polygon routine: box x, y, w, h covers w x h pixels
        LabelMask m = CocoMasks.fromPolygons(List.of(new double[] {2, 1, 2, 4, 7, 4, 7, 1}), 6, 9);
        assertEquals(15, m.count(1));
        assertEquals(1, m.get(2, 1));
        assertEquals(1, m.get(6, 3));
        assertEquals(0, m.get(7, 3));
        assertEquals(0, m.get(6, 4));
    }

    @Test
    void triangleCoversHalfItsBoxAndPartsAreUnited() {
        LabelMask t = CocoMasks.fromPolygons(List.of(new double[] {0, 0, 8, 0, 0, 8}), 8, 8);
        assertEquals(1, t.get(0, 0));
        assertEquals(0, t.get(7, 7));
        assertEquals(t.get(1, 2), t.get(2, 1));
        int area = t.count(1);
        assertEquals(true, area >= 28 && area <= 36, "area " + area);
        LabelMask two = CocoMasks.fromPolygons(List.of(new double[] {0, 0, 2, 0, 2, 2, 0, 2},
                new double[] {1, 1, 3, 1, 3, 3, 1, 3}), 4, 4);
        assertEquals(7, two.count(1));
    }

    @Test
    void nearestResizeFollowsOpenCv() {
        LabelMask m = new LabelMask(2, 1, new byte[] {0, 1});
        LabelMask up = m.resizedNearest(4, 2);
        assertArrayEquals(new byte[] {0, 0, 1, 1, 0, 0, 1, 1}, up.labels());
        LabelMask down = up.resizedNearest(2, 1);
        assertArrayEquals(new byte[] {0, 1}, down.labels());
    }
}
