package io.tokensieve.eval.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.datasets.DatasetSpec;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.mask.MaskPng;
import io.tokensieve.eval.Metrics;
import io.tokensieve.eval.Prediction;
import io.tokensieve.eval.Scorer;
import io.tokensieve.eval.Scorers;
import io.tokensieve.eval.Tally;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The summary of a sweep, always rebuilt from its records (so a resumed run and an uninterrupted one give
 * the same summary): per dataset and pruner point the benchmark's official metric re-scored over all
 * records, its share of the unpruned score, loyalty, token counts, the FLOPs ratio and the measured prefill
 * speed-up against the unpruned runs of the same sweep (medians, ratios within one run). Written as
 * {@code summary.json}, {@code summary.csv}, {@code summary.md} and two PNG plots per dataset.
 */
public final class SweepSummary {
    public static final String CSV = "summary.csv";
    public static final String MARKDOWN = "summary.md";
    public static final String JSON_FILE = "summary.json";

    /** One row of the summary table. */
    public record Row(String dataset, String pruner, String prunerId, String budget, int n, int repeats, double score,
                      double scoreStd, double pctOfUnpruned, double loyalty, double tokensEntering, double equivalentTokens,
                      double flopsRatio, double prefillSpeedup, double pruneMs, double prefillMs, double ttftMs,
                      double kvBytes, String metric) {}

    /** The rows and the Markdown text that was written. */
    public record Result(List<Row> rows, String markdown, Path folder) {}

    /**
     * Table order within a dataset: the unpruned reference first, then by pruner, then by budget (numerically; a
     * multi-stage pruner may let fewer tokens enter the LLM at a larger budget), then by tokens entering.
     */
    static final Comparator<Row> ROW_ORDER = Comparator
            .comparing((Row r) -> !r.prunerId().equals("none"))
            .thenComparing(Row::pruner)
            .thenComparingDouble(r -> budgetValue(r.budget()))
            .thenComparing(Row::budget)
            .thenComparingDouble(Row::tokensEntering);

    private SweepSummary() {}

    /** A budget's number ("0.22", "16"), or +infinity for labels that are not one ("all"). */
    private static double budgetValue(String budget) {
        try {
            return Double.parseDouble(budget.trim());
        } catch (NumberFormatException e) {
            return Double.POSITIVE_INFINITY;
        }
    }

