package io.tokensieve.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.tokensieve.core.runtime.RandomCheckpoint;
import io.tokensieve.datasets.Fixtures;
import io.tokensieve.datasets.mask.MaskPng;
import io.tokensieve.eval.scorers.VqaV2Scorer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sieve eval} on tiny random checkpoints: structure, and scores that agree with the scorer. */
class EvalCommandTest {
    @TempDir
    static Path shared;
    static Path model;
    static Path extrasModel;

    @TempDir
    Path tmp;

    @BeforeAll
    static void checkpoints() throws Exception {
        model = shared.resolve("tiny");
        RandomCheckpoint.write(model, 3, false);
        extrasModel = shared.resolve("tiny-extras");
        RandomCheckpoint.write(extrasModel, 4, true);
    }

    private static List<JsonNode> records(Path out) throws Exception {
        List<JsonNode> rs = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("records.jsonl"))) {
            rs.add(Cli.JSON.readTree(line));
        }
        return rs;
    }

    @Test
    void vqav2RecordsSummaryAndRescoring() throws Exception {
        Path out = tmp.resolve("run");
        Cli.Result r = Cli.run("eval", "--model", model.toString(), "--dataset", "vqav2:" + Fixtures.path("vqav2"),
                "--pruner", "random:keep=16", "--out", out.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode summary = r.json();
        assertEquals(Cli.JSON.readTree(Files.readString(out.resolve("summary.json"))), summary);
        assertEquals(3, summary.get("n").asInt());
        assertEquals(0, summary.get("n_failed").asInt());
        assertEquals(model.toString(), summary.get("model").asText());
        assertTrue(summary.get("pruner").asText().startsWith("random"), summary.get("pruner").asText());
        assertEquals("official", summary.get("scorer_variant").asText());

        List<JsonNode> recs = records(out);
        assertEquals(List.of("421", "730", "731"), recs.stream().map(x -> x.get("id").asText()).toList());
        VqaV2Scorer scorer = new VqaV2Scorer("official");
        double sum = 0;
        ArrayNode preds = Cli.JSON.createArrayNode();
        for (JsonNode rec : recs) {
            for (String f : List.of("prediction", "references", "score", "pruner", "budget", "visual_tokens_entering_llm",
                    "visual_tokens_per_layer", "equivalent_average_tokens", "kv_cache_bytes", "timings_ms", "scorer_variant")) {
                assertTrue(rec.has(f), "record lacks " + f + ": " + rec);
            }
            for (String t : List.of("vision", "projector", "prune", "prefill", "ttft", "decode")) {
                assertTrue(rec.get("timings_ms").get(t).asDouble() >= 0, t);
            }
            assertEquals(10, rec.get("references").size());
            assertEquals(16, rec.get("visual_tokens_entering_llm").asInt());
            assertEquals(4, rec.get("visual_tokens_per_layer").size());
            assertTrue(rec.get("kv_cache_bytes").asLong() > 0);
            List<String> refs = new ArrayList<>();
            rec.get("references").forEach(x -> refs.add(x.asText()));
            double expected = scorer.accuracy(rec.get("prediction").asText(), refs);
            assertEquals(expected, rec.get("score").asDouble(), 1e-12);
            sum += expected;
            preds.addObject().put("question_id", Long.parseLong(rec.get("id").asText()))
                    .put("answer", rec.get("prediction").asText());
        }
        double accuracy = summary.get("metrics").get("accuracy").asDouble();
        assertEquals(Math.round(100 * sum / 3 * 100) / 100.0, accuracy, 1e-9);
        assertEquals(16.0, summary.get("averages").get("visual_tokens_entering_llm").asDouble(), 1e-9);

        // the predictions, written in the official results format, score the same through sieve score
        Path predFile = tmp.resolve("results.json");
        Files.writeString(predFile, preds.toString());
        Cli.Result s = Cli.run("score", "--format", "vqav2", "--references", Fixtures.path("vqav2").toString(),
                "--predictions", predFile.toString(), "--json");
        assertEquals(0, s.exit(), s.err());
        assertEquals(accuracy, s.json().get("accuracy").asDouble(), 0);
    }

    @Test
    void undecodableImageStopsTheRunOrIsSkipped() throws Exception {
        Path root = Fixtures.copy("vqav2", tmp);
        Path bad = root.resolve("val2014/COCO_val2014_000000000073.png");
        Files.write(bad, new byte[] {1, 2, 3, 4, 5});
        Path out = tmp.resolve("stop");
        Cli.Result r = Cli.run("eval", "--model", model.toString(), "--dataset", "vqav2:" + root, "--out", out.toString());
        assertEquals(2, r.exit());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("record 730") && r.err().contains(bad.toString()), r.err());
        // what ran before the failure is kept
        assertEquals(1, records(out).size());
        assertFalse(Files.exists(out.resolve("summary.json")));

        Path out2 = tmp.resolve("skip");
        Cli.Result s = Cli.run("eval", "--model", model.toString(), "--dataset", "vqav2:" + root, "--out", out2.toString(),
                "--skip-bad", "--json");
        assertEquals(0, s.exit(), s.err());
        assertEquals(1, s.json().get("n").asInt());
        assertEquals(2, s.json().get("n_failed").asInt());
        assertEquals("730", s.json().get("failures").get(0).get("id").asText());
        assertTrue(s.err().contains("sieve eval: skipped: "), s.err());
    }

    @Test
    void limitAndTextSummary() {
        Path out = tmp.resolve("limited");
        Cli.Result r = Cli.run("eval", "--model", model.toString(), "--dataset", "icl:" + Fixtures.path("icl"),
                "--limit", "1", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("icl:" + Fixtures.path("icl") + ": 1 samples (0 failed), pruner none, scorer official"),
                r.out());
        assertTrue(r.out().contains("  headline accuracy = "), r.out());
    }

    @Test
    void segmentationWritesSourceSizeMasksThatRescore() throws Exception {
        Path out = tmp.resolve("seg");
        Cli.Result r = Cli.run("eval", "--model", extrasModel.toString(), "--dataset", "reasonseg:" + Fixtures.path("reasonseg"),
                "--out", out.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        List<JsonNode> recs = records(out);
        assertEquals(2, recs.size());
        assertEquals("masks/img1.png", recs.get(0).get("mask").asText());
        assertEquals(12, MaskPng.readBinary(out.resolve("masks/img1.png")).width());
        assertEquals(10, MaskPng.readBinary(out.resolve("masks/img1.png")).height());
        assertEquals(0, r.json().get("max_new_tokens").asInt());
        Cli.Result s = Cli.run("score", "--format", "reasonseg", "--references", Fixtures.path("reasonseg").toString(),
                "--predictions", out.resolve("masks").toString(), "--json");
        assertEquals(0, s.exit(), s.err());
        assertEquals(r.json().get("metrics").get("giou").asDouble(), s.json().get("giou").asDouble(), 1e-12);
        assertEquals(recs.get(0).get("score").asDouble() * 50 + recs.get(1).get("score").asDouble() * 50,
                s.json().get("giou").asDouble(), 1e-9);
    }

    @Test
    void segmentationNeedsAMaskHead() {
        Cli.Result r = Cli.run("eval", "--model", model.toString(), "--dataset", "reasonseg:" + Fixtures.path("reasonseg"),
                "--out", tmp.resolve("noseg").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("the model has no [SEG] mask head, so it cannot run reasonseg"), r.err());
    }

    @Test
    void sceneQuestionsRunWithPerPatchOrigins() throws Exception {
        Path out = tmp.resolve("scan");
        Cli.Result r = Cli.run("eval", "--model", extrasModel.toString(), "--dataset",
                "scanqa:" + Fixtures.path("scan3d") + "?views=2", "--limit", "2", "--out", out.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        assertEquals(2, r.json().get("n").asInt());
        // two views of 64 patches each
        assertEquals(128, records(out).get(0).get("visual_tokens_entering_llm").asInt());
    }
}
