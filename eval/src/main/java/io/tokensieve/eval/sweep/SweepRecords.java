package io.tokensieve.eval.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tokensieve.eval.EvalException;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSONL record file of a sweep. A run killed mid-write leaves at most one incomplete last line;
 * {@link #readAndRepair} drops it (truncating the file) so appending resumes on a clean line boundary.
 */
public final class SweepRecords {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SweepRecords() {}

    /** Complete records in file order; an incomplete trailing line is removed from the file. */
    public static List<JsonNode> readAndRepair(Path file) {
        List<JsonNode> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        try {
            byte[] bytes = Files.readAllBytes(file);
            int start = 0;
            long goodEnd = 0;
            for (int i = 0; i < bytes.length; i++) {
                if (bytes[i] == '\n') {
                    String line = new String(bytes, start, i - start, StandardCharsets.UTF_8).strip();
                    if (!line.isEmpty()) {
                        try {
                            out.add(JSON.readTree(line));
                        } catch (IOException e) {
                            throw new EvalException(file + ": line " + (out.size() + 1) + " is not valid JSON; the "
                                    + "record file is damaged beyond a cut-off last line");
                        }
                    }
                    start = i + 1;
                    goodEnd = i + 1;
                }
            }
            if (goodEnd < bytes.length) {
                // the last line has no newline: the run was killed while writing it
                String tail = new String(bytes, (int) goodEnd, bytes.length - (int) goodEnd, StandardCharsets.UTF_8).strip();
                boolean complete = false;
                if (!tail.isEmpty()) {
                    try {
                        out.add(JSON.readTree(tail));
                        complete = true;
                    } catch (IOException e) {
                        complete = false;
                    }
                }
                try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                    if (complete) {
                        raf.seek(bytes.length);
                        raf.write('\n');
                    } else {
                        raf.setLength(goodEnd);
                    }
                }
            }
            return out;
        } catch (IOException e) {
            throw new EvalException(file + ": cannot read records (" + e.getMessage() + ")");
        }
    }
}
