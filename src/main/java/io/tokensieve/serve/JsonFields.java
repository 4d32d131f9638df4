package io.tokensieve.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

/**
 * Typed reads of request fields that fail with a 400 naming the field by its path ({@code images[1].grid}) and
 * saying what was expected.
 */
final class JsonFields {
    private JsonFields() {}

    /** The outcome of reading a float matrix: row-major values and the shape. */
    record Matrix(float[] values, int rows, int cols) {}

    static String typeOf(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "nothing";
        }
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    static ApiException wrongType(String path, String expected, JsonNode got) {
        return ApiException.invalid("invalid_type", path + " must be " + expected + ", got " + typeOf(got));
    }

    static ApiException missing(String path) {
        return ApiException.invalid("missing_field", "missing required field " + path);
    }

    static ObjectNode object(JsonNode n, String path) {
        if (n == null || !n.isObject()) {
            throw wrongType(path, "an object", n);
        }
        return (ObjectNode) n;
    }

    /** The field, or null when absent or JSON null. */
    static JsonNode opt(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        return n == null || n.isNull() ? null : n;
    }

    static JsonNode required(ObjectNode o, String field, String path) {
        JsonNode n = opt(o, field);
        if (n == null) {
            throw missing(path);
        }
        return n;
    }

    static String string(JsonNode n, String path) {
        if (!n.isTextual()) {
            throw wrongType(path, "a string", n);
        }
        return n.asText();
    }

    static String optString(ObjectNode o, String field, String path) {
        JsonNode n = opt(o, field);
        return n == null ? null : string(n, path);
    }

    /** An optional integer in [min, max]. */
    static Long optLong(ObjectNode o, String field, String path, long min, long max) {
        JsonNode n = opt(o, field);
        if (n == null) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw wrongType(path, "an integer", n);
        }
        long v = n.asLong();
        if (v < min || v > max) {
            throw ApiException.invalid("invalid_value", path + " must be in " + min + ".." + max + ", got " + v);
        }
        return v;
    }

    /** An optional finite number in [min, max] (or (min, max] when {@code openMin}). */
    static Double optDouble(ObjectNode o, String field, String path, double min, double max, boolean openMin) {
        JsonNode n = opt(o, field);
        if (n == null) {
            return null;
        }
        if (!n.isNumber()) {
            throw wrongType(path, "a number", n);
        }
        double v = n.asDouble();
        if (!Double.isFinite(v) || v > max || (openMin ? v <= min : v < min)) {
            throw ApiException.invalid("invalid_value", path + " must be in " + (openMin ? "(" : "[") + min + ", " + max
                    + "], got " + n.asText());
        }
        return v;
    }

    static boolean optBool(ObjectNode o, String field, String path) {
        JsonNode n = opt(o, field);
        if (n == null) {
            return false;
        }
        if (!n.isBoolean()) {
            throw wrongType(path, "true or false", n);
        }
        return n.asBoolean();
    }

    private static float finite(JsonNode n, String path) {
        if (!n.isNumber()) {
            throw wrongType(path, "a number", n);
        }
        double v = n.asDouble();
        if (Double.isNaN(v)) {
            throw ApiException.invalid("invalid_value", path + " is NaN");
        }
        if (Double.isInfinite(v) || Math.abs(v) > Float.MAX_VALUE) {
            throw ApiException.invalid("invalid_value", path + " is not a finite float32 (" + n.asText() + ")");
        }
        return (float) v;
    }

    /** A vector of finite numbers. */
    static float[] vector(JsonNode n, String path) {
        if (!n.isArray()) {
            throw wrongType(path, "an array of numbers", n);
        }
        float[] out = new float[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = finite(n.get(i), path + "[" + i + "]");
        }
        return out;
    }

    /**
     * A float32 matrix, either as JSON rows {@code [[...], ...]} or as {@code {"data": base64 little-endian
     * float32, "shape": [rows, cols]}}; values must be finite.
     */
    static Matrix matrix(JsonNode n, String path, long maxValues) {
        if (n.isArray()) {
            int rows = n.size();
            if (rows == 0) {
                throw ApiException.invalid("invalid_embeddings", path + " is empty (expected [N, D] rows)");
            }
            JsonNode first = n.get(0);
            if (!first.isArray()) {
                throw wrongType(path + "[0]", "an array of numbers (a row)", first);
            }
            int cols = first.size();
            if (cols == 0) {
                throw ApiException.invalid("invalid_embeddings", path + "[0] is an empty row");
            }
            if ((long) rows * cols > maxValues) {
                throw ApiException.invalid("invalid_embeddings", path + " has " + (long) rows * cols
                        + " values, limit " + maxValues);
            }
            float[] v = new float[rows * cols];
            for (int r = 0; r < rows; r++) {
                JsonNode row = n.get(r);
                if (!row.isArray()) {
                    throw wrongType(path + "[" + r + "]", "an array of numbers (a row)", row);
                }
                if (row.size() != cols) {
                    throw ApiException.invalid("invalid_embeddings", path + "[" + r + "] has " + row.size()
                            + " values but row 0 has " + cols);
                }
                for (int c = 0; c < cols; c++) {
                    v[r * cols + c] = finite(row.get(c), path + "[" + r + "][" + c + "]");
                }
            }
            return new Matrix(v, rows, cols);
        }
        if (n.isObject()) {
            ObjectNode o = (ObjectNode) n;
            String data = string(required(o, "data", path + ".data"), path + ".data");
            JsonNode shape = required(o, "shape", path + ".shape");
            if (!shape.isArray() || shape.size() != 2 || !shape.get(0).isIntegralNumber()
                    || !shape.get(1).isIntegralNumber()) {
                throw ApiException.invalid("invalid_embeddings", path + ".shape must be [rows, cols], got " + shape);
            }
            long rows = shape.get(0).asLong();
            long cols = shape.get(1).asLong();
            if (rows < 1 || cols < 1) {
                throw ApiException.invalid("invalid_embeddings", path + ".shape must be positive, got " + shape);
            }
            if (rows * cols > maxValues) {
                throw ApiException.invalid("invalid_embeddings", path + " has " + rows * cols + " values, limit "
                        + maxValues);
            }
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(data);
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid("invalid_embeddings", path + ".data is not valid base64 (" + e.getMessage() + ")");
            }
            if (bytes.length != rows * cols * 4) {
                throw ApiException.invalid("invalid_embeddings", path + ".data holds " + bytes.length + " bytes but shape "
                        + shape + " needs " + rows * cols * 4 + " (float32, little-endian)");
            }
            float[] v = new float[(int) (rows * cols)];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) {
                    throw ApiException.invalid("invalid_value", path + " value " + i + " (row " + i / cols + ") is "
                            + (Float.isNaN(v[i]) ? "NaN" : "infinite"));
                }
            }
            return new Matrix(v, (int) rows, (int) cols);
        }
        throw wrongType(path, "[[...], ...] rows or {\"data\": base64, \"shape\": [rows, cols]}", n);
    }
}