    public static Result rebuild(Path out, SweepSpec spec, Map<String, List<Sample>> samples, ModelShape shape) {
        List<JsonNode> records = SweepRecords.readAndRepair(out.resolve(SweepRunner.RECORDS));
        List<Row> rows = new ArrayList<>();
        StringBuilder md = new StringBuilder();
        md.append("# Sweep ").append(spec.name()).append("\n\n");
        md.append("Model ").append(spec.model()).append("; scores are each benchmark's headline metric (scorer variant ").append(spec.scorerVariant())
                .append("); % = share of the unpruned score; loyalty = agreement with the unpruned answer (IoU for masks); ")
                .append("tokens = visual tokens entering the LLM / equivalent average over layers; FLOPs = analytic prefill ")
                .append("FLOPs ratio to unpruned (FastV formula, full sequence); speed-up = median unpruned prefill time / "
                        + "median prefill time, measured in this run.\n\n");
        for (var e : samples.entrySet()) {
            String dataset = e.getKey();
            String format = DatasetSpec.parse(dataset).format();
            Scorer scorer = Scorers.create(format, spec.scorerVariant());
            Map<String, Sample> byId = new LinkedHashMap<>();
            e.getValue().forEach(s -> byId.put(s.id(), s));
            Map<String, List<JsonNode>> bySpec = new LinkedHashMap<>();
            for (JsonNode r : records) {
                if (r.get("dataset").asText().equals(dataset) && byId.containsKey(r.get("id").asText())) {
                    bySpec.computeIfAbsent(r.get("pruner").asText(), k -> new ArrayList<>()).add(r);
                }
            }
            List<JsonNode> ref = bySpec.getOrDefault("none", List.of());
            double refScore = headline(scorer, ref, byId, out);
            double refPrefill = median(ref, "prefill");
            double refFlops = mean(ref, "flops_sequence");
            List<Row> dsRows = new ArrayList<>();
            for (var p : bySpec.entrySet()) {
                List<JsonNode> recs = p.getValue();
                Map<Integer, List<JsonNode>> reps = new LinkedHashMap<>();
                recs.forEach(r -> reps.computeIfAbsent(r.get("repeat").asInt(), k -> new ArrayList<>()).add(r));
                double[] scores = reps.values().stream().mapToDouble(l -> headline(scorer, l, byId, out)).toArray();
                double score = Arrays.stream(scores).average().orElse(Double.NaN);
                double std = scores.length < 2 ? 0 : Math.sqrt(Arrays.stream(scores).map(x -> (x - score) * (x - score)).sum()
                        / (scores.length - 1));
                JsonNode first = recs.get(0);
                String label = p.getKey().replaceAll(",?keep=[^,]*", "").replaceAll(",?seed=[^,]*", "").replaceAll(":$", "");
                double prefill = median(recs, "prefill");
                dsRows.add(new Row(dataset, label, first.get("pruner_id").asText(), first.get("budget").asText(),
                        reps.values().iterator().next().size(), reps.size(), score, std,
                        refScore > 0 ? 100 * score / refScore : Double.NaN, mean(recs, "loyalty"),
                        mean(recs, "visual_tokens_entering_llm"), mean(recs, "equivalent_average_tokens"),
                        refFlops > 0 ? mean(recs, "flops_sequence") / refFlops : Double.NaN,
                        prefill > 0 ? refPrefill / prefill : Double.NaN, median(recs, "prune"), prefill, median(recs, "ttft"),
                        mean(recs, "kv_cache_bytes"), scorer.benchmark()));
            }
            dsRows.sort(ROW_ORDER);
            rows.addAll(dsRows);
            md.append(table(dataset, dsRows));
            plots(out, dataset, dsRows);
        }
        Path refusedFile = out.resolve(SweepRunner.REFUSED);
        if (Files.isRegularFile(refusedFile)) {
            try {
                JsonNode refused = new com.fasterxml.jackson.databind.ObjectMapper().readTree(refusedFile.toFile());
                if (refused.size() > 0) {
                    md.append("Points dropped because the pruner refused the budget on this model:\n\n");
                    refused.fields().forEachRemaining(f -> md.append("- ").append(f.getValue().asText()).append('\n'));
                    md.append('\n');
                }
            } catch (java.io.IOException ex) {
                throw new java.io.UncheckedIOException(refusedFile + ": cannot read", ex);
            }
        }
        write(out.resolve(MARKDOWN), md.toString());
        write(out.resolve(CSV), csv(rows));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("spec", spec.toMap());
        json.put("records", records.size());
        json.put("rows", rows);
        SweepRunner.writeJson(out.resolve(JSON_FILE), json);
        return new Result(rows, md.toString(), out);
    }

    private static double headline(Scorer scorer, List<JsonNode> recs, Map<String, Sample> byId, Path out) {
        if (recs.isEmpty()) {
            return Double.NaN;
        }
        Tally t = scorer.newTally();
        for (JsonNode r : recs) {
            Sample s = byId.get(r.get("id").asText());
            Prediction p = r.has("mask") ? Prediction.mask(MaskPng.readBinary(out.resolve(r.get("mask").asText())))
                    : Prediction.text(r.get("prediction").asText());
            t.add(s, p);
        }
        Metrics m = t.result();
        return m.headlineValue();
    }

    private static double value(JsonNode r, String field) {
        JsonNode v = r.has(field) ? r.get(field) : r.path("timings_ms").get(field);
        return v == null || v.isNull() ? Double.NaN : v.asDouble();
    }

    static double mean(List<JsonNode> recs, String field) {
        return recs.stream().mapToDouble(r -> value(r, field)).filter(Double::isFinite).average().orElse(Double.NaN);
    }

