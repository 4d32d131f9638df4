package io.tokensieve.datasets.shapes;

import io.tokensieve.core.image.RgbImage;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A deterministic PNG encoder: only IHDR, one IDAT and IEND (no time, gamma or text chunks), a fixed per-row
 * filter choice (smallest sum of absolute filtered bytes, ties to the lower filter type) and one fixed deflate
 * setting, so the same pixels always give the same bytes.
 */
public final class Png {
    private static final byte[] SIGNATURE = {(byte) 137, 80, 78, 71, 13, 10, 26, 10};
    private static final int LEVEL = 6;

    private Png() {}

    /** 8-bit RGB; values are rounded and clamped to 0..255. */
    public static byte[] rgb8(RgbImage img) {
        int w = img.width();
        int h = img.height();
        byte[] raw = new byte[w * h * 3];
        float[] d = img.data();
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) Math.max(0, Math.min(255, Math.round(d[i])));
        }
        return encode(raw, w, h, 2, 8, 3);
    }

    /** 16-bit greyscale (big-endian samples), e.g. depth in millimetres; values must be 0..65535. */
    public static byte[] gray16(int[] values, int w, int h) {
        byte[] raw = new byte[w * h * 2];
        for (int i = 0; i < values.length; i++) {
            int v = values[i];
            if (v < 0 || v > 65535) {
                throw new IllegalArgumentException("16-bit sample out of range: " + v);
            }
            raw[i * 2] = (byte) (v >>> 8);
            raw[i * 2 + 1] = (byte) v;
        }
        return encode(raw, w, h, 0, 16, 2);
    }

    private static byte[] encode(byte[] raw, int w, int h, int colourType, int bitDepth, int bytesPerPixel) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length / 2 + 1024);
        out.writeBytes(SIGNATURE);
        byte[] ihdr = new byte[13];
        putInt(ihdr, 0, w);
        putInt(ihdr, 4, h);
        ihdr[8] = (byte) bitDepth;
        ihdr[9] = (byte) colourType;
        chunk(out, "IHDR", ihdr);
        chunk(out, "IDAT", deflate(filter(raw, w * bytesPerPixel, h, bytesPerPixel)));
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    /** Prefixes each row with the filter type (0..4) whose output has the smallest sum of |signed bytes|. */
    private static byte[] filter(byte[] raw, int stride, int h, int bpp) {
        byte[] out = new byte[(stride + 1) * h];
        byte[] cand = new byte[stride];
        byte[] best = new byte[stride];
        for (int y = 0; y < h; y++) {
            long bestScore = Long.MAX_VALUE;
            int bestType = 0;
            for (int type = 0; type <= 4; type++) {
                long score = 0;
                for (int x = 0; x < stride; x++) {
                    int cur = raw[y * stride + x] & 0xFF;
                    int a = x >= bpp ? raw[y * stride + x - bpp] & 0xFF : 0;
                    int b = y > 0 ? raw[(y - 1) * stride + x] & 0xFF : 0;
                    int c = x >= bpp && y > 0 ? raw[(y - 1) * stride + x - bpp] & 0xFF : 0;
                    int pred = switch (type) {
                        case 0 -> 0;
                        case 1 -> a;
                        case 2 -> b;
                        case 3 -> (a + b) >>> 1;
                        default -> paeth(a, b, c);
                    };
                    byte f = (byte) (cur - pred);
                    cand[x] = f;
                    score += Math.abs((int) f);
                }
                if (score < bestScore) {
                    bestScore = score;
                    bestType = type;
                    System.arraycopy(cand, 0, best, 0, stride);
                }
            }
            out[y * (stride + 1)] = (byte) bestType;
            System.arraycopy(best, 0, out, y * (stride + 1) + 1, stride);
        }
        return out;
    }

    private static int paeth(int a, int b, int c) {
        int p = a + b - c;
        int pa = Math.abs(p - a);
        int pb = Math.abs(p - b);
        int pc = Math.abs(p - c);
        if (pa <= pb && pa <= pc) {
            return a;
        }
        return pb <= pc ? b : c;
    }

    private static byte[] deflate(byte[] data) {
        Deflater d = new Deflater(LEVEL);
        try {
            d.setInput(data);
            d.finish();
            ByteArrayOutputStream out = new ByteArrayOutputStream(data.length / 2 + 64);
            byte[] buf = new byte[16384];
            while (!d.finished()) {
                int n = d.deflate(buf);
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } finally {
            d.end();
        }
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] len = new byte[4];
        putInt(len, 0, data.length);
        out.writeBytes(len);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        byte[] c = new byte[4];
        putInt(c, 0, (int) crc.getValue());
        out.writeBytes(c);
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }
}
