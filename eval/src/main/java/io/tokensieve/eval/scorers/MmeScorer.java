package io.tokensieve.eval.scorers;

import io.tokensieve.datasets.Sample;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Scorer;
import io.tokensieve.eval.Tally;
import io.tokensieve.eval.text.PyStr;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * MME (benchmarks-vqa.md section 6): per subtask acc (questions right), acc+ (images with every question
 * right) and their sum; perception and cognition totals (headline: perception). {@code official}: the MME
 * tool's parsing and per-subtask sums; {@code lmms}: lmms-eval's parsing (also strips, drops periods, reads
 * a lone y/n) and its per-image average of acc + acc+, which equals the sum when every image has two
 * questions ({@code images_without_two_questions} says whether that held).
 */
public final class MmeScorer implements Scorer {
    private static final List<String> PERCEPTION = List.of("existence", "count", "position", "color", "posters",
            "celebrity", "scene", "landmark", "artwork", "OCR");
    private static final List<String> COGNITION = List.of("commonsense_reasoning", "numerical_calculation",
            "text_translation", "code_reasoning");
    private final String variant;

    public MmeScorer(String variant) {
        this.variant = variant;
    }

    @Override
    public String benchmark() {
        return "mme";
    }

    @Override
    public String variant() {
        return variant;
    }

    /** yes, no or other. */
    public String parse(String prediction) {
        String s = prediction.toLowerCase(Locale.ROOT);
        if (variant.equals("lmms")) {
            s = PyStr.strip(s).replace(".", "");
        }
        if (s.equals("yes") || s.equals("no")) {
            return s;
        }
        if (variant.equals("lmms") && s.length() == 1) {
            return s.equals("y") ? "yes" : s.equals("n") ? "no" : "other";
        }
        String prefix = s.substring(0, Math.min(4, s.length()));
        return prefix.contains("yes") ? "yes" : prefix.contains("no") ? "no" : "other";
    }

    private String gold(String gt) {
        String g = gt.toLowerCase(Locale.ROOT);
        return variant.equals("lmms") ? PyStr.strip(g).replace(".", "") : g;
    }

    @Override
    public Tally newTally() {
        return new BaseTally(benchmark(), variant) {
            /** subtask -> image -> {right, asked} */
            private final Map<String, Map<String, int[]>> tasks = new LinkedHashMap<>();

            @Override
            protected double score(Sample s, Prediction p) {
                if (s.references().isEmpty()) {
                    throw noReference(s);
                }
                boolean ok = parse(p.text()).equals(gold(s.references().get(0)));
                String task = String.valueOf(s.extra().getOrDefault("subtask", "unknown"));
                String image = String.valueOf(s.extra().getOrDefault("image_name", s.id()));
                int[] c = tasks.computeIfAbsent(task, k -> new LinkedHashMap<>()).computeIfAbsent(image, k -> new int[2]);
                c[0] += ok ? 1 : 0;
                c[1]++;
                return ok ? 1 : 0;
            }

            @Override
            protected String fill(Map<String, Object> v) {
                Map<String, Object> per = new LinkedHashMap<>();
                double perception = 0;
                double cognition = 0;
                int notPairs = 0;
                for (String task : ordered()) {
                    Map<String, int[]> images = tasks.get(task);
                    int right = 0;
                    int asked = 0;
                    int allRight = 0;
                    double perImage = 0;
                    for (int[] c : images.values()) {
                        right += c[0];
                        asked += c[1];
                        allRight += c[0] == c[1] ? 1 : 0;
                        perImage += 100.0 * c[0] / c[1] + (c[0] == c[1] ? 100.0 : 0);
                        notPairs += c[1] == 2 ? 0 : 1;
                    }
                    double acc = Counts.pct(right, asked);
                    double accPlus = Counts.pct(allRight, images.size());
                    double score = variant.equals("lmms") ? perImage / images.size() : acc + accPlus;
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("acc", acc);
                    m.put("acc_plus", accPlus);
                    m.put("score", score);
                    m.put("questions", asked);
                    m.put("images", images.size());
                    per.put(task, m);
                    if (PERCEPTION.contains(task)) {
                        perception += score;
                    } else if (COGNITION.contains(task)) {
                        cognition += score;
                    }
                }
                v.put("perception", perception);
                v.put("cognition", cognition);
                v.put("per_subtask", per);
                v.put("images_without_two_questions", notPairs);
                return "perception";
            }

            private List<String> ordered() {
                return tasks.keySet().stream().sorted((a, b) -> Integer.compare(rank(a), rank(b))).toList();
            }

            private int rank(String task) {
                int p = PERCEPTION.indexOf(task);
                int c = COGNITION.indexOf(task);
                return p >= 0 ? p : c >= 0 ? 100 + c : 1000;
            }
        };
    }
}
