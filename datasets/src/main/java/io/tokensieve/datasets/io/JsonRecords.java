package io.tokensieve.datasets.io;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tokensieve.datasets.DatasetException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Streaming readers for the three JSON shapes benchmark files use: a list (top level or under one field of
 * the top-level object), the entries of a top-level object, and JSON lines. Records are materialised one
 * at a time, so a file of any size is read once in constant memory. Syntax errors are fatal (the stream
 * cannot resynchronise) and name the file, line and column; JSON lines are parsed per line, so a bad line
 * is a record-level error.
 */
public final class JsonRecords {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private JsonRecords() {}

    /** Reads a whole (small) JSON file. */
    public static JsonNode readTree(Path file) {
        try {
            return MAPPER.readTree(file.toFile());
        } catch (JsonParseException e) {
            throw syntax(file, e);
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** Parses one JSON text (a line of a JSONL file); {@code where} names it in errors. */
    public static JsonNode parse(String text, String where) {
        try {
            return MAPPER.readTree(text);
        } catch (JsonParseException e) {
            throw new DatasetException(where + ": invalid JSON (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new DatasetException(where + ": invalid JSON (" + e.getMessage() + ")");
        }
    }

    /**
     * Streams the elements of the list under top-level key {@code field}, or of the top-level list when
     * {@code field} is null. Scalar top-level fields met before the list are collected in {@code scalars}
     * (may be null).
     */
    public static CloseableIterator<Rec> listElements(Path file, String field, Map<String, String> scalars) {
        JsonParser p = open(file);
        try {
            JsonToken t = p.nextToken();
            if (field == null) {
                if (t != JsonToken.START_ARRAY) {
                    throw new DatasetException(file + ": expected a JSON list at the top level");
                }
            } else {
                if (t != JsonToken.START_OBJECT) {
                    throw new DatasetException(file + ": expected a JSON object with a '" + field + "' list");
                }
                seekField(p, file, field, scalars);
                if (p.nextToken() != JsonToken.START_ARRAY) {
                    throw new DatasetException(file + ": '" + field + "' must be a list");
                }
            }
        } catch (IOException e) {
            close(p);
            throw ioError(file, e);
        } catch (RuntimeException e) {
            close(p);
            throw e;
        }
        return new ParserIterator(p, file, false);
    }

    /** Streams the entries of the top-level object; each record is labelled with its key ({@link Rec#label}). */
    public static CloseableIterator<Rec> objectEntries(Path file) {
        JsonParser p = open(file);
        try {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                close(p);
                throw new DatasetException(file + ": expected a JSON object at the top level");
            }
        } catch (IOException e) {
            close(p);
            throw ioError(file, e);
        }
        return new ParserIterator(p, file, true);
    }

    /** Scalar top-level fields of an object file, skipping lists and objects without building them. */
    public static Map<String, String> topLevelScalars(Path file) {
        Map<String, String> out = new HashMap<>();
        try (JsonParser p = open(file)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return out;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (v.isScalarValue()) {
                    out.put(name, p.getValueAsString());
                } else {
                    p.skipChildren();
                }
            }
            return out;
        } catch (IOException e) {
            throw ioError(file, e);
        }
    }

    /**
     * One pass over a top-level object, handing every element of the lists named in {@code handlers} to
     * its handler (labelled {@code <list>[i]}); other fields are skipped without being built.
     */
    public static void forEachInLists(Path file, Map<String, java.util.function.Consumer<Rec>> handlers) {
        try (JsonParser p = open(file)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new DatasetException(file + ": expected a JSON object at the top level");
            }
            java.util.Set<String> seen = new java.util.HashSet<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                var h = handlers.get(name);
                if (h == null || v != JsonToken.START_ARRAY) {
                    p.skipChildren();
                    continue;
                }
                seen.add(name);
                int i = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    h.accept(new Rec(p.readValueAsTree(), file, name + "[" + i++ + "]"));
                }
            }
            for (String k : handlers.keySet()) {
                if (!seen.contains(k)) {
                    throw new DatasetException(file + ": missing list '" + k + "'");
                }
            }
        } catch (IOException e) {
            throw ioError(file, e);
        }
    }

    /** Streams a JSON-lines file: each record holds one parsed line; blank lines are skipped. */
    public static CloseableIterator<Line> lines(Path file) {
        BufferedReader r;
        try {
            r = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read (" + e.getMessage() + ")");
        }
        return new LineIterator(r, file);
    }

    /** One raw line of a text file with its 1-based number. */
    public record Line(Path file, int number, String text) {
        public String where() {
            return file + ": line " + number;
        }

        /** Parses the line as a JSON record. */
        public Rec json() {
            return new Rec(parse(text, where()), file, "line " + number);
        }
    }

    private static void seekField(JsonParser p, Path file, String field, Map<String, String> scalars) throws IOException {
        while (true) {
            JsonToken t = p.nextToken();
            if (t != JsonToken.FIELD_NAME) {
                throw new DatasetException(file + ": missing key '" + field + "'");
            }
            String name = p.currentName();
            if (name.equals(field)) {
                return;
            }
            JsonToken v = p.nextToken();
            if (v.isScalarValue()) {
                if (scalars != null) {
                    scalars.put(name, p.getValueAsString());
                }
            } else {
                p.skipChildren();
            }
        }
    }

    private static JsonParser open(Path file) {
        try {
            return MAPPER.getFactory().createParser(file.toFile());
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    private static void close(JsonParser p) {
        try {
            p.close();
        } catch (IOException e) {
            // nothing to release beyond the handle
        }
    }

    static DatasetException syntax(Path file, JsonParseException e) {
        var loc = e.getLocation();
        return new DatasetException(file + ": invalid JSON at line " + loc.getLineNr() + ", column "
                + loc.getColumnNr() + " (" + e.getOriginalMessage() + ")");
    }

    static DatasetException ioError(Path file, IOException e) {
        if (e instanceof JsonParseException jp) {
            return syntax(file, jp);
        }
        return new DatasetException(file + ": cannot read (" + e.getMessage() + ")");
    }

    private static final class ParserIterator implements CloseableIterator<Rec> {
        private final JsonParser p;
        private final Path file;
        private final boolean entries;
        private Rec next;
        private boolean done;
        private int index;

        ParserIterator(JsonParser p, Path file, boolean entries) {
            this.p = p;
            this.file = file;
            this.entries = entries;
        }

        @Override
        public boolean hasNext() {
            if (next != null) {
                return true;
            }
            if (done) {
                return false;
            }
            try {
                JsonToken t = p.nextToken();
                if (t == null || t == JsonToken.END_ARRAY || t == JsonToken.END_OBJECT) {
                    close();
                    return false;
                }
                String label;
                if (entries) {
                    label = "entry '" + p.currentName() + "'";
                    p.nextToken();
                } else {
                    label = "record " + index;
                }
                JsonNode node = p.readValueAsTree();
                next = new Rec(node, file, label);
                if (entries) {
                    next = new KeyedRec(node, file, label, p.currentName());
                }
                index++;
                return true;
            } catch (IOException e) {
                close();
                throw ioError(file, e);
            }
        }

        @Override
        public Rec next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Rec r = next;
            next = null;
            return r;
        }

        @Override
        public void close() {
            done = true;
            JsonRecords.close(p);
        }
    }

    /** An entry of a top-level object: its key is the record's id. */
    public static final class KeyedRec extends Rec {
        private final String key;

        KeyedRec(JsonNode node, Path file, String label, String key) {
            super(node, file, label);
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    private static final class LineIterator implements CloseableIterator<Line> {
        private final BufferedReader r;
        private final Path file;
        private Line next;
        private int number;
        private boolean done;

        LineIterator(BufferedReader r, Path file) {
            this.r = r;
            this.file = file;
        }

        @Override
        public boolean hasNext() {
            while (next == null && !done) {
                try {
                    String s = r.readLine();
                    if (s == null) {
                        close();
                        return false;
                    }
                    number++;
                    if (!s.isBlank()) {
                        next = new Line(file, number, s);
                    }
                } catch (IOException e) {
                    close();
                    throw new UncheckedIOException(file + ": cannot read", e);
                }
            }
            return next != null;
        }

        @Override
        public Line next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Line l = next;
            next = null;
            return l;
        }

        @Override
        public void close() {
            done = true;
            try {
                r.close();
            } catch (IOException e) {
                // nothing to release beyond the handle
            }
        }
    }
}
