package io.tokensieve.core.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Deleting folder trees: scratch folders of training, benchmarks and tests. */
public final class FileTrees {
    private FileTrees() {}

    /** Deletes {@code p} and everything under it; nothing happens when it does not exist. */
    public static void delete(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }

    /**
     * Deletes {@code p} and everything under it when the JVM exits ({@link java.io.File#deleteOnExit} removes only
     * empty folders). Best effort: a tree that cannot be deleted then is left in place.
     */
    public static Path deleteOnExit(Path p) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                delete(p);
            } catch (IOException | RuntimeException e) {
                // the JVM is exiting; a leftover scratch folder is harmless
            }
        }, "delete " + p.getFileName()));
        return p;
    }
}
