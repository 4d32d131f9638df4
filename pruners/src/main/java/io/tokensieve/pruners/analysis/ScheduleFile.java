package io.tokensieve.pruners.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.tokensieve.core.config.ConfigException;
import io.tokensieve.core.config.Json;
import io.tokensieve.core.prune.PruneException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The schedule files {@code sieve analyze} writes and the pruners read with {@code schedule=FILE}: a JSON
 * object with {@code method}, {@code layers} (decoder layers of the analysed model) and the method's
 * schedule, plus the analysis behind it. AdaptInfer: {@code stage_layers}, 0-indexed decoder layers whose
 * output is pruned. AdaToken-3D: {@code boundaries} (stage starts, hooks {@code BEFORE_LAYER(b)}) and
 * {@code ratios} (share of the spatial tokens kept from each boundary on).
 */
public final class ScheduleFile {
    private static final ObjectMapper WRITER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ScheduleFile() {}

    /** AdaptInfer's inflection layers. */
    public record AdaptInfer(int layers, int[] stageLayers) {}

    /** AdaToken-3D's boundaries and keep ratios. */
    public record AdaToken(int layers, int[] boundaries, double[] ratios) {}

    public static void write(Path file, Map<String, Object> content) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            WRITER.writeValue(file.toFile(), content);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write the schedule", e);
        }
    }

    public static AdaptInfer readAdaptInfer(Path file) {
        JsonNode n = read(file, "adaptinfer");
        int layers = layers(file, n);
        int[] stages = ints(file, n, "stage_layers");
        for (int i = 0; i < stages.length; i++) {
            if (stages[i] < 0 || stages[i] >= layers - 1 || (i > 0 && stages[i] <= stages[i - 1])) {
                throw bad(file, "stage_layers must be ascending layers in 0.." + (layers - 2) + " (the output of the last"
                        + " layer cannot be pruned)");
            }
        }
        return new AdaptInfer(layers, stages);
    }

    public static AdaToken readAdaToken(Path file) {
        JsonNode n = read(file, "adatoken3d");
        int layers = layers(file, n);
        int[] b = ints(file, n, "boundaries");
        JsonNode r = n.get("ratios");
        if (r == null || !r.isArray() || r.size() != b.length) {
            throw bad(file, "ratios must be an array with one ratio per boundary");
        }
        double[] ratios = new double[r.size()];
        for (int i = 0; i < ratios.length; i++) {
            ratios[i] = r.get(i).asDouble(Double.NaN);
            if (!(ratios[i] > 0 && ratios[i] <= 1) || (i > 0 && ratios[i] > ratios[i - 1])) {
                throw bad(file, "ratios must be non-increasing numbers in (0, 1]");
            }
        }
        for (int i = 0; i < b.length; i++) {
            if (b[i] < 0 || b[i] >= layers || (i > 0 && b[i] <= b[i - 1])) {
                throw bad(file, "boundaries must be ascending layers in 0.." + (layers - 1));
            }
        }
        return new AdaToken(layers, b, ratios);
    }

    private static JsonNode read(Path file, String method) {
        JsonNode n;
        try {
            n = Json.read(file);
        } catch (ConfigException e) {
            throw new PruneException("schedule " + e.getMessage());
        }
        String m = n.path("method").asText("");
        if (!m.equals(method)) {
            throw bad(file, "it is a schedule for '" + m + "', not " + method + " (write one with sieve analyze --method "
                    + method + ")");
        }
        return n;
    }

    private static int layers(Path file, JsonNode n) {
        JsonNode l = n.get("layers");
        if (l == null || !l.canConvertToInt() || l.asInt() < 1) {
            throw bad(file, "layers must be the analysed model's number of decoder layers");
        }
        return l.asInt();
    }

    private static int[] ints(Path file, JsonNode n, String key) {
        JsonNode a = n.get(key);
        if (a == null || !a.isArray() || a.isEmpty()) {
            throw bad(file, key + " must be a non-empty array of layers");
        }
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            if (!a.get(i).canConvertToInt()) {
                throw bad(file, key + " must hold whole numbers, got " + a.get(i));
            }
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    private static PruneException bad(Path file, String what) {
        return new PruneException("schedule " + file + ": " + what);
    }
}
