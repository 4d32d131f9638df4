package io.tokensieve.datasets.shapes;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The five ShapesBench tracks and the real benchmark format each one is written in. */
public enum Track {
    /** VQAv2 questions + annotations JSON. */
    VQA("vqa", "vqav2"),
    /** POPE JSON-lines (random / popular / adversarial). */
    POPE("pope", "pope"),
    /** ReasonSeg image + polygon JSON. */
    SEG("seg", "reasonseg"),
    /** The project's multi-image in-context JSONL. */
    ICL("icl", "icl"),
    /** ScanQA JSON + LLaVA-3D posed images. */
    THREE_D("3d", "scanqa");

    private final String id;
    private final String format;

    Track(String id, String format) {
        this.id = id;
        this.format = format;
    }

    public String id() {
        return id;
    }

    /** The dataset format the track is written in, as {@code sieve eval --dataset FORMAT:PATH} names it. */
    public String format() {
        return format;
    }

    /** Parses a track id ({@code vqa}, {@code pope}, {@code seg}, {@code icl}, {@code 3d}); fails listing the known ids. */
    public static Track parse(String id) {
        String key = id == null ? "" : id.trim().toLowerCase(Locale.ROOT);
        for (Track t : values()) {
            if (t.id.equals(key)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown track '" + id + "' (known: "
                + Arrays.stream(values()).map(Track::id).collect(Collectors.joining(", ")) + ")");
    }
}
