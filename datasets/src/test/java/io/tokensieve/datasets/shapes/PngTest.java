package io.tokensieve.datasets.shapes;

import io.tokensieve.core.image.RgbImage;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PngTest {
    @Test
    void rgbRoundTripsThroughAnIndependentDecoder() throws IOException {
        RgbImage img = ShapesBench.vqa(3, 0).image();
        BufferedImage back = ImageIO.read(new ByteArrayInputStream(Png.rgb8(img)));
        assertEquals(224, back.getWidth());
        assertEquals(224, back.getHeight());
        for (int y = 0; y < 224; y++) {
            for (int x = 0; x < 224; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(img.get(x, y, c), back.getRaster().getSample(x, y, c), "pixel " + x + "," + y);
                }
            }
        }
        assertArrayEquals(Png.rgb8(img), Png.rgb8(img));
    }

    @Test
    void sixteenBitGreyRoundTrips() throws IOException {
        int w = 37;
        int h = 11;
        int[] v = new int[w * h];
        Rng rng = new Rng(1);
        for (int i = 0; i < v.length; i++) {
            v[i] = i % 7 == 0 ? 0 : rng.nextInt(65536);
        }
        BufferedImage back = ImageIO.read(new ByteArrayInputStream(Png.gray16(v, w, h)));
        assertEquals(BufferedImage.TYPE_USHORT_GRAY, back.getType());
        for (int i = 0; i < v.length; i++) {
            assertEquals(v[i], back.getRaster().getSample(i % w, i / w, 0));
        }
    }
}
