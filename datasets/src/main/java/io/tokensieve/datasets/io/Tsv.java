package io.tokensieve.datasets.io;

import io.tokensieve.datasets.DatasetException;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Streams a tab-separated file with a header row, as pandas writes it: fields holding a tab, newline or
 * double quote are enclosed in double quotes, with embedded quotes doubled. Each row is a map from column
 * name to text; a row with more or fewer fields than the header is an error naming its line.
 */
public final class Tsv implements CloseableIterator<Tsv.Row> {
    private final BufferedReader in;
    private final Path file;
    private final List<String> header;
    private int line;
    private int rowIndex;
    private Row next;
    private boolean done;

    /** One data row: its first line number, its 0-based index among data rows, and its fields. */
    public record Row(Path file, int line, int index, Map<String, String> fields) {
        public String where() {
            return file + ": row " + index + " (line " + line + ")";
        }

        public DatasetException error(String what) {
            return new DatasetException(where() + ": " + what);
        }

        /** A required column that must be non-empty. */
        public String get(String column) {
            String v = fields.get(column);
            if (v == null || v.isEmpty()) {
                throw error("empty or missing '" + column + "'");
            }
            return v;
        }

        /** An optional column; empty and pandas' "nan" read as absent (null). */
        public String opt(String column) {
            String v = fields.get(column);
            return v == null || v.isEmpty() || v.equals("nan") || v.equals("NaN") ? null : v;
        }
    }

    private Tsv(BufferedReader in, Path file) {
        this.in = in;
        this.file = file;
        List<String> h = readRecord();
        if (h == null) {
            close();
            throw new DatasetException(file + ": empty file (no header row)");
        }
        this.header = h;
    }

    public static Tsv open(Path file) {
        try {
            return new Tsv(Files.newBufferedReader(file, StandardCharsets.UTF_8), file);
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    public List<String> header() {
        return header;
    }

    @Override
    public boolean hasNext() {
        if (next != null) {
            return true;
        }
        if (done) {
            return false;
        }
        int start = line + 1;
        List<String> f = readRecord();
        if (f == null) {
            close();
            return false;
        }
        if (f.size() != header.size()) {
            throw new DatasetException(file + ": line " + start + ": " + f.size() + " fields, the header has "
                    + header.size());
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < f.size(); i++) {
            m.put(header.get(i), f.get(i));
        }
        next = new Row(file, start, rowIndex++, m);
        return true;
    }

    @Override
    public Row next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Row r = next;
        next = null;
        return r;
    }

    /** Reads one logical record (quoted fields may span lines); null at end of file. */
    private List<String> readRecord() {
        try {
            String s = in.readLine();
            while (s != null && s.isEmpty()) {
                line++;
                s = in.readLine();
            }
            if (s == null) {
                return null;
            }
            line++;
            List<String> fields = new ArrayList<>();
            StringBuilder cur = new StringBuilder();
            boolean quoted = false;
            boolean fieldStart = true;
            int i = 0;
            while (true) {
                if (i >= s.length()) {
                    if (quoted) {
                        String more = in.readLine();
                        if (more == null) {
                            throw new DatasetException(file + ": line " + line + ": unterminated quoted field");
                        }
                        line++;
                        cur.append('\n');
                        s = more;
                        i = 0;
                        continue;
                    }
                    fields.add(cur.toString());
                    return fields;
                }
                char c = s.charAt(i);
                if (quoted) {
                    if (c == '"') {
                        if (i + 1 < s.length() && s.charAt(i + 1) == '"') {
                            cur.append('"');
                            i += 2;
                            continue;
                        }
                        quoted = false;
                    } else {
                        cur.append(c);
                    }
                } else if (c == '\t') {
                    fields.add(cur.toString());
                    cur.setLength(0);
                    fieldStart = true;
                    i++;
                    continue;
                } else if (c == '"' && fieldStart) {
                    quoted = true;
                } else {
                    cur.append(c);
                }
                fieldStart = false;
                i++;
            }
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    @Override
    public void close() {
        done = true;
        try {
            in.close();
        } catch (IOException e) {
            // read-only handle
        }
    }
}
