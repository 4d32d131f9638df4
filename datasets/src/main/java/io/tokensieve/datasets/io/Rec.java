package io.tokensieve.datasets.io;

import com.fasterxml.jackson.databind.JsonNode;
import io.tokensieve.datasets.DatasetException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One JSON record of a benchmark file with typed, strict field access: every failure is a
 * {@link DatasetException} naming the file and the record ({@code file: record 12 (question_id 5): ...}).
 */
public class Rec {
    private final JsonNode node;
    private final Path file;
    private final String label;

    public Rec(JsonNode node, Path file, String label) {
        this.node = node;
        this.file = file;
        this.label = label;
    }

    public JsonNode node() {
        return node;
    }

    public Path file() {
        return file;
    }

    public String label() {
        return label;
    }

    /** The same record, described more precisely once its id is known. */
    public Rec named(String idKey, Object id) {
        return new Rec(node, file, label + " (" + idKey + " " + id + ")");
    }

    public DatasetException error(String what) {
        return new DatasetException(file + ": " + label + ": " + what);
    }

    public void requireObject() {
        if (node == null || !node.isObject()) {
            throw error("expected a JSON object, got " + kind(node));
        }
    }

    public boolean has(String key) {
        return node.has(key) && !node.get(key).isNull();
    }

    public JsonNode get(String key) {
        requireObject();
        JsonNode v = node.get(key);
        if (v == null) {
            throw error("missing key '" + key + "'");
        }
        return v;
    }

    public String str(String key) {
        JsonNode v = get(key);
        if (!v.isTextual()) {
            throw error("'" + key + "' must be a string, got " + kind(v));
        }
        return v.asText();
    }

    public String optStr(String key, String def) {
        return has(key) ? str(key) : def;
    }

    /** A string or an integer, as text (ids are numbers in some files and strings in others). */
    public String id(String key) {
        JsonNode v = get(key);
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isIntegralNumber()) {
            return v.bigIntegerValue().toString();
        }
        throw error("'" + key + "' must be a string or an integer, got " + kind(v));
    }

    public long integer(String key) {
        JsonNode v = get(key);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw error("'" + key + "' must be an integer, got " + kind(v));
        }
        return v.asLong();
    }

    public boolean bool(String key) {
        JsonNode v = get(key);
        if (!v.isBoolean()) {
            throw error("'" + key + "' must be true or false, got " + kind(v));
        }
        return v.asBoolean();
    }

    public JsonNode array(String key) {
        JsonNode v = get(key);
        if (!v.isArray()) {
            throw error("'" + key + "' must be a list, got " + kind(v));
        }
        return v;
    }

    public List<String> strings(String key) {
        JsonNode a = array(key);
        List<String> out = new ArrayList<>(a.size());
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).isTextual()) {
                throw error("'" + key + "'[" + i + "] must be a string, got " + kind(a.get(i)));
            }
            out.add(a.get(i).asText());
        }
        return out;
    }

    /** A nested object as its own record, for field access with the same error context. */
    public Rec child(String key) {
        Rec r = new Rec(get(key), file, label + " ." + key);
        r.requireObject();
        return r;
    }

    /** Element {@code i} of a list field as its own record. */
    public Rec element(String key, int i) {
        JsonNode a = array(key);
        return new Rec(a.get(i), file, label + " ." + key + "[" + i + "]");
    }

    public static String kind(JsonNode v) {
        if (v == null || v.isNull()) {
            return "null";
        }
        if (v.isTextual()) {
            return "a string";
        }
        if (v.isNumber()) {
            return "a number (" + v.asText() + ")";
        }
        if (v.isBoolean()) {
            return "a boolean";
        }
        if (v.isArray()) {
            return "a list";
        }
        return "an object";
    }
}
