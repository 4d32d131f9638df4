package io.tokensieve.cli;

import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.serve.ServeConfig;
import io.tokensieve.serve.SieveServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.BindException;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code sieve serve}: the HTTP service (OpenAI-compatible chat, a pruning filter endpoint, health and metrics). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve the model over HTTP: POST /v1/chat/completions (OpenAI-compatible, optional \"pruner\"),",
                "POST /v1/prune (kept indices for your embeddings), GET /health, GET /v1/pruners, GET /metrics.",
                "Ctrl-C or SIGTERM stops accepting, finishes in-flight requests, then exits."})
final class ServeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--port", defaultValue = "8080", description = "TCP port (default ${DEFAULT-VALUE}; 0 = any free port)")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--max-concurrency", defaultValue = "2", paramLabel = "N",
            description = "requests running the model at once (default ${DEFAULT-VALUE})")
    int maxConcurrency;

    @Option(names = "--queue", defaultValue = "8", paramLabel = "Q",
            description = "requests waiting for a slot before 429 (default ${DEFAULT-VALUE})")
    int queue;

    @Option(names = "--timeout-s", defaultValue = "120", paramLabel = "T",
            description = "per-request limit in seconds, queueing included; then 504 (default ${DEFAULT-VALUE})")
    double timeoutS;

    @Option(names = "--max-body-mb", defaultValue = "32", paramLabel = "M",
            description = "largest request body in MiB; then 413 (default ${DEFAULT-VALUE})")
    double maxBodyMb;

    @Option(names = "--max-images", defaultValue = "8", paramLabel = "N",
            description = "images per chat request (default ${DEFAULT-VALUE})")
    int maxImages;

    @Option(names = "--allow-local-files",
            description = "let image_url name a local path or file:// URL (off by default: data: URLs only)")
    boolean allowLocalFiles;

    @Override
    public Integer call() throws Exception {
        if (!(timeoutS > 0) || Double.isInfinite(timeoutS)) {
            throw new Errors.UserException("--timeout-s must be a positive number of seconds, got " + timeoutS);
        }
        if (!(maxBodyMb > 0) || Double.isInfinite(maxBodyMb)) {
            throw new Errors.UserException("--max-body-mb must be positive, got " + maxBodyMb);
        }
        ServeConfig config;
        try {
            config = ServeConfig.defaults().withHost(host).withPort(port).withMaxConcurrency(maxConcurrency)
                    .withQueue(queue).withTimeout(Duration.ofMillis(Math.max(1, Math.round(timeoutS * 1000))))
                    .withMaxBodyBytes((long) (maxBodyMb * 1024 * 1024)).withAllowLocalFiles(allowLocalFiles)
                    .withMaxImages(maxImages);
        } catch (IllegalArgumentException e) {
            throw new Errors.UserException(e.getMessage());
        }
        try (VlmModel m = model.load(); SieveServer server = start(m, config)) {
            Thread hook = new Thread(() -> {
                int active = server.activeRequests();
                System.err.println("sieve serve: shutting down" + (active > 0 ? ", finishing " + active
                        + " in-flight request(s)" : ""));
                server.close();
                System.err.println("sieve serve: stopped");
            }, "sieve-serve-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            System.err.printf("sieve serve: listening on %s (model %s; %d at once, %d queued, timeout %.0f s, "
                            + "body limit %.0f MiB%s)%n", server.uri(), m.dir(), maxConcurrency, queue, timeoutS,
                    maxBodyMb, allowLocalFiles ? ", local files allowed" : "");
            server.awaitStopped();
        }
        return 0;
    }

    private SieveServer start(VlmModel m, ServeConfig config) throws IOException {
        try {
            return SieveServer.start(m, config);
        } catch (BindException e) {
            throw new Errors.UserException("cannot listen on " + host + ":" + port + " (" + e.getMessage() + ")");
        }
    }
}
