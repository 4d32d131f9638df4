package io.tokensieve.datasets;

/** A benchmark file or record is malformed; the message names the file and the record. */
public class DatasetException extends RuntimeException {
    public DatasetException(String message) {
        super(message);
    }
}
