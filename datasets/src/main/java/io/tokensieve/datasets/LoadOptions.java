package io.tokensieve.datasets;

import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * How a loader treats bad input and where it may write derived files.
 *
 * @param skipBad report malformed records to {@code onSkip} and go on, instead of failing on the first one
 * @param checkImages fail (or skip) records whose image files are missing; scoring an existing prediction
 *     file sets this to false, since it needs only questions and answers
 * @param onSkip receives every skipped record's error (only used with {@code skipBad})
 * @param cacheDir folder for files a loader must materialise (MMBench's base64 images); null picks a
 *     folder under the system temporary directory
 */
public record LoadOptions(boolean skipBad, boolean checkImages, Consumer<DatasetException> onSkip, Path cacheDir) {
    public LoadOptions {
        onSkip = onSkip == null ? e -> { } : onSkip;
    }

    /** Fail on the first bad record; images must exist. */
    public static LoadOptions strict() {
        return new LoadOptions(false, true, null, null);
    }

    /** Skip bad records, reporting each to {@code onSkip}; images must exist. */
    public static LoadOptions skipping(Consumer<DatasetException> onSkip) {
        return new LoadOptions(true, true, onSkip, null);
    }

    public LoadOptions withCheckImages(boolean check) {
        return new LoadOptions(skipBad, check, onSkip, cacheDir);
    }

    public LoadOptions withCacheDir(Path dir) {
        return new LoadOptions(skipBad, checkImages, onSkip, dir);
    }
}
