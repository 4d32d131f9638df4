package io.tokensieve.eval.sweep;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** What produced a record: code version, model weights, process memory. */
public final class Versions {
    private Versions() {}

    /** The code commit the launcher recorded ({@code -Dsieve.commit}), or "unknown". */
    public static String codeVersion() {
        return System.getProperty("sieve.commit", "unknown");
    }

    /** SHA-256 (first 16 hex digits) of the model's weight files, in name order. */
    public static String modelHash(Path modelDir) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            try (var s = Files.list(modelDir)) {
                for (Path p : s.filter(f -> f.getFileName().toString().endsWith(".safetensors")).sorted().toList()) {
                    try (InputStream in = Files.newInputStream(p)) {
                        int n;
                        while ((n = in.read(buf)) > 0) {
                            md.update(buf, 0, n);
                        }
                    }
                }
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (IOException | NoSuchAlgorithmException e) {
            return "unknown";
        }
    }

    /** {current RSS, peak RSS} of this process in bytes from /proc, or {-1, -1} where unavailable. */
    public static long[] memory() {
        long rss = -1;
        long peak = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = kb(line);
                } else if (line.startsWith("VmHWM:")) {
                    peak = kb(line);
                }
            }
        } catch (IOException | RuntimeException e) {
            return new long[] {-1, -1};
        }
        return new long[] {rss, peak};
    }

    private static long kb(String line) {
        String[] parts = line.split("\\s+");
        return Long.parseLong(parts[1]) * 1024;
    }
}
