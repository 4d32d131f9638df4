package io.tokensieve.core.image;

/** An image file cannot be used: missing, empty, not an image, truncated, or too large. */
public class ImageException extends RuntimeException {
    public ImageException(String message) {
        super(message);
    }
}
