package io.tokensieve.eval.text;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContractionsTest {
    @Test
    void bothTablesHoldTheSame120Keys() {
        assertEquals(120, Contractions.ASCII.size());
        assertEquals(120, Contractions.OFFICIAL.size());
    }

    @Test
    void officialTableUsesTheTypographicApostropheWithItsExceptions() {
        assertEquals("don\u2019t", Contractions.OFFICIAL.get("dont"));
        assertEquals("don't", Contractions.ASCII.get("dont"));
        for (String k : new String[] {"aint", "arent", "cant", "couldve", "couldnt", "weve", "wheres", "whove"}) {
            assertTrue(Contractions.OFFICIAL.get(k).contains("'"), k);
        }
        assertEquals("couldn\u2019t\u2019ve", Contractions.OFFICIAL.get("couldn'tve"));
        assertEquals("couldn\u2019t\u2019ve", Contractions.OFFICIAL.get("couldnt\u2019ve"));
        assertEquals("somebodyd", Contractions.ASCII.get("somebody'd"));
        assertEquals("\u2019twas", Contractions.OFFICIAL.get("twas"));
    }
}
