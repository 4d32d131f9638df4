package io.tokensieve.eval;

import io.tokensieve.eval.scorers.GqaScorer;
import io.tokensieve.eval.scorers.IclScorer;
import io.tokensieve.eval.scorers.MmbenchScorer;
import io.tokensieve.eval.scorers.MmeScorer;
import io.tokensieve.eval.scorers.PopeScorer;
import io.tokensieve.eval.scorers.ScienceQaScorer;
import io.tokensieve.eval.scorers.Scene3dQaScorer;
import io.tokensieve.eval.scorers.SegmentationScorer;
import io.tokensieve.eval.scorers.TextVqaScorer;
import io.tokensieve.eval.scorers.VqaV2Scorer;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Scorers by dataset format and variant. Every format has {@code official} (the default); the formats
 * whose lmms-eval rules differ also have {@code lmms}. An unknown format or variant fails and lists the
 * known ones.
 */
public final class Scorers {
    public static final String OFFICIAL = "official";
    public static final String LMMS = "lmms";
    private static final List<String> BOTH = List.of(OFFICIAL, LMMS);
    private static final List<String> ONE = List.of(OFFICIAL);

    private record Entry(List<String> variants, Function<String, Scorer> factory) {}

    private static final Map<String, Entry> ENTRIES = entries();

    private static Map<String, Entry> entries() {
        Map<String, Entry> m = new LinkedHashMap<>();
        m.put("vqav2", new Entry(BOTH, VqaV2Scorer::new));
        m.put("textvqa", new Entry(BOTH, TextVqaScorer::new));
        m.put("gqa", new Entry(BOTH, GqaScorer::new));
        m.put("pope", new Entry(BOTH, PopeScorer::new));
        m.put("mme", new Entry(BOTH, MmeScorer::new));
        m.put("scienceqa", new Entry(BOTH, ScienceQaScorer::new));
        m.put("mmbench", new Entry(ONE, v -> new MmbenchScorer()));
        for (String seg : List.of("refcoco", "refcoco+", "refcocog", "reasonseg")) {
            m.put(seg, new Entry(ONE, v -> new SegmentationScorer(seg)));
        }
        m.put("scanqa", new Entry(ONE, v -> new Scene3dQaScorer("scanqa")));
        m.put("sqa3d", new Entry(ONE, v -> new Scene3dQaScorer("sqa3d")));
        m.put("icl", new Entry(BOTH, IclScorer::new));
        return Collections.unmodifiableMap(m);
    }

    private Scorers() {}

    public static List<String> formats() {
        return List.copyOf(ENTRIES.keySet());
    }

    public static List<String> variants(String format) {
        return entry(format).variants();
    }

    public static Scorer create(String format, String variant) {
        Entry e = entry(format);
        if (!e.variants().contains(variant)) {
            throw new EvalException(format + ": unknown scorer variant '" + variant + "' (known: "
                    + String.join(", ", e.variants()) + ")");
        }
        return e.factory().apply(variant);
    }

    /** Whether the format's predictions are masks rather than text. */
    public static boolean isSegmentation(String format) {
        return List.of("refcoco", "refcoco+", "refcocog", "reasonseg").contains(format);
    }

    private static Entry entry(String format) {
        Entry e = ENTRIES.get(format);
        if (e == null) {
            throw new EvalException("no scorer for format '" + format + "' (known: " + String.join(", ", ENTRIES.keySet())
                    + ")");
        }
        return e;
    }
}
