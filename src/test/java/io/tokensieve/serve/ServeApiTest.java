package io.tokensieve.serve;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tokensieve.core.filter.FilterInput;
import io.tokensieve.core.filter.FilterResult;
import io.tokensieve.core.filter.ImageTokens;
import io.tokensieve.core.filter.VisualTokenFilter;
import io.tokensieve.core.image.ImageDecoder;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP service end to end: a real server on a loopback ephemeral port with the tiny random model, a real
 * client, real PNGs. Happy paths of every endpoint, every kind of bad input, and 16 concurrent clients.
 */
class ServeApiTest {
    private static final String Q = "what color is the circle ?";

    private static VlmModel model;
    private static SieveServer server;
    private static Http http;
    private static Path dir;
    private static Path png;
    private static String image;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        dir = tmp;
        model = TestModels.tiny();
        ServeConfig config = ServeConfig.defaults().withPort(0).withMaxConcurrency(2).withQueue(4)
                .withTimeout(Duration.ofSeconds(60)).withMaxBodyBytes(2L << 20).withMaxImages(3)
                .withMaxImagePixels(1_000_000);
        server = SieveServer.start(model, config);
        http = new Http(server.uri());
        png = TestModels.rgbPng(tmp, "scene.png", 90, 70, 3);
        image = Http.dataUrl(png);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String answerInProcess(String question, String spec, int maxTokens) throws Exception {
        VisualInput in = VisualInput.of("scene", model.processor().preprocess(ImageDecoder.decode(Files.readAllBytes(png),
                "scene")));
        GenerationResult r = model.generate(List.of(VlmRequest.of(model.promptIds(question, 1), List.of(in),
                spec == null ? null : PrunerRegistry.defaultRegistry().create(spec))), GenerationConfig.greedy(maxTokens))
                .get(0);
        return r.text();
    }

    @Test
    void healthAndPrunersAnswer() {
        HttpResponse<String> h = http.get("/health");
        assertEquals(200, h.statusCode());
        JsonNode hj = Http.json(h);
        assertEquals("ok", hj.get("status").asText());
        assertEquals(model.dir().getFileName().toString(), hj.get("model").asText());
        assertEquals(2, hj.get("max_concurrency").asInt());

        HttpResponse<String> p = http.get("/v1/pruners");
        assertEquals(200, p.statusCode());
        assertEquals(PrunerCatalog.json(PrunerRegistry.defaultRegistry(), Http.JSON), Http.json(p));
        List<String> ids = new ArrayList<>();
        Http.json(p).get("pruners").forEach(n -> ids.add(n.get("id").asText()));
        assertTrue(ids.containsAll(List.of("zoo", "divprune", "pool", "visionzip", "fastv")), ids.toString());
    }

    @Test
    void chatAnswersLikeTheRuntimeAndReportsUsage() throws Exception {
        HttpResponse<String> r = http.post(SieveServer.CHAT, Http.chat(Q, null, 6, image));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode j = Http.json(r);
        assertEquals("chat.completion", j.get("object").asText());
        assertTrue(j.get("id").asText().startsWith("chatcmpl-"));
        assertTrue(j.get("created").asLong() > 1_600_000_000L);
        JsonNode choice = j.get("choices").get(0);
        assertEquals("assistant", choice.get("message").get("role").asText());
        assertEquals(answerInProcess(Q, null, 6), choice.get("message").get("content").asText());
        assertTrue(List.of("stop", "length").contains(choice.get("finish_reason").asText()));
        JsonNode u = j.get("usage");
        assertEquals(64, u.get("visual_tokens").asInt());
        assertEquals(64, u.get("kept_visual_tokens").asInt());
        assertTrue(u.get("prompt_tokens").asInt() > 64);
        assertTrue(u.get("completion_tokens").asInt() >= 1 && u.get("completion_tokens").asInt() <= 6);
        assertEquals(u.get("prompt_tokens").asInt() + u.get("completion_tokens").asInt(), u.get("total_tokens").asInt());
        assertEquals("none", u.get("pruner").asText());
        assertEquals("[64,64,64,64]", u.get("visual_tokens_per_layer").toString());
        for (String k : List.of("queue", "vision", "projector", "prune", "prefill", "ttft", "decode", "total")) {
            assertTrue(u.get("timings_ms").has(k), k);
        }
    }

