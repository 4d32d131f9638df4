package io.tokensieve.datasets.scene;

import io.tokensieve.core.image.PixelValues;
import io.tokensieve.datasets.Fixtures;
import io.tokensieve.datasets.Sample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class SceneGeometryTest {
    /** A 16x12 colour image, not resized, centre-cropped to 12x12 (2 px cut on each side). */
    private static final PixelValues CROP = new PixelValues(new float[3 * 12 * 12], 12, 12, 16, 12, 1.0, 2, 0);

    @Test
    void backProjectsPatchCentres() {
        Path scene = Fixtures.path("scan3d/posed_images/scene0011_00");
        double[] k = Matrices.read4x4(scene.resolve("intrinsic.txt"));
        double[] pose = Matrices.read4x4(scene.resolve("20.txt"));
        double[] align = Matrices.read4x4(scene.resolve("axis_align.txt"));
        float[][] xyz = SceneGeometry.patchXyz(scene.resolve("20.png"), k, pose, align, CROP, 3);
        assertEquals(9, xyz.length);
        // patch (0, 0): crop centre (2, 2) -> source pixel (4, 2) -> depth pixel (2, 1) of the 8x6 map: 1500 + 200 mm
        // camera ((4 - 8) * 1.7 / 10, (2 - 6) * 1.7 / 10, 1.7); pose shifts x by 1, the alignment by 0.5
        assertArrayEquals(new float[] {-0.68f + 1.5f, -0.68f, 1.7f}, xyz[0], 1e-5f);
        // patch (2, 1): crop centre (6, 10) -> source (8, 10) -> depth (4, 5): 1900 mm
        assertArrayEquals(new float[] {1.5f, (10 - 6) * 1.9f / 10, 1.9f}, xyz[7], 1e-5f);
    }

    @Test
    void missingDepthFallsBackToThePatchMean(@TempDir Path tmp) throws Exception {
        BufferedImage d = new BufferedImage(4, 4, BufferedImage.TYPE_USHORT_GRAY);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                d.getRaster().setSample(x, y, 0, x < 2 && y < 2 ? (x == 1 && y == 1 ? 0 : 3000) : 1000);
            }
        }
        Path png = tmp.resolve("d.png");
        ImageIO.write(d, "png", png.toFile());
        double[] identity = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
        double[] k = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
        PixelValues crop = new PixelValues(new float[3 * 4 * 4], 4, 4, 4, 4, 1.0, 0, 0);
        float[][] xyz = SceneGeometry.patchXyz(png, k, identity, null, crop, 2);
        // patch (0, 0) centre is pixel (1, 1), whose depth is missing: the other three pixels of the patch say 3 m
        assertEquals(3.0f, xyz[0][2], 1e-6f);
        assertEquals(1.0f, xyz[3][2], 1e-6f);
    }

    @Test
    void readsTheGeometryALoaderRecorded() {
        Sample s = Fixtures.load("scanqa:" + Fixtures.path("scan3d") + "?views=2").get(0);
        float[][] xyz = SceneGeometry.patchXyz(s, 1, CROP, 3);
        // view 1 is frame 40, whose pose shifts x by 2
        assertEquals(-0.68f + 2.5f, xyz[0][0], 1e-5f);
    }
}
