package io.tokensieve.serve;

import io.tokensieve.core.image.ImageDecoder;
import io.tokensieve.core.image.RgbImage;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Iterator;
import java.util.Locale;

/**
 * Turns an {@code image_url} into a decoded image: {@code data:image/...;base64,} URLs always, local paths and
 * {@code file://} URLs only when the server allows local files; remote URLs are never fetched. The pixel count
 * is read from the header and checked before anything is decoded.
 */
final class ImageSources {
    private ImageSources() {}

    static RgbImage load(ChatRequest.ImageRef ref, ServeConfig config) {
        byte[] bytes = bytes(ref, config);
        checkPixels(bytes, ref.path(), config.maxImagePixels());
        return ImageDecoder.decode(bytes, ref.path());
    }

    private static byte[] bytes(ChatRequest.ImageRef ref, ServeConfig config) {
        String url = ref.url().strip();
        String lower = url.toLowerCase(Locale.ROOT);
        if (lower.startsWith("data:")) {
            int comma = url.indexOf(',');
            String meta = comma < 0 ? "" : lower.substring(5, comma);
            if (comma < 0 || !meta.startsWith("image/") || !meta.endsWith(";base64")) {
                throw ApiException.invalid("invalid_image", ref.path() + " must be a base64 data URL of an image "
                        + "(data:image/png;base64,...), got '" + abbreviate(url) + "'");
            }
            try {
                return Base64.getDecoder().decode(url.substring(comma + 1).replaceAll("\\s", ""));
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid("invalid_image", ref.path() + ": invalid base64 (" + e.getMessage() + ")");
            }
        }
        if (lower.startsWith("http://") || lower.startsWith("https://")) {
            throw ApiException.invalid("invalid_image", ref.path() + ": remote image URLs are not fetched by this "
                    + "server; send the image as a data:image/...;base64, URL");
        }
        if (!config.allowLocalFiles()) {
            throw new ApiException(400, "invalid_request_error", "local_files_disabled", ref.path()
                    + ": local file paths are disabled; send a data:image/...;base64, URL or start the server with "
                    + "--allow-local-files");
        }
        Path p;
        try {
            p = lower.startsWith("file:") ? Path.of(URI.create(url)) : Path.of(url);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("invalid_image", ref.path() + ": not a valid path or file URL: '"
                    + abbreviate(url) + "'");
        }
        if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
            throw ApiException.invalid("invalid_image", ref.path() + ": " + p + ": file not found or not readable");
        }
        try {
            long size = Files.size(p);
            if (size > ImageDecoder.MAX_FILE_BYTES) {
                throw ApiException.invalid("image_too_large", ref.path() + ": " + p + " is " + size + " bytes, limit "
                        + ImageDecoder.MAX_FILE_BYTES);
            }
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw ApiException.invalid("invalid_image", ref.path() + ": cannot read " + p + " (" + e.getMessage() + ")");
        }
    }

    /** Rejects images whose header declares more than {@code maxPixels}; undecodable headers are left to the decoder. */
    static void checkPixels(byte[] bytes, String name, long maxPixels) {
        long[] size = headerSize(bytes);
        if (size != null && size[0] * size[1] > maxPixels) {
            throw ApiException.invalid("image_too_large", name + ": image is " + size[0] + "x" + size[1] + " ("
                    + size[0] * size[1] + " pixels), limit " + maxPixels + " pixels");
        }
    }

    /** {width, height} from the image header, or null when no reader understands it. */
    private static long[] headerSize(byte[] bytes) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                return null;
            }
            ImageReader r = readers.next();
            try {
                r.setInput(in, true, true);
                return new long[] {r.getWidth(0), r.getHeight(0)};
            } finally {
                r.dispose();
            }
        } catch (IOException | RuntimeException e) {
            return null; // the decoder reports unreadable images with its own message
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
