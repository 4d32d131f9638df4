package io.tokensieve.datasets.scene;

import io.tokensieve.datasets.DatasetException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** 4x4 matrices in the text files of scene folders, row-major. */
public final class Matrices {
    private Matrices() {}

    /**
     * Reads 16 numbers separated by whitespace, or a ScanNet meta file's {@code axisAlignment = ...} line.
     * Non-finite entries (ScanNet marks frames without tracking with -inf poses) are an error.
     */
    public static double[] read4x4(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read (" + e.getMessage() + ")");
        }
        for (String line : text.split("\n")) {
            if (line.strip().startsWith("axisAlignment")) {
                text = line.substring(line.indexOf('=') + 1);
                break;
            }
        }
        List<Double> v = new ArrayList<>();
        for (String tok : text.strip().split("\\s+")) {
            if (tok.isEmpty()) {
                continue;
            }
            try {
                v.add(Double.parseDouble(tok));
            } catch (NumberFormatException e) {
                throw new DatasetException(file + ": '" + tok + "' is not a number");
            }
        }
        if (v.size() != 16) {
            throw new DatasetException(file + ": expected a 4x4 matrix (16 numbers), got " + v.size());
        }
        double[] m = new double[16];
        for (int i = 0; i < 16; i++) {
            m[i] = v.get(i);
            if (!Double.isFinite(m[i])) {
                throw new DatasetException(file + ": non-finite entry " + m[i] + " (invalid pose)");
            }
        }
        return m;
    }

    /** {@code m * [x, y, z, 1]}, dehomogenised. */
    public static double[] apply(double[] m, double x, double y, double z) {
        double[] out = new double[3];
        double w = m[12] * x + m[13] * y + m[14] * z + m[15];
        for (int r = 0; r < 3; r++) {
            out[r] = (m[4 * r] * x + m[4 * r + 1] * y + m[4 * r + 2] * z + m[4 * r + 3]) / w;
        }
        return out;
    }
}
