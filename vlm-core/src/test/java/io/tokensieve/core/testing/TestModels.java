package io.tokensieve.core.testing;

import ai.djl.Device;
import io.tokensieve.core.runtime.RandomCheckpoint;
import io.tokensieve.core.runtime.VlmModel;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Shared fixtures for tests of every module: tiny random checkpoints written once per JVM, and real
 * image files in the formats users bring (RGB, gray, RGBA, 16-bit).
 */
public final class TestModels {
    private static Path tinyDir;
    private static Path extrasDir;
    private static VlmModel tiny;
    private static VlmModel extras;

    private TestModels() {}

    /** A tiny random checkpoint (seed 7) in a temp folder, written once per JVM. */
    public static synchronized Path tinyCheckpoint() {
        if (tinyDir == null) {
            tinyDir = write("tiny", 7, false);
        }
        return tinyDir;
    }

    /** A tiny random checkpoint with the [SEG] mask head and the 3D position embedding. */
    public static synchronized Path extrasCheckpoint() {
        if (extrasDir == null) {
            extrasDir = write("tiny-extras", 8, true);
        }
        return extrasDir;
    }

    /** The tiny checkpoint loaded once per JVM on CPU (shared, never closed by tests). */
    public static synchronized VlmModel tiny() {
        if (tiny == null) {
            tiny = VlmModel.load(tinyCheckpoint(), Device.cpu());
        }
        return tiny;
    }

    public static synchronized VlmModel extras() {
        if (extras == null) {
            extras = VlmModel.load(extrasCheckpoint(), Device.cpu());
        }
        return extras;
    }

    private static Path write(String name, long seed, boolean withExtras) {
        try {
            Path d = io.tokensieve.core.util.FileTrees.deleteOnExit(Files.createTempDirectory("sieve-" + name));
            RandomCheckpoint.write(d, seed, withExtras);
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An RGB PNG with a gradient, noise and a few blocks, different per seed. */
    public static Path rgbPng(Path dir, String name, int w, int h, long seed) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(seed);
        int bx = r.nextInt(Math.max(1, w / 2));
        int by = r.nextInt(Math.max(1, h / 2));
        int bc = r.nextInt(0xffffff);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = ((x * 255 / w) << 16) | ((y * 255 / h) << 8) | r.nextInt(256);
                if (x >= bx && x < bx + w / 3 && y >= by && y < by + h / 3) {
                    rgb = bc;
                }
                img.setRGB(x, y, rgb);
            }
        }
        return save(img, dir, name);
    }

    public static Path grayPng(Path dir, String name, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster ras = img.getRaster();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                ras.setSample(x, y, 0, (x + y) % 256);
            }
        }
        return save(img, dir, name);
    }

    public static Path rgbaPng(Path dir, String name, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, ((x % 256) << 24) | (200 << 16) | ((y % 256) << 8) | 30);
            }
        }
        return save(img, dir, name);
    }

    /** A 16-bit grayscale PNG. */
    public static Path gray16Png(Path dir, String name, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_USHORT_GRAY);
        WritableRaster ras = img.getRaster();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                ras.setSample(x, y, 0, (x * 65535) / Math.max(1, w - 1));
            }
        }
        return save(img, dir, name);
    }

    private static Path save(BufferedImage img, Path dir, String name) {
        try {
            Files.createDirectories(dir);
            Path p = dir.resolve(name);
            ImageIO.write(img, "png", p.toFile());
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
