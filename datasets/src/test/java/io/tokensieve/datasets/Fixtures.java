package io.tokensieve.datasets;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The hand-made benchmark fixtures under test resources ({@code fixtures/<name>}), as real folders. */
public final class Fixtures {
    private Fixtures() {}

    private static final java.util.Map<String, Path> EXTRACTED = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The fixture as a folder: the resource folder itself, or, when the fixtures come from a packaged
     * test-jar (other modules' tests under {@code mvn verify}), a copy extracted once per JVM.
     */
    public static Path path(String name) {
        URL url = Fixtures.class.getResource("/fixtures/" + name);
        if (url == null) {
            throw new IllegalStateException("fixture " + name + " not on the test class path");
        }
        try {
            if (!"jar".equals(url.getProtocol())) {
                return Path.of(url.toURI());
            }
            return EXTRACTED.computeIfAbsent(name, n -> extract(url, n));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path extract(URL url, String name) {
        try {
            String s = url.toString();
            Path jar = Path.of(java.net.URI.create(s.substring("jar:".length(), s.indexOf("!/"))));
            Path out = io.tokensieve.core.util.FileTrees.deleteOnExit(Files.createTempDirectory("fixture-"));
            try (java.nio.file.FileSystem fs = java.nio.file.FileSystems.newFileSystem(jar)) {
                Path src = fs.getPath("/fixtures/" + name);
                try (Stream<Path> walk = Files.walk(src)) {
                    for (Path p : walk.toList()) {
                        Path t = out.resolve(name).resolve(src.relativize(p).toString());
                        if (Files.isDirectory(p)) {
                            Files.createDirectories(t);
                        } else {
                            Files.createDirectories(t.getParent());
                            Files.copy(p, t);
                        }
                    }
                }
            }
            return out.resolve(name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A writable copy of a fixture, for tests that corrupt it. */
    public static Path copy(String name, Path into) {
        Path src = path(name);
        Path dst = into.resolve(name);
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : s.toList()) {
                Path t = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dst;
    }

    /** Every sample of a spec, strictly. */
    public static List<Sample> load(String spec) {
        List<Sample> out = new ArrayList<>();
        Datasets.defaultRegistry().open(spec, LoadOptions.strict()).forEach(out::add);
        return out;
    }

    /** Every sample of a spec, skipping bad records into {@code skipped}. */
    public static List<Sample> loadSkipping(String spec, List<DatasetException> skipped) {
        List<Sample> out = new ArrayList<>();
        Datasets.defaultRegistry().open(spec, LoadOptions.skipping(skipped::add)).forEach(out::add);
        return out;
    }
}
