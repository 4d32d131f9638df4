package io.tokensieve.eval;

import java.io.PrintStream;
import java.time.Duration;

/**
 * Progress of a long job: a redrawn bar with rate and ETA on a terminal, plain lines (every 5% or 30 s)
 * otherwise, so logs stay readable.
 */
public final class Progress {
    private final String label;
    private final long total;
    private final PrintStream out;
    private final boolean tty;
    private final long start = System.nanoTime();
    private final long startDone;
    private long lastPrint;
    private long lastPct = -1;

    public Progress(String label, long total, long alreadyDone, PrintStream out, boolean tty) {
        this.label = label;
        this.total = Math.max(1, total);
        this.startDone = alreadyDone;
        this.out = out;
        this.tty = tty;
    }

    /** A progress display on stderr, redrawn when stderr is a terminal. */
    public static Progress onStderr(String label, long total, long alreadyDone) {
        return new Progress(label, total, alreadyDone, System.err, System.console() != null);
    }

    public void update(long done, String extra) {
        long now = System.nanoTime();
        long pct = done * 100 / total;
        boolean due = tty ? now - lastPrint > 250_000_000L
                : (pct / 5 != lastPct / 5) || now - lastPrint > 30_000_000_000L;
        if (!due && done < total) {
            return;
        }
        lastPrint = now;
        lastPct = pct;
        String eta = eta(done, now);
        if (tty) {
            int width = 30;
            int fill = (int) (width * done / total);
            out.print("\r" + label + " [" + "#".repeat(fill) + ".".repeat(width - fill) + "] " + done + "/" + total
                    + " " + eta + (extra == null ? "" : " " + extra) + "   ");
        } else {
            out.println(label + ": " + done + "/" + total + " (" + pct + "%) " + eta + (extra == null ? "" : " " + extra));
        }
        out.flush();
    }

    public void finish(String extra) {
        if (tty) {
            out.println();
        }
        out.println(label + ": done " + fmt(Duration.ofNanos(System.nanoTime() - start)) + (extra == null ? "" : " " + extra));
        out.flush();
    }

    private String eta(long done, long now) {
        long doneHere = done - startDone;
        double elapsed = (now - start) / 1e9;
        if (doneHere <= 0 || elapsed <= 0) {
            return "ETA --:--";
        }
        double rate = doneHere / elapsed;
        return "ETA " + fmt(Duration.ofSeconds((long) ((total - done) / rate)));
    }

    static String fmt(Duration d) {
        long s = d.getSeconds();
        return s >= 3600 ? String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String.format("%02d:%02d", s / 60, s % 60);
    }
}
