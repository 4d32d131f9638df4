package io.tokensieve.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small helpers for reading HF-style JSON config files with defaults. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    /** Reads a JSON object from a file, with errors that name the file. */
    public static JsonNode read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(file + ": file not found");
        }
        try {
            JsonNode node = MAPPER.readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new ConfigException(file + ": expected a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new ConfigException(file + ": invalid JSON (" + firstLine(e.getMessage()) + ")");
        }
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    static int intOr(JsonNode n, String key, int def) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return def;
        }
        if (!v.isNumber()) {
            throw new ConfigException("config key '" + key + "' must be a number, got " + v);
        }
        return v.asInt();
    }

    static double doubleOr(JsonNode n, String key, double def) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return def;
        }
        if (!v.isNumber()) {
            throw new ConfigException("config key '" + key + "' must be a number, got " + v);
        }
        return v.asDouble();
    }

    static String textOr(JsonNode n, String key, String def) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() ? def : v.asText();
    }

    static boolean boolOr(JsonNode n, String key, boolean def) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() ? def : v.asBoolean();
    }

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }
}
