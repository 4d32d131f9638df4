package io.tokensieve.datasets.io;

import io.tokensieve.datasets.DatasetException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Locating benchmark files in a folder, with errors that say what was looked for and where. */
public final class DataFiles {
    private DataFiles() {}

    /** Regular files in {@code dir} whose name matches the glob, sorted by name. */
    public static List<Path> glob(Path dir, String glob) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, glob)) {
            for (Path p : ds) {
                if (Files.isRegularFile(p)) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            throw new DatasetException(dir + ": cannot list (" + e.getMessage() + ")");
        }
        out.sort(null);
        return out;
    }

    /**
     * The one file in {@code dir} matching {@code glob} and, if {@code narrow} is given, whose name contains it.
     * {@code what} describes the file in errors.
     */
    public static Path single(Path dir, String glob, String narrow, String what) {
        List<Path> all = glob(dir, glob);
        List<Path> hits = all;
        if (narrow != null) {
            hits = all.stream().filter(p -> p.getFileName().toString().contains(narrow)).toList();
        }
        if (hits.isEmpty()) {
            throw new DatasetException(dir + ": no " + what + " (" + glob + ")"
                    + (all.isEmpty() ? "" : " containing '" + narrow + "' among " + names(all)));
        }
        if (hits.size() > 1) {
            throw new DatasetException(dir + ": several " + what + " files " + names(hits)
                    + "; choose one with the split parameter (e.g. ?split=val)");
        }
        return hits.get(0);
    }

    /** Sub-folders of {@code dir}, sorted by name. */
    public static List<Path> subfolders(Path dir) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, p -> Files.isDirectory(p))) {
            ds.forEach(out::add);
        } catch (IOException e) {
            throw new DatasetException(dir + ": cannot list (" + e.getMessage() + ")");
        }
        out.sort(null);
        return out;
    }

    /**
     * The first of {@code candidates} that exists; when none does, the first one if {@code check} is false
     * (the caller only needs the expected path), else an error from {@code rec} listing what was tried.
     */
    public static Path firstExisting(List<Path> candidates, boolean check, Rec rec) {
        for (Path p : candidates) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        if (!check) {
            return candidates.get(0);
        }
        List<String> tried = candidates.stream().map(Path::toString).toList();
        String msg = "image not found (tried " + String.join(", ", tried) + ")";
        throw rec == null ? new DatasetException(msg) : rec.error(msg);
    }

    private static String names(List<Path> files) {
        return files.stream().map(p -> p.getFileName().toString()).toList().toString();
    }
}
