package io.tokensieve.core.image;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.bytedeco.opencv.opencv_core.Mat;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;

import static org.bytedeco.opencv.global.opencv_core.CV_16U;
import static org.bytedeco.opencv.global.opencv_core.CV_32F;
import static org.bytedeco.opencv.global.opencv_core.CV_8U;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_UNCHANGED;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imdecode;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGR2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGRA2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_GRAY2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;

/**
 * Decodes image files with OpenCV (javacv) into {@link RgbImage}: gray, RGB, RGBA (alpha dropped, as
 * PIL's {@code convert("RGB")}), 8- and 16-bit. Every failure is an {@link ImageException} naming the file.
 */
public final class ImageDecoder {
    /** Largest accepted side, in pixels. */
    public static final int MAX_SIDE = 16384;
    /** Largest accepted area, in pixels. */
    public static final long MAX_PIXELS = 64L * 1024 * 1024;
    /** Largest accepted file, in bytes. */
    public static final long MAX_FILE_BYTES = 256L * 1024 * 1024;

    private ImageDecoder() {}

    public static RgbImage decode(Path file) {
        if (!Files.exists(file)) {
            throw new ImageException(file + ": file not found");
        }
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ImageException(file + ": not a readable file");
        }
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size == 0) {
                throw new ImageException(file + ": empty file");
            }
            if (size > MAX_FILE_BYTES) {
                throw new ImageException(file + ": file is too large (" + size + " bytes, limit " + MAX_FILE_BYTES + ")");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ImageException(file + ": cannot read (" + e.getMessage() + ")");
        }
        return decode(bytes, file.toString());
    }

    /** Decodes encoded bytes (PNG, JPEG, BMP, ...); {@code name} appears in error messages. */
    public static RgbImage decode(byte[] bytes, String name) {
        if (bytes.length == 0) {
            throw new ImageException(name + ": empty image data");
        }
        checkHeaderSize(bytes, name);
        if (isTruncatedPng(bytes)) {
            throw new ImageException(name + ": truncated PNG (no IEND chunk)");
        }
        Mat mat;
        try (BytePointer ptr = new BytePointer(bytes); Mat raw = new Mat(1, bytes.length, CV_8U, ptr)) {
            mat = imdecode(raw, IMREAD_UNCHANGED);
        }
        if (mat == null || mat.empty()) {
            throw new ImageException(name + ": not a decodable image");
        }
        try (mat) {
            int w = mat.cols();
            int h = mat.rows();
            if (w > MAX_SIDE || h > MAX_SIDE || (long) w * h > MAX_PIXELS) {
                throw new ImageException(name + ": image is too large (" + w + "x" + h + ")");
            }
            return toRgb(mat, name);
        }
    }

    private static RgbImage toRgb(Mat mat, String name) {
        int ch = mat.channels();
        int depth = mat.depth();
        double scale;
        if (depth == CV_8U) {
            scale = 1.0;
        } else if (depth == CV_16U) {
            scale = 255.0 / 65535.0;
        } else if (depth == CV_32F) {
            scale = 255.0;
        } else {
            throw new ImageException(name + ": unsupported pixel depth (OpenCV depth " + depth + ")");
        }
        try (Mat rgb = new Mat(); Mat f = new Mat()) {
            switch (ch) {
                case 1 -> cvtColor(mat, rgb, COLOR_GRAY2RGB);
                case 3 -> cvtColor(mat, rgb, COLOR_BGR2RGB);
                case 4 -> cvtColor(mat, rgb, COLOR_BGRA2RGB);
                default -> throw new ImageException(name + ": unsupported channel count " + ch);
            }
            rgb.convertTo(f, CV_32F, scale, 0);
            int w = f.cols();
            int h = f.rows();
            float[] data = new float[w * h * 3];
            try (FloatIndexer idx = f.createIndexer()) {
                idx.get(0, data);
            }
            return new RgbImage(w, h, data);
        }
    }

    /** Rejects absurd dimensions from the header before decoding, where Java can read the header. */
    private static void checkHeaderSize(byte[] bytes, String name) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            if (in == null) {
                return;
            }
            Iterator<ImageReader> it = ImageIO.getImageReaders(in);
            if (!it.hasNext()) {
                return;
            }
            ImageReader r = it.next();
            try {
                r.setInput(in, true, true);
                long w = r.getWidth(0);
                long h = r.getHeight(0);
                if (w > MAX_SIDE || h > MAX_SIDE || w * h > MAX_PIXELS) {
                    throw new ImageException(name + ": image is too large (" + w + "x" + h + ")");
                }
            } finally {
                r.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof ImageException ie) {
                throw ie;
            }
            // header unreadable by Java: let OpenCV decide
        }
    }

    private static boolean isTruncatedPng(byte[] b) {
        boolean png = b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G';
        if (!png) {
            return false;
        }
        // a complete PNG ends with the IEND chunk: "IEND" + 4-byte CRC
        return b.length < 12 || !(b[b.length - 8] == 'I' && b[b.length - 7] == 'E' && b[b.length - 6] == 'N'
                && b[b.length - 5] == 'D');
    }
}
