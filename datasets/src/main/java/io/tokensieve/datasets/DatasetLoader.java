package io.tokensieve.datasets;

import java.nio.file.Path;
import java.util.List;

/**
 * Reads one benchmark format from a local folder (or file) into {@link Sample}s. Implementations are
 * stateless providers registered with {@link java.util.ServiceLoader}; {@link Datasets} finds them by id.
 *
 * <p>The returned iterable streams: each iteration re-reads the record file lazily, while indexes that
 * must be joined to it (answers, annotations) are read once per {@code open} call and kept. Iterators
 * implement {@link AutoCloseable}; a caller that stops early should close them to release the file.
 *
 * <pre>{@code
 * Dataset d = Datasets.defaultRegistry().open("vqav2:/data/vqav2", LoadOptions.strict());
 * for (Sample s : d) { ... }
 * }</pre>
 */
public interface DatasetLoader {
    /** Format id used in dataset specs ({@code vqav2}, {@code pope}, ...). */
    String id();

    /** One line: the expected file layout. */
    String layout();

    /** Parameters this loader accepts in a spec ({@code format:PATH?key=value&...}). */
    List<String> parameters();

    /** Opens {@code root} with validated {@code params}; fails fast on missing files. */
    Iterable<Sample> open(Path root, LoaderParams params, LoadOptions options);
}