    @Test
    void chatWithAPrunerReportsTheKeptCount() throws Exception {
        JsonNode zoo = Http.json(http.post(SieveServer.CHAT, Http.chat(Q, "zoo:keep=0.25", 4, image)));
        assertEquals(16, zoo.get("usage").get("kept_visual_tokens").asInt(), zoo.toString());
        assertEquals(16, zoo.get("usage").get("visual_tokens_entering_llm").asInt());
        assertEquals("zoo:keep=0.25", zoo.get("usage").get("pruner").asText());
        assertEquals(answerInProcess(Q, "zoo:keep=0.25", 4), zoo.get("choices").get(0).get("message").get("content").asText());

        JsonNode fastv = Http.json(http.post(SieveServer.CHAT, Http.chat(Q, "fastv:layer=2,keep=0.25", 2, image)));
        JsonNode u = fastv.get("usage");
        assertEquals("[64,64,16,16]", u.get("visual_tokens_per_layer").toString());
        assertEquals(16, u.get("kept_visual_tokens").asInt());
        assertEquals(64, u.get("visual_tokens_entering_llm").asInt());
        assertEquals(40.0, u.get("equivalent_average_visual_tokens").asDouble(), 1e-9);

        // string content, earlier turns ignored, no image
        String body = "{\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"hi\"},"
                + "{\"role\":\"assistant\",\"content\":\"hello\"},{\"role\":\"user\",\"content\":\"what is red ?\"}],"
                + "\"max_tokens\":2,\"temperature\":0.7,\"top_p\":0.9,\"seed\":5}";
        HttpResponse<String> text = http.post(SieveServer.CHAT, body);
        assertEquals(200, text.statusCode(), text.body());
        assertEquals(0, Http.json(text).get("usage").get("visual_tokens").asInt());
        assertEquals(3, Http.json(text).get("usage").get("ignored_messages").asInt());
    }

    private static ObjectNode rowsImage(float[][] rows, int gr, int gc) {
        ObjectNode o = Http.JSON.createObjectNode();
        ArrayNode e = o.putArray("embeddings");
        for (float[] r : rows) {
            ArrayNode a = e.addArray();
            for (float v : r) {
                a.add(v);
            }
        }
        o.putArray("grid").add(gr).add(gc);
        return o;
    }

