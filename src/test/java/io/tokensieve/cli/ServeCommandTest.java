package io.tokensieve.cli;

import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sieve serve}: flags are checked before anything binds, with one-line errors. */
class ServeCommandTest {
    private static void fails(String fragment, String... args) {
        Cli.Result r = Cli.run(args);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(fragment), "expected '" + fragment + "' in: " + r.err());
        assertEquals(1, r.err().strip().lines().filter(l -> l.contains("error")).count(), r.err());
    }

    @Test
    void badFlagsFailWithOneLine() {
        String model = TestModels.tinyCheckpoint().toString();
        fails("max concurrency must be at least 1", "serve", "--model", model, "--max-concurrency", "0");
        fails("queue must be at least 0", "serve", "--model", model, "--queue", "-1");
        fails("--timeout-s must be a positive number", "serve", "--model", model, "--timeout-s", "0");
        fails("--max-body-mb must be positive", "serve", "--model", model, "--max-body-mb", "-3");
        fails("port must be 0..65535", "serve", "--model", model, "--port", "70000");
        fails("model folder not found", "serve", "--model", "/nonexistent/model", "--port", "0");
    }

    @Test
    void helpListsTheEndpoints() {
        Cli.Result r = Cli.run("serve", "--help");
        assertEquals(0, r.code());
        for (String s : new String[] {"/v1/chat/completions", "/v1/prune", "/metrics", "--max-concurrency", "--queue",
            "--timeout-s", "--max-body-mb", "--allow-local-files", "--host"}) {
            assertTrue(r.out().contains(s), s + " missing in:\n" + r.out());
        }
    }
}
