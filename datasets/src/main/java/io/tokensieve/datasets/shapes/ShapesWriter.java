package io.tokensieve.datasets.shapes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a ShapesBench track to disk in its real benchmark's format, using exactly the in-memory generator
 * ({@link ShapesBench}). Output depends only on the options: rerunning gives byte-identical files.
 *
 * <pre>{@code
 * ShapesWriter.write(new ShapesWriter.Options(Track.VQA, 200, 11, Path.of("/tmp/a"), null, 3, 2));
 * }</pre>
 */
public final class ShapesWriter {
    /** Most examples per run (keeps VQAv2 question ids in int range). */
    public static final int MAX_N = 1_000_000;

    /**
     * @param track which track
     * @param n number of examples (questions, probes per POPE file, samples or episodes)
     * @param seed generator seed (train 1000+, test 11, 12, ...)
     * @param out output folder (created when missing)
     * @param split split name in file names; null for the track's default (vqa val2014, seg val, 3d val)
     * @param views rendered views per 3D scene
     * @param shots demos per in-context episode
     */
    public record Options(Track track, int n, long seed, Path out, String split, int views, int shots) {
        public Options {
            if (track == null) {
                throw new IllegalArgumentException("--track is required");
            }
            if (n <= 0 || n > MAX_N) {
                throw new IllegalArgumentException("--n must be 1.." + MAX_N + ", got " + n);
            }
            if (out == null) {
                throw new IllegalArgumentException("--out is required");
            }
            if (views < 1 || views > ShapesBench.MAX_VIEWS) {
                throw new IllegalArgumentException("--views must be 1.." + ShapesBench.MAX_VIEWS + ", got " + views);
            }
            if (shots < 1 || shots > ShapesBench.MAX_SHOTS) {
                throw new IllegalArgumentException("--shots must be 1.." + ShapesBench.MAX_SHOTS + ", got " + shots);
            }
            if (split != null && !split.matches("[A-Za-z0-9_]+")) {
                throw new IllegalArgumentException("--split must be letters, digits or '_', got '" + split + "'");
            }
        }

        String splitOr(String fallback) {
            return split == null ? fallback : split;
        }
    }

    /** What a run wrote. */
    public record Summary(Track track, int examples, int images, Path out) {}

    private ShapesWriter() {}

    public static Summary write(Options o) {
        prepare(o.out());
        return switch (o.track()) {
            case VQA -> VqaWriter.write(o);
            case POPE -> PopeWriter.write(o);
            case SEG -> SegWriter.write(o);
            case ICL -> IclWriter.write(o);
            case THREE_D -> ScanQaWriter.write(o);
        };
    }

    /** Creates the folder and proves it is writable before any work starts. */
    private static void prepare(Path out) {
        try {
            if (Files.exists(out) && !Files.isDirectory(out)) {
                throw new IllegalArgumentException("--out " + out + " is a file, not a folder");
            }
            Files.createDirectories(out);
            Path probe = Files.createTempFile(out, ".write-check", ".tmp");
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            throw new IllegalArgumentException("--out " + out + " is not writable (" + reason(e) + ")");
        }
    }

    private static String reason(Exception e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.FileSystemException fs && fs.getReason() != null) {
            return fs.getReason();
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
