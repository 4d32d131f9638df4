package io.tokensieve.serve;

import java.time.Duration;

/**
 * How a {@link SieveServer} listens and what it accepts, parsed once at the edge ({@code sieve serve} flags).
 *
 * <pre>{@code
 * ServeConfig c = ServeConfig.defaults().withPort(18080).withMaxConcurrency(2);
 * }</pre>
 *
 * @param host address to bind (loopback by default)
 * @param port TCP port, 0 for an ephemeral one
 * @param maxConcurrency requests that run the model (or a filter) at once
 * @param queue admitted requests that may wait for a slot; beyond {@code maxConcurrency + queue}: 429
 * @param timeout per-request limit, queueing included; beyond it: 504
 * @param maxBodyBytes largest request body; beyond it: 413
 * @param allowLocalFiles whether {@code image_url} may name a local path or {@code file://} URL
 * @param maxImages images per chat request
 * @param maxPruneImages images per {@code /v1/prune} request
 * @param maxImagePixels largest decoded image (width x height)
 * @param maxNewTokens largest {@code max_tokens} a chat request may ask for
 * @param defaultNewTokens {@code max_tokens} when a chat request gives none
 * @param maxQuestionChars longest question
 */
public record ServeConfig(String host, int port, int maxConcurrency, int queue, Duration timeout, long maxBodyBytes,
                          boolean allowLocalFiles, int maxImages, int maxPruneImages, long maxImagePixels,
                          int maxNewTokens, int defaultNewTokens, int maxQuestionChars) {

    public ServeConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, got " + port);
        }
        if (maxConcurrency < 1) {
            throw new IllegalArgumentException("max concurrency must be at least 1, got " + maxConcurrency);
        }
        if (queue < 0) {
            throw new IllegalArgumentException("queue must be at least 0, got " + queue);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        if (maxBodyBytes < 1024) {
            throw new IllegalArgumentException("max body must be at least 1 KiB, got " + maxBodyBytes + " bytes");
        }
        if (maxImages < 1 || maxPruneImages < 1 || maxImagePixels < 1 || maxNewTokens < 1 || defaultNewTokens < 1
                || maxQuestionChars < 1) {
            throw new IllegalArgumentException("image, token and question limits must be positive");
        }
    }

    /** Loopback, ephemeral port, 2 at once, 8 queued, 120 s, 32 MiB, no local files, 8 images, 16 MP. */
    public static ServeConfig defaults() {
        return new ServeConfig("127.0.0.1", 0, 2, 8, Duration.ofSeconds(120), 32L << 20, false, 8, 64,
                4096L * 4096, 512, 64, 8000);
    }

    public ServeConfig withHost(String h) {
        return new ServeConfig(h, port, maxConcurrency, queue, timeout, maxBodyBytes, allowLocalFiles, maxImages,
                maxPruneImages, maxImagePixels, maxNewTokens, defaultNewTokens, maxQuestionChars);
    }

    public ServeConfig withPort(int p) {
        return new ServeConfig(host, p, maxConcurrency, queue, timeout, maxBodyBytes, allowLocalFiles, maxImages,
                maxPruneImages, maxImagePixels, maxNewTokens, defaultNewTokens, maxQuestionChars);
    }

    public ServeConfig withMaxConcurrency(int n) {
        return new ServeConfig(host, port, n, queue, timeout, maxBodyBytes, allowLocalFiles, maxImages,
                maxPruneImages, maxImagePixels, maxNewTokens, defaultNewTokens, maxQuestionChars);
    }

    public ServeConfig withQueue(int q) {
        return new ServeConfig(host, port, maxConcurrency, q, timeout, maxBodyBytes, allowLocalFiles, maxImages,
                maxPruneImages, maxImagePixels, maxNewTokens, defaultNewTokens, maxQuestionChars);
    }

    public ServeConfig withTimeout(Duration t) {
        return new ServeConfig(host, port, maxConcurrency, queue, t, maxBodyBytes, allowLocalFiles, maxImages,
                maxPruneImages, maxImagePixels, maxNewTokens, defaultNewTokens, maxQuestionChars);
    }

    public ServeConfig withMaxBodyBytes(long b) {
        return new ServeConfig(host, port, maxConcurrency, queue, timeout, b, allowLocalFiles, maxImages,
                maxPruneImages, maxImagePixels, maxNewTokens, defaultNewTokens, maxQuestionChars);
    }

    public ServeConfig withAllowLocalFiles(boolean allow) {
        return new ServeConfig(host, port, maxConcurrency, queue, timeout, maxBodyBytes, allow, maxImages,
                maxPruneImages, maxImagePixels, maxNewTokens, defaultNewTokens, maxQuestionChars);
    }

    public ServeConfig withMaxImages(int n) {
        return new ServeConfig(host, port, maxConcurrency, queue, timeout, maxBodyBytes, allowLocalFiles, n,
                maxPruneImages, maxImagePixels, maxNewTokens, defaultNewTokens, maxQuestionChars);
    }

    public ServeConfig withMaxImagePixels(long px) {
        return new ServeConfig(host, port, maxConcurrency, queue, timeout, maxBodyBytes, allowLocalFiles, maxImages,
                maxPruneImages, px, maxNewTokens, defaultNewTokens, maxQuestionChars);
    }
}
