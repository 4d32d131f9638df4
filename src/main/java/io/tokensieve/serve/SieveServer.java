package io.tokensieve.serve;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.tokensieve.core.filter.FilterResult;
import io.tokensieve.core.filter.VisualTokenFilter;
import io.tokensieve.core.image.ImageException;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * TokenSieve's HTTP service on the JDK's {@code com.sun.net.httpserver}: an OpenAI-compatible
 * {@code POST /v1/chat/completions} that answers with the loaded model (optionally pruned), {@code POST /v1/prune}
 * that runs a {@link VisualTokenFilter} on embeddings sent by a server with its own model, and
 * {@code GET /health}, {@code GET /v1/pruners}, {@code GET /metrics} (Prometheus text).
 *
 * <p>At most {@link ServeConfig#maxConcurrency()} requests run the model or a filter at once and at most
 * {@link ServeConfig#queue()} more wait for a slot; beyond that a request gets {@code 429} with
 * {@code Retry-After}. A request that is not answered within {@link ServeConfig#timeout()} (queueing included)
 * gets {@code 504}; a model run cannot be interrupted, so it finishes in the background and holds its slot until
 * then. Bodies above {@link ServeConfig#maxBodyBytes()} get {@code 413}. Bad input gets a 4xx JSON error
 * {@code {"error": {"message", "type", "code"}}}; any other failure a 500 of the same shape, and the server keeps
 * serving. Every model run uses its own native memory scope inside the runtime, every filter call its own
 * {@link NDManager}. {@link #close()} shuts down gracefully: it stops accepting connections, lets in-flight
 * requests finish, then stops the threads. The metrics belong to this instance.
 *
 * <pre>{@code
 * try (VlmModel model = VlmModel.load(Path.of("models/sieve-tiny"), Device.cpu());
 *      SieveServer server = SieveServer.start(model, ServeConfig.defaults().withPort(18080))) {
 *     server.awaitStopped();
 * }
 * }</pre>
 */
public final class SieveServer implements AutoCloseable {
    static final String CHAT = "/v1/chat/completions";
    static final String PRUNE = "/v1/prune";
    static final String HEALTH = "/health";
    static final String PRUNERS = "/v1/pruners";
    static final String METRICS = "/metrics";

    /** Bodies of refused requests are read and discarded up to this multiple of the limit, then the connection closes. */
    private static final int DRAIN_FACTOR = 4;

    private interface Handler {
        Response handle(HttpExchange ex, long t0) throws IOException;
    }

    private record Route(String method, Handler handler) {}

    private record Response(int status, String contentType, byte[] body) {}

    private final VlmModel model;
    private final String modelName;
    private final ServeConfig config;
    private final PrunerRegistry registry;
    private final ObjectMapper mapper;
    private final Map<String, Route> routes = new LinkedHashMap<>();
    private final HttpServer http;
    private final ExecutorService handlers;
    private final ExecutorService workers;
    private final AtomicInteger admitted = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger exchanges = new AtomicInteger();
    private final Metrics metrics;
    private final byte[] prunersJson;
    private final long startNanos = System.nanoTime();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final PrintStream log;
    private volatile boolean draining;

    private SieveServer(VlmModel model, ServeConfig config, PrunerRegistry registry, PrintStream log) throws IOException {
        this.model = model;
        this.modelName = model.dir().getFileName() == null ? model.dir().toString() : model.dir().getFileName().toString();
        this.config = config;
        this.registry = registry;
        this.log = log;
        JsonFactory factory = JsonFactory.builder()
                .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxStringLength((int) Math.min(Integer.MAX_VALUE - 16, config.maxBodyBytes())).build())
                .build();
        this.mapper = JsonMapper.builder(factory).enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
        this.metrics = new Metrics(running::get, () -> Math.max(0, admitted.get() - running.get()));
        this.prunersJson = mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(PrunerCatalog.json(registry, mapper));
        routes.put(CHAT, new Route("POST", this::chat));
        routes.put(PRUNE, new Route("POST", this::prune));
        routes.put(HEALTH, new Route("GET", (ex, t0) -> health()));
        routes.put(PRUNERS, new Route("GET", (ex, t0) -> new Response(200, "application/json", prunersJson)));
        routes.put(METRICS, new Route("GET", (ex, t0) -> new Response(200, "text/plain; version=0.0.4; charset=utf-8",
                metrics.render().getBytes(StandardCharsets.UTF_8))));
        this.handlers = Executors.newCachedThreadPool(daemon("sieve-http-"));
        this.workers = Executors.newFixedThreadPool(config.maxConcurrency(), daemon("sieve-worker-"));
        this.http = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 128);
        http.createContext("/", this::exchange);
        http.setExecutor(handlers);
    }

    /** Binds and starts a server for {@code model} (not closed by the server); logs go to stderr. */
    public static SieveServer start(VlmModel model, ServeConfig config) throws IOException {
        return start(model, config, PrunerRegistry.defaultRegistry(), System.err);
    }

    /** Binds and starts a server with an explicit pruner registry and log stream. */
    public static SieveServer start(VlmModel model, ServeConfig config, PrunerRegistry registry, PrintStream log)
            throws IOException {
        SieveServer s = new SieveServer(model, config, registry, log);
        s.http.start();
        return s;
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    /** {@code http://host:port}. */
    public URI uri() {
        return URI.create("http://" + config.host() + ":" + port());
    }

    /** Requests currently in progress (every endpoint). */
    public int activeRequests() {
        return exchanges.get();
    }

    /** Whether {@link #close()} has begun: /health answers 503 "draining" and new work is refused from then on. */
    public boolean isDraining() {
        return draining;
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /**
     * Graceful shutdown: stops accepting connections, answers requests that arrive on open connections with 503,
     * waits for in-flight requests (at most the request timeout plus a few seconds), then stops the threads.
     * Idempotent; a second caller waits for the first.
     */
    @Override
    public void close() {
        if (closing.getAndSet(true)) {
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        draining = true;
        int active = exchanges.get();
        // with nothing in flight stop(0) returns at once; otherwise stop returns when the last exchange ends
        http.stop(active == 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, config.timeout().toSeconds() + 5));
        workers.shutdown();
        handlers.shutdown();
        try {
            workers.awaitTermination(config.timeout().toSeconds() + 5, TimeUnit.SECONDS);
            handlers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stopped.countDown();
        }
    }

    private static ThreadFactory daemon(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    // ------------------------------------------------------------------ dispatch

    private void exchange(HttpExchange ex) {
        long t0 = System.nanoTime();
        exchanges.incrementAndGet();
        String path = ex.getRequestURI().getPath();
        Route route = routes.get(path);
        String endpoint = route == null ? "other" : path;
        int status = 500;
        try {
            if (route == null) {
                throw new ApiException(404, "invalid_request_error", "not_found", "no endpoint at " + path
                        + " (endpoints: POST " + CHAT + ", POST " + PRUNE + ", GET " + HEALTH + ", GET " + PRUNERS
                        + ", GET " + METRICS + ")");
            }
            if (!route.method().equals(ex.getRequestMethod())) {
                ex.getResponseHeaders().set("Allow", route.method());
                throw new ApiException(405, "invalid_request_error", "method_not_allowed", ex.getRequestMethod() + " "
                        + path + " is not allowed; use " + route.method());
            }
            if (draining && !path.equals(HEALTH) && !path.equals(METRICS)) {
                throw new ApiException(503, "unavailable_error", "shutting_down", "the server is shutting down");
            }
            Response r = route.handler().handle(ex, t0);
            status = r.status();
            send(ex, r, null);
        } catch (Throwable t) {
            ApiException e = toApi(t);
            status = e.status();
            metrics.error(endpoint, e.type());
            if (status >= 500 && !(t instanceof ApiException)) {
                log.println("sieve serve: " + endpoint + ": " + e.getMessage());
                t.printStackTrace(log);
            }
            sendError(ex, e);
        } finally {
            metrics.request(endpoint, status, (System.nanoTime() - t0) / 1e9);
            ex.close();
            exchanges.decrementAndGet();
        }
    }

    /** The API error a failure answers with; anything unexpected is a 500 naming the exception. */
    static ApiException toApi(Throwable t) {
        if (t instanceof ApiException a) {
            return a;
        }
        if (t instanceof ImageException) {
            return ApiException.invalid("invalid_image", t.getMessage());
        }
        if (t instanceof PruneException) {
            return ApiException.invalid("invalid_pruner", t.getMessage());
        }
        if (t instanceof IllegalArgumentException) {
            return ApiException.invalid("invalid_value", t.getMessage());
        }
        return new ApiException(500, "server_error", "internal_error", "internal error: " + t);
    }

    private void sendError(HttpExchange ex, ApiException e) {
        ObjectNode root = mapper.createObjectNode();
        ObjectNode err = root.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type());
        err.put("code", e.code());
        try {
            String retry = e.status() == 429 || e.status() == 503 ? "1" : null;
            send(ex, new Response(e.status(), "application/json", mapper.writeValueAsBytes(root)), retry);
        } catch (IOException io) {
            // the client went away; nothing left to tell it
        }
    }

    private void send(HttpExchange ex, Response r, String retryAfter) throws IOException {
        ex.getResponseHeaders().set("Content-Type", r.contentType());
        if (retryAfter != null) {
            ex.getResponseHeaders().set("Retry-After", retryAfter);
        }
        if (draining) {
            ex.getResponseHeaders().set("Connection", "close");
        }
        ex.sendResponseHeaders(r.status(), r.body().length == 0 ? -1 : r.body().length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(r.body());
        }
    }

    /** The request body, at most {@link ServeConfig#maxBodyBytes()} (413 beyond, after draining a bounded amount). */
    private byte[] body(HttpExchange ex) throws IOException {
        long max = config.maxBodyBytes();
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        long length = -1;
        if (declared != null) {
            try {
                length = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                throw ApiException.invalid("invalid_header", "Content-Length is not a number: '" + declared + "'");
            }
        }
        try (InputStream in = ex.getRequestBody()) {
            if (length > max) {
                drain(in, max);
                throw tooLarge(length);
            }
            byte[] b = in.readNBytes((int) Math.min(max + 1, Integer.MAX_VALUE - 16));
            if (b.length > max) {
                drain(in, max);
                throw tooLarge(-1);
            }
            return b;
        }
    }

    private ApiException tooLarge(long length) {
        ApiException e = new ApiException(413, "invalid_request_error", "body_too_large", "request body "
                + (length >= 0 ? "of " + length + " bytes " : "") + "is larger than the " + config.maxBodyBytes()
                + "-byte limit (--max-body-mb)");
        return e;
    }

    private static void drain(InputStream in, long max) throws IOException {
        long budget = max * DRAIN_FACTOR;
        byte[] buf = new byte[1 << 16];
        int n;
        while (budget > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, budget))) > 0) {
            budget -= n;
        }
    }

    private JsonNode json(HttpExchange ex) throws IOException {
        byte[] body = body(ex);
        if (body.length == 0) {
            throw ApiException.invalid("invalid_json", "request body is empty (expected a JSON object)");
        }
        try {
            return mapper.readTree(body);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            String why = e.getOriginalMessage().replaceAll("\\s*\\(start marker at \\[Source:[^\\]]*\\][^)]*\\)", "")
                    .replaceAll("\\s*\\[Source:[^\\]]*\\]", "").replaceAll("\\s+", " ").strip();
            throw ApiException.invalid("invalid_json", "request body is not valid JSON" + where + ": " + why);
        }
    }

    // ------------------------------------------------------------------ admission

    /** Runs {@code work} on a model slot, waiting in the queue if needed, until the request's deadline. */
    private <T> T admitted(long t0, Callable<T> work) {
        int capacity = config.maxConcurrency() + config.queue();
        if (admitted.incrementAndGet() > capacity) {
            admitted.decrementAndGet();
            throw new ApiException(429, "rate_limit_error", "too_many_requests", "server is busy: " + running.get()
                    + " request(s) running and " + Math.max(0, admitted.get() - running.get()) + " queued (limits: "
                    + config.maxConcurrency() + " running, " + config.queue() + " queued); retry later");
        }
        AtomicBoolean claimed = new AtomicBoolean();
        Future<T> f;
        try {
            f = workers.submit(() -> {
                if (!claimed.compareAndSet(false, true)) {
                    return null; // timed out while queued: never runs
                }
                running.incrementAndGet();
                try {
                    return work.call();
                } finally {
                    running.decrementAndGet();
                    admitted.decrementAndGet();
                }
            });
        } catch (RejectedExecutionException e) {
            admitted.decrementAndGet();
            throw new ApiException(503, "unavailable_error", "shutting_down", "the server is shutting down");
        }
        long left = t0 + config.timeout().toNanos() - System.nanoTime();
        try {
            return f.get(Math.max(0, left), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            boolean queued = claimed.compareAndSet(false, true);
            if (queued) {
                admitted.decrementAndGet();
                f.cancel(false);
            }
            throw new ApiException(504, "timeout_error", "timeout", "request did not finish within the "
                    + config.timeout().toMillis() / 1000.0 + " s limit (--timeout-s)"
                    + (queued ? "; it was still waiting for a slot" : "; its model run finishes in the background"));
        } catch (ExecutionException e) {
            throw toApi(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "unavailable_error", "shutting_down", "the server is shutting down");
        }
    }

    // ------------------------------------------------------------------ endpoints

    private Response health() throws IOException {
        ObjectNode o = mapper.createObjectNode();
        o.put("status", draining ? "draining" : "ok");
        o.put("model", modelName);
        o.put("in_flight", running.get());
        o.put("queued", Math.max(0, admitted.get() - running.get()));
        o.put("max_concurrency", config.maxConcurrency());
        o.put("queue", config.queue());
        o.put("uptime_s", (System.nanoTime() - startNanos) / 1e9);
        return new Response(draining ? 503 : 200, "application/json", mapper.writeValueAsBytes(o));
    }

    private record ChatOutcome(GenerationResult result, double queueMs) {}

    private Response chat(HttpExchange ex, long t0) throws IOException {
        ChatRequest req = ChatRequest.parse(json(ex), config);
        ConfiguredPruner cp = req.pruner() == null ? null : registry.create(req.pruner());
        GenerationConfig gen = new GenerationConfig(req.maxTokens(), req.temperature(), req.topP(), req.seed());
        ChatOutcome out = admitted(t0, () -> {
            double queueMs = (System.nanoTime() - t0) / 1e6;
            List<VisualInput> images = new ArrayList<>();
            for (ChatRequest.ImageRef ref : req.images()) {
                images.add(VisualInput.of(ref.path(), model.processor().preprocess(ImageSources.load(ref, config))));
            }
            long[] ids = model.promptIds(req.question(), images.size());
            GenerationResult r = model.generate(List.of(VlmRequest.of(ids, images, cp)), gen).get(0);
            return new ChatOutcome(r, queueMs);
        });
        GenerationResult r = out.result();
        int[] perLayer = r.visualTokensPerLayer();
        int kept = perLayer.length == 0 ? r.visualTokens() : perLayer[perLayer.length - 1];
        metrics.visualTokens(CHAT, r.visualTokens(), kept);

        ObjectNode o = mapper.createObjectNode();
        o.put("id", "chatcmpl-" + UUID.randomUUID().toString().replace("-", ""));
        o.put("object", "chat.completion");
        o.put("created", System.currentTimeMillis() / 1000);
        o.put("model", modelName);
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode msg = choice.putObject("message");
        msg.put("role", "assistant");
        msg.put("content", r.text());
        long[] outIds = r.outputIds();
        boolean eos = outIds.length > 0 && model.eosIds().contains(outIds[outIds.length - 1]);
        choice.put("finish_reason", eos ? "stop" : "length");
        ObjectNode usage = o.putObject("usage");
        usage.put("prompt_tokens", r.promptTokens());
        usage.put("completion_tokens", outIds.length);
        usage.put("total_tokens", r.promptTokens() + outIds.length);
        usage.put("visual_tokens", r.visualTokens());
        usage.put("kept_visual_tokens", kept);
        usage.put("visual_tokens_entering_llm", r.visualTokensEnteringLlm());
        usage.put("equivalent_average_visual_tokens", r.equivalentAverageTokens());
        ArrayNode per = usage.putArray("visual_tokens_per_layer");
        for (int c : perLayer) {
            per.add(c);
        }
        usage.put("pruner", cp == null ? "none" : cp.spec());
        if (cp != null) {
            usage.put("budget", cp.budget().label());
            usage.put("budget_convention", cp.convention().label());
        }
        usage.put("ignored_messages", req.ignoredMessages());
        ObjectNode t = usage.putObject("timings_ms");
        t.put("queue", out.queueMs());
        t.put("vision", r.timings().visionMs());
        t.put("projector", r.timings().projectorMs());
        t.put("prune", r.timings().pruneMs());
        t.put("prefill", r.timings().prefillMs());
        t.put("ttft", r.timings().ttftMs());
        t.put("decode", r.timings().decodeMs());
        t.put("total", (System.nanoTime() - t0) / 1e6);
        return new Response(200, "application/json", mapper.writeValueAsBytes(o));
    }

    private Response prune(HttpExchange ex, long t0) throws IOException {
        PruneRequest req = PruneRequest.parse(json(ex), config);
        VisualTokenFilter filter = VisualTokenFilter.builder(req.pruner()).optRegistry(registry).optModel(model).build();
        FilterResult r = admitted(t0, () -> {
            try (NDManager m = NDManager.newBaseManager(model.device())) {
                return filter.filter(req.toInput(m));
            }
        });
        metrics.visualTokens(PRUNE, r.visualTokens(), r.keptCount());
        ObjectNode o = mapper.createObjectNode();
        o.put("object", "prune.result");
        o.put("pruner", r.pruner());
        o.put("visual_tokens", r.visualTokens());
        o.put("kept_visual_tokens", r.keptCount());
        ArrayNode kept = o.putArray("kept");
        for (int v : r.kept()) {
            kept.add(v);
        }
        ArrayNode perImage = o.putArray("kept_per_image");
        for (int[] k : r.keptPerImage()) {
            ArrayNode a = perImage.addArray();
            for (int v : k) {
                a.add(v);
            }
        }
        float[] scores = r.scores();
        if (scores == null) {
            o.putNull("scores");
        } else {
            ArrayNode s = o.putArray("scores");
            for (float v : scores) {
                if (Float.isFinite(v)) {
                    s.add(v);
                } else {
                    s.addNull();
                }
            }
        }
        ArrayNode merged = o.putArray("merged");
        for (FilterResult.Merged m : r.merged()) {
            ObjectNode mo = merged.addObject();
            mo.put("index", m.index());
            ArrayNode e = mo.putArray("embedding");
            for (float v : m.embedding()) {
                e.add(v);
            }
        }
        o.put("merged_space", r.mergedSpace().name().toLowerCase(java.util.Locale.ROOT));
        ObjectNode t = o.putObject("timings_ms");
        t.put("prune", r.pruneMs());
        t.put("total", (System.nanoTime() - t0) / 1e6);
        return new Response(200, "application/json", mapper.writeValueAsBytes(o));
    }
}
