package io.tokensieve.serve;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The server's limits with real requests: 429 with Retry-After beyond the queue, 504 past the timeout (running
 * and queued), graceful shutdown that finishes an in-flight request, and no native memory growth over hundreds
 * of requests.
 */
class ServeLimitsTest {
    private static VlmModel model;
    private static String image;
    private static final int SLOW_TOKENS = 100;
    /** A chat body whose model run takes a while: many greedy tokens without an early end of sequence. */
    private static String slow;

    @BeforeAll
    static void prepare(@TempDir Path tmp) {
        model = TestModels.tiny();
        image = Http.dataUrl(TestModels.rgbPng(tmp, "scene.png", 80, 64, 5));
        // greedy decoding of the seeded tiny model runs all SLOW_TOKENS on this question (checked below)
        slow = Http.chat("describe the scene", null, SLOW_TOKENS, image);
    }

    private static ServeConfig base() {
        return ServeConfig.defaults().withPort(0).withTimeout(Duration.ofSeconds(60));
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(2);
        }
    }

    private static int inFlight(Http http) {
        return Http.json(http.get("/health")).get("in_flight").asInt();
    }

    private static CompletableFuture<HttpResponse<String>> postAsync(SieveServer s, String body) {
        HttpRequest r = HttpRequest.newBuilder(s.uri().resolve(SieveServer.CHAT)).POST(HttpRequest.BodyPublishers
                .ofString(body)).build();
        return HttpClient.newHttpClient().sendAsync(r, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void beyondTheQueueRequestsGet429WithRetryAfter() throws Exception {
        try (SieveServer s = SieveServer.start(model, base().withMaxConcurrency(1).withQueue(0))) {
            Http http = new Http(s.uri());
            CompletableFuture<HttpResponse<String>> first = postAsync(s, slow);
            await(() -> inFlight(http) == 1, "the first request to run");
            HttpResponse<String> second = http.post(SieveServer.CHAT, Http.chat("hi", null, 1, image));
            assertEquals(429, second.statusCode(), second.body());
            assertEquals("1", second.headers().firstValue("Retry-After").orElse(null));
            JsonNode err = Http.json(second).get("error");
            assertEquals("rate_limit_error", err.get("type").asText());
            assertTrue(err.get("message").asText().contains("1 request(s) running"), err.toString());
            HttpResponse<String> firstDone = first.get(60, TimeUnit.SECONDS);
            assertEquals(200, firstDone.statusCode(), firstDone.body());
            assertEquals(SLOW_TOKENS, Http.json(firstDone).get("usage").get("completion_tokens").asInt(),
                    "the slow request must not stop early");
            assertEquals(200, http.post(SieveServer.CHAT, Http.chat("hi", null, 1, image)).statusCode());
        }
    }

    @Test
    void requestsPastTheTimeoutGet504WhetherRunningOrQueued() throws Exception {
        // long enough for the first request to reach its slot, far shorter than its SLOW_TOKENS decode
        Duration limit = Duration.ofMillis(200);
        try (SieveServer s = SieveServer.start(model, base().withMaxConcurrency(1).withQueue(1).withTimeout(limit))) {
            Http http = new Http(s.uri());
            CompletableFuture<HttpResponse<String>> running = postAsync(s, slow);
            await(() -> inFlight(http) == 1 || running.isDone(), "the first request to run");
            if (running.isDone()) {
                // a stalled machine let the deadline pass before the request reached its slot: it must not run,
                // and says so
                HttpResponse<String> never = running.get();
                assertEquals(504, never.statusCode(), never.body());
                assertTrue(Http.json(never).get("error").get("message").asText().contains("still waiting for a slot"),
                        never.body());
                assertEquals(0, inFlight(http));
                return;
            }
            HttpResponse<String> queued = http.post(SieveServer.CHAT, Http.chat("hi", null, 1, image));
            HttpResponse<String> first = running.get(60, TimeUnit.SECONDS);
            assertEquals(504, first.statusCode(), first.body());
            assertEquals("timeout_error", Http.json(first).get("error").get("type").asText());
            assertTrue(Http.json(first).get("error").get("message").asText().contains("finishes in the background"));
            assertEquals(504, queued.statusCode(), queued.body());
            assertTrue(Http.json(queued).get("error").get("message").asText().contains("still waiting for a slot"),
                    queued.body());
            await(() -> inFlight(http) == 0, "the background run to finish");
            assertEquals(0, Http.json(http.get("/health")).get("queued").asInt());
        }
    }

    @Test
    void gracefulShutdownFinishesTheInFlightRequestAndRefusesNewOnes() throws Exception {
        SieveServer s = SieveServer.start(model, base());
        Http http = new Http(s.uri());
        CompletableFuture<HttpResponse<String>> inFlight = postAsync(s, slow);
        await(() -> inFlight(http) == 1 || inFlight.isDone(), "the request to run");
        // what close() sees as it returns: no timing assumption (a fast machine may finish the request before close
        // even starts; then the drain is trivially empty, never a false failure)
        CompletableFuture<Integer> closing = CompletableFuture.supplyAsync(() -> {
            s.close();
            return s.activeRequests();
        });
        await(() -> s.isDraining() || closing.isDone(), "the shutdown to begin");
        try {
            HttpResponse<String> late = HttpClient.newHttpClient().send(HttpRequest.newBuilder(s.uri().resolve("/health"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, late.statusCode(), "a request after shutdown began must not be served: " + late.body());
        } catch (IOException refused) {
            // the listener is closed: connection refused
        }
        HttpResponse<String> done = inFlight.get(60, TimeUnit.SECONDS);
        assertEquals(200, done.statusCode(), done.body());
        assertEquals(SLOW_TOKENS, Http.json(done).get("usage").get("completion_tokens").asInt());
        assertEquals(0, closing.get(60, TimeUnit.SECONDS), "close returned while a request was still running");
        s.awaitStopped();
        assertEquals(0, s.activeRequests());
    }

    private static long rssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("no VmRSS in /proc/self/status");
    }

    private static int liveArrays() {
        try (NDManager probe = NDManager.newBaseManager()) {
            return probe.getParentManager().getManagedArrays().size();
        }
    }

    private static String pruneBody(int i) {
        StringBuilder rows = new StringBuilder("[");
        java.util.Random r = new java.util.Random(i);
        for (int t = 0; t < 36; t++) {
            rows.append(t == 0 ? "[" : ",[");
            for (int c = 0; c < 16; c++) {
                rows.append(c == 0 ? "" : ",").append((float) r.nextGaussian());
            }
            rows.append(']');
        }
        rows.append(']');
        String spec = i % 2 == 0 ? "divprune:keep=0.25" : "pool:keep=9";
        return "{\"pruner\":\"" + spec + "\",\"images\":[{\"embeddings\":" + rows + ",\"grid\":[6,6]}]}";
    }

    private static void traffic(Http http, int n) {
        for (int i = 0; i < n; i++) {
            int status = switch (i % 6) {
                case 0 -> http.post(SieveServer.CHAT, Http.chat("what is this ?", null, 2, image)).statusCode();
                case 3 -> http.post(SieveServer.CHAT, Http.chat("what is this ?", "zoo:keep=0.25,perturbations=4", 1,
                        image)).statusCode();
                case 2 -> http.post(SieveServer.CHAT, Http.chat("q", null, 1, "data:image/png;base64,aGVsbG8=")).statusCode();
                default -> http.post(SieveServer.PRUNE, pruneBody(i)).statusCode();
            };
            assertEquals(i % 6 == 2 ? 400 : 200, status, "request " + i);
        }
    }

    @Test
    void nativeMemoryDoesNotGrowOverHundredsOfRequests() {
        try (SieveServer s = SieveServer.start(model, base())) {
            Http http = new Http(s.uri());
            traffic(http, 42);
            int weights = model.weights().manager().getManagedArrays().size();
            int arrays = liveArrays();
            assertTrue(arrays >= weights && weights > 0, "the count covers every manager, the weights' included");
            long rss = rssKb();
            traffic(http, 240);
            assertEquals(weights, model.weights().manager().getManagedArrays().size(), "the weights' manager grew");
            assertEquals(arrays, liveArrays(), "native arrays outlived their requests");
            long growthMb = (rssKb() - rss) / 1024;
            assertTrue(growthMb < 128, "resident memory grew by " + growthMb + " MB over 240 requests");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
