package io.tokensieve.eval.run;

import io.tokensieve.core.image.PixelValues;
import io.tokensieve.datasets.mask.LabelMask;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class MaskDecoderTest {
    @Test
    void mapsTheCropBackToTheSourceImage() {
        // source 20x10 resized by 0.4 to 8x4, centre-cropped to 4x4 (2 px cut left and right of the resized image)
        PixelValues crop = new PixelValues(new float[3 * 16], 4, 4, 20, 10, 0.4, 2, 0);
        LabelMask m = MaskDecoder.toSourceMask(new float[] {1, 1, 1, 1}, 2, 2, crop);
        assertEquals(20, m.width());
        assertEquals(10, m.height());
        // the crop covers source x in [5, 15): only those columns can be foreground
        for (int x = 0; x < 20; x++) {
            assertEquals(x >= 5 && x < 15 ? 1 : 0, m.get(x, 3), "x=" + x);
        }
        assertEquals(100, m.count(1));
    }

    @Test
    void interpolatesBilinearlyAndThresholdsAtZero() {
        PixelValues crop = new PixelValues(new float[3 * 16], 4, 4, 4, 4, 1.0, 0, 0);
        // left column of the 2x2 grid positive, right negative: the boundary falls in the middle
        LabelMask m = MaskDecoder.toSourceMask(new float[] {1, -1, 1, -1}, 2, 2, crop);
        for (int y = 0; y < 4; y++) {
            assertEquals(1, m.get(0, y));
            assertEquals(1, m.get(1, y));
            assertEquals(0, m.get(2, y));
            assertEquals(0, m.get(3, y));
        }
        // a weakly negative right column moves the zero crossing to the right of the centre
        LabelMask w = MaskDecoder.toSourceMask(new float[] {5, -1, 5, -1}, 2, 2, crop);
        assertEquals(1, w.get(2, 0));
        assertEquals(0, w.get(3, 0));
    }
}