    private static String base64(float[][] rows) {
        ByteBuffer b = ByteBuffer.allocate(rows.length * rows[0].length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] r : rows) {
            for (float v : r) {
                b.putFloat(v);
            }
        }
        return Base64.getEncoder().encodeToString(b.array());
    }

    private static float[][] random(int n, int d, long seed) {
        java.util.Random r = new java.util.Random(seed);
        float[][] out = new float[n][d];
        for (float[] row : out) {
            for (int i = 0; i < d; i++) {
                row[i] = (float) r.nextGaussian();
            }
        }
        return out;
    }

    private static float[] flat(float[][] rows) {
        float[] out = new float[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * rows[0].length, rows[0].length);
        }
        return out;
    }

    @Test
    void pruneReturnsTheFiltersDecisionForJsonAndBase64Embeddings() {
        float[][] a = random(16, 8, 1);
        float[][] b = random(6, 8, 2);
        ObjectNode body = Http.JSON.createObjectNode().put("pruner", "divprune:keep=0.5");
        ArrayNode images = body.putArray("images");
        images.add(rowsImage(a, 4, 4));
        ObjectNode second = images.addObject();
        second.putObject("embeddings").put("data", base64(b)).putArray("shape").add(6).add(8);
        second.putArray("grid").add(2).add(3);
        HttpResponse<String> r = http.post(SieveServer.PRUNE, body);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = Http.json(r);
        assertEquals(22, j.get("visual_tokens").asInt());
        assertEquals(11, j.get("kept_visual_tokens").asInt());
        try (NDManager m = NDManager.newBaseManager()) {
            FilterResult expect = VisualTokenFilter.builder("divprune:keep=0.5").build().filter(FilterInput.of(
                    ImageTokens.grid(m.create(flat(a), new Shape(16, 8)), 4, 4),
                    ImageTokens.grid(m.create(flat(b), new Shape(6, 8)), 2, 3)));
            assertArrayEquals(expect.kept(), Http.JSON.convertValue(j.get("kept"), int[].class));
            assertArrayEquals(expect.keptPerImage().get(1), Http.JSON.convertValue(j.get("kept_per_image").get(1), int[].class));
            assertEquals(expect.scores()[3], j.get("scores").get(3).floatValue(), 1e-6f);
        }
        assertEquals(0, j.get("merged").size());

        ObjectNode pool = Http.JSON.createObjectNode().put("pruner", "pool:keep=4");
        pool.putArray("images").add(rowsImage(a, 4, 4));
        JsonNode pj = Http.json(http.post(SieveServer.PRUNE, pool));
        assertEquals("[0,2,8,10]", pj.get("kept").toString());
        assertEquals(4, pj.get("merged").size());
        assertEquals(8, pj.get("merged").get(0).get("embedding").size());
        float expect0 = (a[0][0] + a[1][0] + a[4][0] + a[5][0]) / 4;
        assertEquals(expect0, pj.get("merged").get(0).get("embedding").get(0).floatValue(), 1e-5f);
        assertEquals("embeddings", pj.get("merged_space").asText());

        // zoo with the server model's projector on projector-width features
        int dv = model.config().projectorInputSize();
        int d = model.config().text().hiddenSize();
        ObjectNode zoo = Http.JSON.createObjectNode().put("pruner", "zoo:keep=0.25,perturbations=4");
        ObjectNode zi = rowsImage(random(64, d, 3), 8, 8);
        zi.putObject("features").put("data", base64(random(64, dv, 4))).putArray("shape").add(64).add(dv);
        zoo.putArray("images").add(zi);
        HttpResponse<String> zr = http.post(SieveServer.PRUNE, zoo);
        assertEquals(200, zr.statusCode(), zr.body());
        assertEquals(16, Http.json(zr).get("kept_per_image").get(0).size());
    }

    /** One bad request and what must come back. */
    private record Bad(String what, String method, String path, String body, int status, String code, String fragment) {}

    private static String user(String contentJson) {
        return "{\"messages\":[{\"role\":\"user\",\"content\":" + contentJson + "}]}";
    }

    private static String withImage(String url, String extra) {
        return "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\""
                + url + "\"}},{\"type\":\"text\",\"text\":\"what is it?\"}]}]" + extra + "}";
    }

    private static String prune(String pruner, String imagesJson) {
        return "{\"pruner\":\"" + pruner + "\",\"images\":" + imagesJson + "}";
    }

    /** A plain PNG that compresses to a few kilobytes whatever its size. */
    private static Path solidPng(Path file, int w, int h) throws java.io.IOException {
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(w, h, java.awt.image.BufferedImage.TYPE_INT_RGB);
        javax.imageio.ImageIO.write(img, "png", file.toFile());
        return file;
    }

    private static List<Bad> badRequests() throws Exception {
        byte[] pngBytes = Files.readAllBytes(png);
        String truncated = "data:image/png;base64," + Base64.getEncoder().encodeToString(
                Arrays.copyOf(pngBytes, pngBytes.length / 2));
        String huge = Http.dataUrl(solidPng(dir.resolve("huge.png"), 1200, 1000));
        String g22 = "\"grid\":[2,2]";
        String ok4 = "[[1,2],[3,4],[5,6],[7,8]]";
        StringBuilder many = new StringBuilder("[");
        for (int i = 0; i < 65; i++) {
            many.append(i == 0 ? "" : ",").append("{\"embeddings\":[[1,2]],\"grid\":[1,1]}");
        }
        many.append(']');
        String nanB64 = base64(new float[][] {{1, Float.NaN}});
        List<Bad> b = new ArrayList<>();
        String c = SieveServer.CHAT;
        String p = SieveServer.PRUNE;
        b.add(new Bad("invalid json", "POST", c, "{", 400, "invalid_json", "not valid JSON at line 1, column 2: "
                + "Unexpected end-of-input"));
        b.add(new Bad("empty body", "POST", c, "", 400, "invalid_json", "empty"));
        b.add(new Bad("array body", "POST", c, "[]", 400, "invalid_type", "request body must be an object"));
        b.add(new Bad("no messages", "POST", c, "{}", 400, "missing_field", "messages"));
        b.add(new Bad("messages type", "POST", c, "{\"messages\":\"hi\"}", 400, "invalid_type", "messages must be an array"));
        b.add(new Bad("messages empty", "POST", c, "{\"messages\":[]}", 400, "invalid_value", "messages is empty"));
        b.add(new Bad("no user", "POST", c, "{\"messages\":[{\"role\":\"assistant\",\"content\":\"x\"}]}", 400,
                "missing_field", "no user message"));
        b.add(new Bad("role type", "POST", c, "{\"messages\":[{\"role\":5,\"content\":\"x\"}]}", 400, "invalid_type",
                "messages[0].role must be a string"));
        b.add(new Bad("role value", "POST", c, "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", 400,
                "invalid_value", "messages[0].role must be one of"));
        b.add(new Bad("part type", "POST", c, user("[{\"type\":\"audio\"}]"), 400, "invalid_value",
                "must be text or image_url"));
        b.add(new Bad("no url", "POST", c, user("[{\"type\":\"image_url\",\"image_url\":{}},{\"type\":\"text\",\"text\":\"q\"}]"),
                400, "missing_field", "messages[0].content[0].image_url.url"));
        b.add(new Bad("empty question", "POST", c, user("[{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + image
                + "\"}},{\"type\":\"text\",\"text\":\"  \"}]"), 400, "empty_question", "question is empty"));
        b.add(new Bad("too many images", "POST", c, Http.chat("q", null, 1, image, image, image, image), 400,
                "too_many_images", "4 images, limit 3"));
        b.add(new Bad("undecodable", "POST", c, withImage("data:image/png;base64,aGVsbG8gd29ybGQ=", ""), 400,
                "invalid_image", "not a decodable image"));
        b.add(new Bad("truncated", "POST", c, withImage(truncated, ""), 400, "invalid_image", "truncated"));
        b.add(new Bad("empty image", "POST", c, withImage("data:image/png;base64,", ""), 400, "invalid_image", "empty"));
        b.add(new Bad("bad base64", "POST", c, withImage("data:image/png;base64,@@@@", ""), 400, "invalid_image",
                "invalid base64"));
        b.add(new Bad("not an image url", "POST", c, withImage("data:text/plain;base64,aGVsbG8=", ""), 400,
                "invalid_image", "base64 data URL of an image"));
        b.add(new Bad("huge image", "POST", c, withImage(huge, ""), 400, "image_too_large", "1200x1000"));
        b.add(new Bad("remote url", "POST", c, withImage("http://127.0.0.1:9/a.png", ""), 400, "invalid_image",
                "remote image URLs are not fetched"));
        b.add(new Bad("local path", "POST", c, withImage(png.toString(), ""), 400, "local_files_disabled",
                "--allow-local-files"));
        b.add(new Bad("unknown pruner", "POST", c, withImage(image, ",\"pruner\":\"nosuch\""), 400, "invalid_pruner",
                "unknown pruner 'nosuch'"));
        b.add(new Bad("zero budget", "POST", c, withImage(image, ",\"pruner\":\"zoo:keep=0\""), 400, "invalid_pruner",
                "budget must be positive"));
        b.add(new Bad("budget above tokens", "POST", c, withImage(image, ",\"pruner\":\"zoo:keep=1000\""), 400,
                "invalid_pruner", "above the 64 visual tokens"));
        b.add(new Bad("NaN budget", "POST", c, withImage(image, ",\"pruner\":\"zoo:keep=NaN\""), 400, "invalid_pruner",
                "finite"));
        b.add(new Bad("unknown parameter", "POST", c, withImage(image, ",\"pruner\":\"zoo:bogus=1\""), 400,
                "invalid_pruner", "unknown parameter 'bogus'"));
        b.add(new Bad("pruner type", "POST", c, withImage(image, ",\"pruner\":7"), 400, "invalid_type",
                "pruner must be a string"));
        b.add(new Bad("max_tokens 0", "POST", c, withImage(image, ",\"max_tokens\":0"), 400, "invalid_value",
                "max_tokens must be in 1..512"));
        b.add(new Bad("max_tokens type", "POST", c, withImage(image, ",\"max_tokens\":\"5\""), 400, "invalid_type",
                "max_tokens must be an integer"));
        b.add(new Bad("temperature", "POST", c, withImage(image, ",\"temperature\":-1"), 400, "invalid_value",
                "temperature must be in"));
        b.add(new Bad("top_p", "POST", c, withImage(image, ",\"top_p\":0"), 400, "invalid_value", "top_p must be in"));
        b.add(new Bad("stream", "POST", c, withImage(image, ",\"stream\":true"), 400, "unsupported", "streaming"));
        b.add(new Bad("long question", "POST", c, user("\"" + "a".repeat(9000) + "\""), 400, "question_too_long",
                "9000 characters"));

        b.add(new Bad("prune no pruner", "POST", p, "{}", 400, "missing_field", "pruner"));
        b.add(new Bad("prune no images", "POST", p, prune("divprune", "[]"), 400, "invalid_value", "images is empty"));
        b.add(new Bad("ragged rows", "POST", p, prune("divprune", "[{\"embeddings\":[[1,2],[3]],\"grid\":[1,2]}]"), 400,
                "invalid_embeddings", "images[0].embeddings[1] has 1 values but row 0 has 2"));
        b.add(new Bad("grid mismatch", "POST", p, prune("divprune", "[{\"embeddings\":[[1,2],[3,4]]," + g22 + "}]"), 400,
                "invalid_embeddings", "holds 4 tokens"));
        b.add(new Bad("NaN value", "POST", p, prune("divprune", "[{\"embeddings\":[[1,NaN],[3,4]],\"grid\":[1,2]}]"), 400,
                "invalid_value", "images[0].embeddings[0][1] is NaN"));
        b.add(new Bad("infinite value", "POST", p, prune("divprune", "[{\"embeddings\":[[1,Infinity],[3,4]],"
                + "\"grid\":[1,2]}]"), 400, "invalid_value", "not a finite float32"));
        b.add(new Bad("string value", "POST", p, prune("divprune", "[{\"embeddings\":[[\"1\",2]],\"grid\":[1,1]}]"), 400,
                "invalid_type", "images[0].embeddings[0][0] must be a number"));
        b.add(new Bad("base64 length", "POST", p, prune("divprune", "[{\"embeddings\":{\"data\":\"AAAA\",\"shape\":[2,2]},"
                + "\"grid\":[1,2]}]"), 400, "invalid_embeddings", "holds 3 bytes"));
        b.add(new Bad("base64 NaN", "POST", p, prune("divprune", "[{\"embeddings\":{\"data\":\"" + nanB64
                + "\",\"shape\":[1,2]},\"grid\":[1,1]}]"), 400, "invalid_value", "is NaN"));
        b.add(new Bad("in-LLM pruner", "POST", p, prune("fastv:layer=2,keep=0.5", "[{\"embeddings\":" + ok4 + "," + g22
                + "}]"), 400, "invalid_pruner", "needs in-LLM attention"));
        b.add(new Bad("width mismatch", "POST", p, prune("divprune", "[{\"embeddings\":" + ok4 + "," + g22
                + "},{\"embeddings\":[[1,2,3]],\"grid\":[1,1]}]"), 400, "invalid_value", "image 1 embeddings are 3 wide"));
        b.add(new Bad("no grid", "POST", p, prune("divprune", "[{\"embeddings\":" + ok4 + "}]"), 400, "missing_field",
                "images[0].grid"));
        b.add(new Bad("no cls attention", "POST", p, prune("visionzip", "[{\"embeddings\":" + ok4 + "," + g22 + "}]"),
                400, "invalid_pruner", "missing input: cls_attention"));
        b.add(new Bad("too many prune images", "POST", p, prune("divprune", many.toString()), 400, "too_many_images",
                "65 entries, limit 64"));
        b.add(new Bad("prune budget", "POST", p, prune("divprune:keep=5", "[{\"embeddings\":" + ok4 + "," + g22 + "}]"),
                400, "invalid_pruner", "above the 4 visual tokens"));
        b.add(new Bad("embeddings type", "POST", p, prune("divprune", "[{\"embeddings\":3,\"grid\":[1,1]}]"), 400,
                "invalid_type", "images[0].embeddings must be"));
        b.add(new Bad("question without text", "POST", p, "{\"pruner\":\"divprune\",\"question\":\" \",\"images\":[{"
                + "\"embeddings\":" + ok4 + "," + g22 + "}]}", 400, "empty_question", "question is empty"));

        b.add(new Bad("GET chat", "GET", c, null, 405, "method_not_allowed", "use POST"));
        b.add(new Bad("POST health", "POST", "/health", "{}", 405, "method_not_allowed", "use GET"));
        b.add(new Bad("DELETE prune", "DELETE", p, null, 405, "method_not_allowed", "use POST"));
        b.add(new Bad("unknown path", "GET", "/v1/nope", null, 404, "not_found", "no endpoint at /v1/nope"));
        b.add(new Bad("body too large", "POST", p, "{\"pruner\":\"" + "x".repeat(5 << 19) + "\"}", 413, "body_too_large",
                "2097152-byte limit"));
        return b;
    }

    @Test
    void badInputGetsAFourHundredJsonErrorNamingTheProblem() throws Exception {
        List<String> failures = new ArrayList<>();
        for (Bad bad : badRequests()) {
            var builder = java.net.http.HttpRequest.newBuilder(server.uri().resolve(bad.path()));
            builder = bad.body() == null ? builder.method(bad.method(), java.net.http.HttpRequest.BodyPublishers.noBody())
                    : builder.method(bad.method(), java.net.http.HttpRequest.BodyPublishers.ofString(bad.body()));
            HttpResponse<String> r = http.send(builder.build());
            String got = r.statusCode() + " " + r.body();
            if (r.statusCode() != bad.status()) {
                failures.add(bad.what() + ": expected " + bad.status() + ", got " + abbreviate(got));
                continue;
            }
            if (!r.headers().firstValue("Content-Type").orElse("").startsWith("application/json")) {
                failures.add(bad.what() + ": not JSON: " + r.headers().map());
                continue;
            }
            JsonNode err = Http.json(r).get("error");
            if (err == null || !err.has("message") || !err.has("type") || !err.has("code")) {
                failures.add(bad.what() + ": no {error: {message, type, code}}: " + abbreviate(got));
            } else if (!err.get("code").asText().equals(bad.code()) || !err.get("message").asText().contains(bad.fragment())) {
                failures.add(bad.what() + ": expected code " + bad.code() + " and '" + bad.fragment() + "', got "
                        + abbreviate(err.toString()));
            }
            if (err != null && err.has("message") && (err.get("message").asText().contains("\n")
                    || err.get("message").asText().contains("[Source"))) {
                failures.add(bad.what() + ": the message is not one clean line: " + err.get("message").asText());
            }
            if (bad.status() == 405 && r.headers().firstValue("Allow").isEmpty()) {
                failures.add(bad.what() + ": 405 without Allow");
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertEquals(200, http.get("/health").statusCode(), "the server survives every bad request");
        assertEquals(200, http.post(SieveServer.CHAT, Http.chat(Q, null, 1, image)).statusCode());
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    @Test
    void sixteenConcurrentClientsGetAnswersOrTooManyRequestsNeverServerErrors() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<HttpResponse<String>>> futures = new ArrayList<>();
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            for (int i = 0; i < 16; i++) {
                String spec = i % 2 == 0 ? "zoo:keep=0.25" : null;
                futures.add(pool.submit(() -> {
                    go.await();
                    return new Http(server.uri()).post(SieveServer.CHAT, Http.chat(Q, spec, 8, image));
                }));
            }
            go.countDown();
            int ok = 0;
            int busy = 0;
            for (Future<HttpResponse<String>> f : futures) {
                HttpResponse<String> r = f.get();
                assertTrue(r.statusCode() == 200 || r.statusCode() == 429, r.statusCode() + " " + r.body());
                if (r.statusCode() == 429) {
                    busy++;
                    assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
                    assertEquals("too_many_requests", Http.json(r).get("error").get("code").asText());
                } else {
                    ok++;
                }
            }
            assertTrue(ok >= 2, "at least the running slots answer: " + ok + " ok, " + busy + " busy");
            assertEquals(16, ok + busy);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void metricsCountRequestsErrorsLatencyAndTokens() {
        http.post(SieveServer.CHAT, Http.chat(Q, "zoo:keep=0.25", 1, image));
        http.post(SieveServer.CHAT, "{");
        HttpResponse<String> m = http.get("/metrics");
        assertEquals(200, m.statusCode());
        assertTrue(m.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        String t = m.body();
        for (String line : List.of("# TYPE sieve_requests_total counter",
                "sieve_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}",
                "sieve_requests_total{endpoint=\"/v1/chat/completions\",status=\"400\"}",
                "sieve_errors_total{endpoint=\"/v1/chat/completions\",type=\"invalid_request_error\"}",
                "# TYPE sieve_request_duration_seconds histogram",
                "sieve_request_duration_seconds_bucket{endpoint=\"/v1/chat/completions\",le=\"+Inf\"}",
                "sieve_request_duration_seconds_count{endpoint=\"/v1/chat/completions\"}",
                "sieve_visual_tokens_total{endpoint=\"/v1/chat/completions\"}",
                "sieve_visual_tokens_kept_total{endpoint=\"/v1/chat/completions\"}",
                "sieve_in_flight_requests 0", "sieve_queue_depth 0")) {
            assertTrue(t.contains(line), "missing '" + line + "' in:\n" + t);
        }
        long in = metric(t, "sieve_visual_tokens_total{endpoint=\"/v1/chat/completions\"}");
        long kept = metric(t, "sieve_visual_tokens_kept_total{endpoint=\"/v1/chat/completions\"}");
        assertTrue(in >= 64 && kept >= 16 && kept < in, in + " in, " + kept + " kept");
    }

    private static long metric(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Long.parseLong(line.substring(name.length() + 1).trim());
            }
        }
        throw new AssertionError("no " + name);
    }
}