    static double median(List<JsonNode> recs, String field) {
        double[] v = recs.stream().mapToDouble(r -> value(r, field)).filter(Double::isFinite).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String table(String dataset, List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        String metric = rows.isEmpty() ? "" : rows.get(0).metric();
        sb.append("## ").append(dataset).append(" (").append(metric).append(", n = ")
                .append(rows.isEmpty() ? 0 : rows.get(0).n()).append(")\n\n");
        sb.append("| pruner | budget | score | % of unpruned | loyalty | tokens in / avg | FLOPs | prefill speed-up |"
                + " prune ms |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            sb.append("| ").append(r.pruner()).append(" | ").append(r.budget()).append(" | ")
                    .append(f1(r.score())).append(r.repeats() > 1 ? " ± " + f1(r.scoreStd()) : "").append(" | ")
                    .append(f1(r.pctOfUnpruned())).append(" | ").append(f2(r.loyalty())).append(" | ")
                    .append(f1(r.tokensEntering())).append(" / ").append(f1(r.equivalentTokens())).append(" | ")
                    .append(f2(r.flopsRatio())).append(" | ").append(f2(r.prefillSpeedup())).append("x | ")
                    .append(f2(r.pruneMs())).append(" |\n");
        }
        return sb.append('\n').toString();
    }

    private static void plots(Path out, String dataset, List<Row> rows) {
        Map<String, List<Plot.Pt>> byTokens = new LinkedHashMap<>();
        Map<String, List<Plot.Pt>> byTime = new LinkedHashMap<>();
        Row ref = rows.stream().filter(r -> r.prunerId().equals("none")).findFirst().orElse(null);
        for (Row r : rows) {
            if (r.prunerId().equals("none")) {
                continue;
            }
            byTokens.computeIfAbsent(r.pruner(), k -> new ArrayList<>())
                    .add(new Plot.Pt(r.equivalentTokens(), r.score(), r.scoreStd()));
            byTime.computeIfAbsent(r.pruner(), k -> new ArrayList<>())
                    .add(new Plot.Pt(r.prefillMs(), r.score(), r.scoreStd()));
        }
        if (ref != null) {
            byTokens.put("none (unpruned)", List.of(new Plot.Pt(ref.equivalentTokens(), ref.score(), ref.scoreStd())));
            byTime.put("none (unpruned)", List.of(new Plot.Pt(ref.prefillMs(), ref.score(), ref.scoreStd())));
        }
        String base = DatasetSpec.parse(dataset).format() + "_" + Integer.toHexString(dataset.hashCode());
        String metric = rows.isEmpty() ? "score" : rows.get(0).metric();
        Plot.write(out.resolve("plot_" + base + "_score_vs_tokens.png"), dataset + ": score vs visual tokens",
                "equivalent average visual tokens per layer", metric, series(byTokens));
        Plot.write(out.resolve("plot_" + base + "_score_vs_prefill.png"), dataset + ": score vs prefill time",
                "median prefill time (ms)", metric, series(byTime));
    }

    private static List<Plot.Series> series(Map<String, List<Plot.Pt>> m) {
        List<Plot.Series> s = new ArrayList<>();
        m.forEach((k, v) -> s.add(new Plot.Series(k, v)));
        return s;
    }

    private static String csv(List<Row> rows) {
        StringBuilder sb = new StringBuilder("dataset,pruner,pruner_id,budget,n,repeats,metric,score,score_std,"
                + "pct_of_unpruned,loyalty,visual_tokens_entering_llm,equivalent_average_tokens,flops_ratio,"
                + "prefill_speedup,prune_ms_median,prefill_ms_median,ttft_ms_median,kv_cache_bytes\n");
        for (Row r : rows) {
            sb.append(String.join(",", q(r.dataset()), q(r.pruner()), r.prunerId(), r.budget(), String.valueOf(r.n()),
                    String.valueOf(r.repeats()), q(r.metric()), num(r.score()), num(r.scoreStd()), num(r.pctOfUnpruned()),
                    num(r.loyalty()), num(r.tokensEntering()), num(r.equivalentTokens()), num(r.flopsRatio()),
                    num(r.prefillSpeedup()), num(r.pruneMs()), num(r.prefillMs()), num(r.ttftMs()), num(r.kvBytes())))
                    .append('\n');
        }
        return sb.toString();
    }

    private static String q(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "";
    }

    private static String f1(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f", v) : "-";
    }

    private static String f2(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "-";
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write", e);
        }
    }
}
