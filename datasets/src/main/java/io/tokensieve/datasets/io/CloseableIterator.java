package io.tokensieve.datasets.io;

import java.util.Iterator;

/** An iterator holding an open file; closing it early releases the file. */
public interface CloseableIterator<T> extends Iterator<T>, AutoCloseable {
    @Override
    void close();
}
