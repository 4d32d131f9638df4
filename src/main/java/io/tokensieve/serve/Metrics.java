package io.tokensieve.serve;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The counters of one server instance, rendered in the Prometheus text exposition format (version 0.0.4):
 * requests by endpoint and status, errors by endpoint and type, request latency histograms per endpoint,
 * visual tokens in and kept, and the in-flight and queued request gauges. Thread-safe; owned by the server.
 */
final class Metrics {
    /** Upper bounds of the latency buckets, in seconds. */
    static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final Map<String, Histogram> latency = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> visualIn = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> visualKept = new ConcurrentHashMap<>();
    private final IntSupplier inFlight;
    private final IntSupplier queued;

    Metrics(IntSupplier inFlight, IntSupplier queued) {
        this.inFlight = inFlight;
        this.queued = queued;
    }

    private static final class Histogram {
        final LongAdder[] counts = new LongAdder[BUCKETS.length];
        final LongAdder count = new LongAdder();
        final DoubleAdder sum = new DoubleAdder();

        Histogram() {
            for (int i = 0; i < counts.length; i++) {
                counts[i] = new LongAdder();
            }
        }

        void observe(double seconds) {
            for (int i = 0; i < BUCKETS.length; i++) {
                if (seconds <= BUCKETS[i]) {
                    counts[i].increment();
                }
            }
            count.increment();
            sum.add(seconds);
        }
    }

    /** One finished request. */
    void request(String endpoint, int status, double seconds) {
        requests.computeIfAbsent(endpoint + "\u0000" + status, k -> new LongAdder()).increment();
        latency.computeIfAbsent(endpoint, k -> new Histogram()).observe(seconds);
    }

    /** One failed request, by error type. */
    void error(String endpoint, String type) {
        errors.computeIfAbsent(endpoint + "\u0000" + type, k -> new LongAdder()).increment();
    }

    /** Visual tokens a request brought and kept. */
    void visualTokens(String endpoint, long in, long kept) {
        visualIn.computeIfAbsent(endpoint, k -> new LongAdder()).add(in);
        visualKept.computeIfAbsent(endpoint, k -> new LongAdder()).add(kept);
    }

    long requestCount(String endpoint, int status) {
        LongAdder a = requests.get(endpoint + "\u0000" + status);
        return a == null ? 0 : a.sum();
    }

    /** The exposition text. */
    String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("# HELP sieve_requests_total HTTP requests by endpoint and status code.\n");
        sb.append("# TYPE sieve_requests_total counter\n");
        for (var e : new TreeMap<>(requests).entrySet()) {
            String[] k = e.getKey().split("\u0000");
            sb.append("sieve_requests_total{endpoint=\"").append(k[0]).append("\",status=\"").append(k[1]).append("\"} ")
                    .append(e.getValue().sum()).append('\n');
        }
        sb.append("# HELP sieve_errors_total Failed requests by endpoint and error type.\n");
        sb.append("# TYPE sieve_errors_total counter\n");
        for (var e : new TreeMap<>(errors).entrySet()) {
            String[] k = e.getKey().split("\u0000");
            sb.append("sieve_errors_total{endpoint=\"").append(k[0]).append("\",type=\"").append(k[1]).append("\"} ")
                    .append(e.getValue().sum()).append('\n');
        }
        sb.append("# HELP sieve_request_duration_seconds Request latency by endpoint, queueing included.\n");
        sb.append("# TYPE sieve_request_duration_seconds histogram\n");
        for (var e : new TreeMap<>(latency).entrySet()) {
            Histogram h = e.getValue();
            String ep = e.getKey();
            for (int i = 0; i < BUCKETS.length; i++) {
                sb.append("sieve_request_duration_seconds_bucket{endpoint=\"").append(ep).append("\",le=\"")
                        .append(fmt(BUCKETS[i])).append("\"} ").append(h.counts[i].sum()).append('\n');
            }
            sb.append("sieve_request_duration_seconds_bucket{endpoint=\"").append(ep).append("\",le=\"+Inf\"} ")
                    .append(h.count.sum()).append('\n');
            sb.append("sieve_request_duration_seconds_sum{endpoint=\"").append(ep).append("\"} ")
                    .append(fmt(h.sum.sum())).append('\n');
            sb.append("sieve_request_duration_seconds_count{endpoint=\"").append(ep).append("\"} ")
                    .append(h.count.sum()).append('\n');
        }
        counter(sb, "sieve_visual_tokens_total", "Visual tokens received (before pruning) by endpoint.", visualIn);
        counter(sb, "sieve_visual_tokens_kept_total", "Visual tokens kept (entering the LLM) by endpoint.", visualKept);
        sb.append("# HELP sieve_in_flight_requests Requests running the model now.\n");
        sb.append("# TYPE sieve_in_flight_requests gauge\n");
        sb.append("sieve_in_flight_requests ").append(inFlight.getAsInt()).append('\n');
        sb.append("# HELP sieve_queue_depth Admitted requests waiting for a model slot.\n");
        sb.append("# TYPE sieve_queue_depth gauge\n");
        sb.append("sieve_queue_depth ").append(queued.getAsInt()).append('\n');
        return sb.toString();
    }

    private static void counter(StringBuilder sb, String name, String help, Map<String, LongAdder> values) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(" counter\n");
        for (var e : new TreeMap<>(values).entrySet()) {
            sb.append(name).append("{endpoint=\"").append(e.getKey()).append("\"} ").append(e.getValue().sum()).append('\n');
        }
    }

    private static String fmt(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%s", v);
    }
}
