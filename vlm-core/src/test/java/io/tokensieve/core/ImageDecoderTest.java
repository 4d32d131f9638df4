package io.tokensieve.core;

import io.tokensieve.core.config.PreprocessorConfig;
import io.tokensieve.core.image.ClipImageProcessor;
import io.tokensieve.core.image.ImageDecoder;
import io.tokensieve.core.image.ImageException;
import io.tokensieve.core.image.PixelValues;
import io.tokensieve.core.image.RgbImage;
import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Image decoding through OpenCV and CLIP preprocessing. */
class ImageDecoderTest {
    @TempDir
    Path tmp;

    @Test
    void grayRgbaAnd16BitBecomeRgb() {
        RgbImage g = ImageDecoder.decode(TestModels.grayPng(tmp, "g.png", 40, 30));
        assertEquals(40, g.width());
        assertEquals(30, g.height());
        assertEquals(g.get(5, 7, 0), g.get(5, 7, 2), 0.0);
        assertEquals(12f, g.get(5, 7, 1), 0.0); // (x + y) % 256

        RgbImage a = ImageDecoder.decode(TestModels.rgbaPng(tmp, "a.png", 20, 10));
        assertEquals(200f, a.get(3, 4, 0), 0.0); // alpha dropped, colour kept
        assertEquals(4f, a.get(3, 4, 1), 0.0);
        assertEquals(30f, a.get(3, 4, 2), 0.0);

        RgbImage w = ImageDecoder.decode(TestModels.gray16Png(tmp, "w.png", 11, 3));
        assertEquals(0f, w.get(0, 0, 0), 0.01);
        assertEquals(255f, w.get(10, 0, 0), 0.01); // 65535 -> 255
        assertEquals(127.5f, w.get(5, 0, 0), 0.01);
    }

    @Test
    void badFilesFailWithTheirNameAndTheProblem() throws IOException {
        Path missing = tmp.resolve("nope.png");
        assertMessage(missing, "file not found");
        Path empty = Files.createFile(tmp.resolve("empty.png"));
        assertMessage(empty, "empty file");
        Path text = Files.writeString(tmp.resolve("notes.png"), "this is not an image");
        assertMessage(text, "not a decodable image");
        Path good = TestModels.rgbPng(tmp, "good.png", 64, 64, 1);
        byte[] bytes = Files.readAllBytes(good);
        Path truncated = Files.write(tmp.resolve("cut.png"), Arrays.copyOf(bytes, bytes.length / 2));
        assertMessage(truncated, "truncated");
        assertMessage(tmp, "not a readable file");
    }

    private static void assertMessage(Path p, String part) {
        ImageException e = assertThrows(ImageException.class, () -> ImageDecoder.decode(p));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void clipPreprocessingResizesShortestEdgeAndCentreCrops() {
        ClipImageProcessor proc = new ClipImageProcessor(PreprocessorConfig.clip(56));
        // 112x56 source: scale 0.5 -> 56x28? no: shortest edge 56 -> 112x56 stays, crop 56 centred horizontally
        RgbImage src = ImageDecoder.decode(TestModels.grayPng(tmp, "wide.png", 112, 56));
        PixelValues pv = proc.preprocess(src);
        assertEquals(56, pv.height());
        assertEquals(56, pv.width());
        assertEquals(28.0, pv.offsetX(), 0.0);
        assertEquals(1.0, pv.scale(), 0.0);
        // pixel (0,0) of the crop is source (28, 0): value 28 -> normalised with CLIP mean/std
        float want = (28 / 255f - PreprocessorConfig.CLIP_MEAN[0]) / PreprocessorConfig.CLIP_STD[0];
        assertEquals(want, pv.chw()[0], 1e-5);
        double[] box = pv.toSource(0, 0, 56, 56);
        assertEquals(28.0, box[0], 1e-9);
        assertEquals(84.0, box[2], 1e-9);
    }
}
