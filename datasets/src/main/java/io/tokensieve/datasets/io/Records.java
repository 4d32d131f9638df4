package io.tokensieve.datasets.io;

import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.datasets.Sample;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * Turns a stream of raw records into samples, applying the skip-bad policy: a conversion that throws
 * {@link DatasetException} either ends the iteration with that error or, with {@link LoadOptions#skipBad},
 * is reported and skipped. A conversion returns zero samples for a record that is filtered out (e.g. a
 * ScienceQA problem without image) and several for a record that expands (MMBench circular passes).
 */
public final class Records<T> implements CloseableIterator<Sample> {
    private final Iterator<T> raw;
    private final Function<T, List<Sample>> convert;
    private final LoadOptions options;
    private final Deque<Sample> pending = new ArrayDeque<>();

    private Records(Iterator<T> raw, Function<T, List<Sample>> convert, LoadOptions options) {
        this.raw = raw;
        this.convert = convert;
        this.options = options;
    }

    public static <T> CloseableIterator<Sample> of(Iterator<T> raw, Function<T, List<Sample>> convert, LoadOptions options) {
        return new Records<>(raw, convert, options);
    }

    @Override
    public boolean hasNext() {
        while (pending.isEmpty()) {
            if (!raw.hasNext()) {
                return false;
            }
            T r = raw.next();
            try {
                pending.addAll(convert.apply(r));
            } catch (DatasetException e) {
                if (!options.skipBad()) {
                    close();
                    throw e;
                }
                options.onSkip().accept(e);
            }
        }
        return true;
    }

    @Override
    public Sample next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return pending.removeFirst();
    }

    @Override
    public void close() {
        if (raw instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                // closing a read-only file cannot lose data
            }
        }
    }
}
