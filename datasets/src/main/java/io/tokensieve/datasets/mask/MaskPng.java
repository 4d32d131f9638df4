package io.tokensieve.datasets.mask;

import io.tokensieve.datasets.DatasetException;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Mask PNG files: written as 8-bit gray (label values as they are), read back with any non-zero pixel as 1. */
public final class MaskPng {
    private MaskPng() {}

    public static void write(LabelMask m, Path file) {
        write(m, file, 1);
    }

    /** As {@link #write}, but every non-zero label as 255, so that the mask shows in an image viewer. */
    public static void writeVisible(LabelMask m, Path file) {
        write(m, file, 255);
    }

    private static void write(LabelMask m, Path file, int foreground) {
        BufferedImage img = new BufferedImage(m.width(), m.height(), BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster r = img.getRaster();
        for (int y = 0; y < m.height(); y++) {
            for (int x = 0; x < m.width(); x++) {
                int v = m.get(x, y);
                r.setSample(x, y, 0, foreground == 1 || v == 0 ? v : foreground);
            }
        }
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            if (!ImageIO.write(img, "png", file.toFile())) {
                throw new DatasetException(file + ": no PNG writer available");
            }
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot write mask (" + e.getMessage() + ")");
        }
    }

    /** Reads a predicted mask: pixels non-zero in any channel are foreground (1). */
    public static LabelMask readBinary(Path file) {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read mask (" + e.getMessage() + ")");
        }
        if (img == null) {
            throw new DatasetException(file + ": not a readable PNG mask");
        }
        Raster r = img.getRaster();
        int w = img.getWidth();
        int h = img.getHeight();
        int bands = r.getNumBands();
        // an alpha band says nothing about the mask
        int colour = img.getColorModel().hasAlpha() ? bands - 1 : bands;
        byte[] out = new byte[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int b = 0; b < colour; b++) {
                    if (r.getSample(x, y, b) != 0) {
                        out[y * w + x] = 1;
                        break;
                    }
                }
            }
        }
        return new LabelMask(w, h, out);
    }
}
