package io.tokensieve.datasets.io;

import io.tokensieve.datasets.DatasetException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TsvTest {
    @Test
    void readsQuotedFieldsAcrossLines(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("a.tsv");
        Files.writeString(f, "index\tquestion\thint\n0\t\"two\nlines\"\t\"say \"\"hi\"\"\ttab\"\n1\tplain\tnan\n");
        try (Tsv t = Tsv.open(f)) {
            Tsv.Row r = t.next();
            assertEquals("two\nlines", r.get("question"));
            assertEquals("say \"hi\"\ttab", r.get("hint"));
            Tsv.Row r2 = t.next();
            assertEquals(4, r2.line());
            assertEquals(null, r2.opt("hint"));
            assertFalse(t.hasNext());
        }
    }

    @Test
    void wrongFieldCountNamesTheLine(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("b.tsv");
        Files.writeString(f, "a\tb\n1\t2\n3\n");
        try (Tsv t = Tsv.open(f)) {
            t.next();
            DatasetException e = assertThrows(DatasetException.class, t::hasNext);
            assertTrue(e.getMessage().equals(f + ": line 3: 1 fields, the header has 2"), e.getMessage());
        }
    }
}
