package io.tokensieve.datasets;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The registry of dataset loaders by format id. Opening a spec with an unknown format fails and lists the
 * known ones.
 */
public final class Datasets {
    private final Map<String, DatasetLoader> loaders = new TreeMap<>();

    public Datasets(Iterable<DatasetLoader> providers) {
        for (DatasetLoader l : providers) {
            if (loaders.put(l.id(), l) != null) {
                throw new IllegalStateException("two dataset loaders share the id '" + l.id() + "'");
            }
        }
    }

    /** Every loader found by {@link ServiceLoader} on the class path. */
    public static Datasets defaultRegistry() {
        return new Datasets(ServiceLoader.load(DatasetLoader.class, Datasets.class.getClassLoader()));
    }

    public List<DatasetLoader> loaders() {
        return Collections.unmodifiableList(new ArrayList<>(loaders.values()));
    }

    public DatasetLoader loader(String format) {
        DatasetLoader l = loaders.get(format);
        if (l == null) {
            throw new DatasetException("unknown dataset format '" + format + "' (known: "
                    + String.join(", ", loaders.keySet()) + ")");
        }
        return l;
    }

    /** Opens {@code FORMAT:PATH[?key=value&...]}. */
    public Dataset open(String spec, LoadOptions options) {
        return open(DatasetSpec.parse(spec), options);
    }

    public Dataset open(DatasetSpec spec, LoadOptions options) {
        DatasetLoader l = loader(spec.format());
        if (!Files.exists(spec.root())) {
            throw new DatasetException(spec.root() + ": not found (dataset " + spec.format() + ")");
        }
        LoaderParams params = new LoaderParams(spec.format(), spec.params(), l.parameters());
        return new Dataset(spec, l.open(spec.root(), params, options));
    }
}
