package io.tokensieve.eval.scorers;

import io.tokensieve.datasets.Sample;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** In-memory samples for scorer tests. */
final class Samples {
    private Samples() {}

    static Sample of(String format, String id, List<String> refs, Map<String, Object> extra) {
        return new Sample(id, format, List.of(Path.of(id + ".jpg")), "q", "<image>\nq", refs, extra);
    }

    static Sample of(String format, String id, List<String> refs) {
        return of(format, id, refs, Map.of());
    }
}
