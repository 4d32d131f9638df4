package io.tokensieve.datasets.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tokensieve.datasets.DatasetException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigInteger;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PickleReaderTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(PickleReaderTest.class.getResource("/pickle/" + name).toURI());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 2, 4})
    void readsWhatPythonWrote(int protocol) throws Exception {
        Object data = PickleReader.read(resource("refs_protocol" + protocol + ".p"));
        String expected = JSON.writeValueAsString(JSON.readTree(Files.readString(resource("refs_expected.json"))));
        assertEquals(expected, JSON.writeValueAsString(data));
        Map<?, ?> ref = (Map<?, ?>) ((List<?>) data).get(0);
        assertEquals(new BigInteger("12345678901234567890"), ref.get("big"));
        assertEquals(BigInteger.TWO.pow(70).negate(), ref.get("huge_neg"));
        assertEquals(-70000L, ref.get("neg_int"));
        assertEquals(Boolean.TRUE, ref.get("flag"));
        assertEquals(List.of(1L), ref.get("t1"));
        // the memo makes both list entries the same object, as in Python
        List<?> sentences = (List<?>) ref.get("sentences");
        assertSame(sentences.get(0), sentences.get(1));
    }

    @Test
    void readsPython2ByteStringsAndTextOpcodes() {
        // protocol 0 as Python 2 writes it: S'..' strings, I01 booleans, L..L longs, F floats
        String p0 = "(lp0\n(dp1\nS'sent'\np2\nS'it\\'s \\xc3\\xa9'\np3\nsS'ok'\np4\nI01\nsS'big'\np5\n"
                + "L12345678901234567890L\nsS'x'\np6\nF1.5\nsS'same'\np7\ng3\nsa.";
        Object o = PickleReader.read(p0.getBytes(StandardCharsets.ISO_8859_1), "p0");
        Map<?, ?> d = (Map<?, ?>) ((List<?>) o).get(0);
        assertEquals("it's é", d.get("sent"));
        assertEquals(Boolean.TRUE, d.get("ok"));
        assertEquals(new BigInteger("12345678901234567890"), d.get("big"));
        assertEquals(1.5, d.get("x"));
        assertEquals("it's é", d.get("same"));
        // protocol 2 as Python 2 writes it: SHORT_BINSTRING 'U', BINSTRING 'T', BININT1/2, NEWTRUE
        byte[] p2 = {(byte) 0x80, 2, ']', 'q', 0, '(', '}', 'q', 1, 'U', 4, 's', 'e', 'n', 't', 'q', 2, 'T', 3, 0, 0, 0,
            'b', 'o', 'x', 's', 'U', 1, 'n', 'M', (byte) 0xe8, 3, 's', 'U', 1, 'k', 'K', 7, 's', 'e', '.'};
        Map<?, ?> d2 = (Map<?, ?>) ((List<?>) PickleReader.read(p2, "p2")).get(0);
        assertEquals("box", d2.get("sent"));
        assertEquals(1000L, d2.get("n"));
        assertEquals(7L, d2.get("k"));
    }

    @Test
    void refusesObjectConstruction() throws Exception {
        DatasetException e = assertThrows(DatasetException.class, () -> PickleReader.read(resource("complex_protocol2.p")));
        assertTrue(e.getMessage().contains("opcode 0x63 ('c') is not allowed: only plain data"), e.getMessage());
    }

    @Test
    void truncatedFileIsNamed() {
        byte[] bad = {(byte) 0x80, 2, ']', 'q', 0, 'X', 10, 0, 0, 0, 'a'};
        DatasetException e = assertThrows(DatasetException.class, () -> PickleReader.read(bad, "refs(unc).p"));
        assertTrue(e.getMessage().startsWith("refs(unc).p: pickle byte 5: length 10 runs past the end"), e.getMessage());
        DatasetException noStop = assertThrows(DatasetException.class,
                () -> PickleReader.read(new byte[] {(byte) 0x80, 2, ']'}, "x.p"));
        assertTrue(noStop.getMessage().contains("unexpected end of file"), noStop.getMessage());
    }
}
