package io.tokensieve.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.tokensieve.datasets.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every fixture round-trips: loader, then {@code sieve score} on a hand-written prediction file in the
 * benchmark's official results format, reproducing a metric computed by hand (in the comments).
 */
class ScoreCommandTest {
    @TempDir
    Path tmp;

    private static JsonNode score(String format, String references, String predictions, String... more) {
        String[] base = {"score", "--format", format, "--references", references, "--predictions",
            Fixtures.path("predictions/" + predictions).toString(), "--json"};
        String[] args = new String[base.length + more.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        Cli.Result r = Cli.run(args);
        assertEquals(0, r.exit(), r.err());
        return r.json();
    }

    @Test
    void vqav2() {
        // Gray. -> gray: 3 of 10 annotators -> 0.9; two -> 2: all 10 -> 1.0; no: 1 of 10 -> 0.3
        JsonNode m = score("vqav2", Fixtures.path("vqav2").toString(), "vqav2.json");
        assertEquals("official", m.get("scorer_variant").asText());
        assertEquals(73.33, m.get("accuracy").asDouble(), 0);
        assertEquals(90.0, m.get("per_answer_type").get("other").asDouble(), 0);
        assertEquals(100.0, m.get("per_answer_type").get("number").asDouble(), 0);
        assertEquals(3, m.get("n").asInt());
        JsonNode lmms = score("vqav2", Fixtures.path("vqav2").toString(), "vqav2.json", "--variant", "lmms");
        assertEquals("lmms", lmms.get("scorer_variant").asText());
        assertEquals(100 * 2.2 / 3, lmms.get("accuracy").asDouble(), 1e-9);
    }

    @Test
    void gqa() {
        // "No." is right under both; "woman" wrong; "tshirt" vs "t-shirt" right only under lmms
        assertEquals(100.0 / 3, score("gqa", Fixtures.path("gqa").toString(), "gqa.json").get("accuracy").asDouble(), 1e-9);
        assertEquals(200.0 / 3, score("gqa", Fixtures.path("gqa").toString(), "gqa.json", "--variant", "lmms")
                .get("accuracy").asDouble(), 1e-9);
    }

    @Test
    void textvqa() {
        // Dakota: 4 annotators -> 1.0; Copenhagen: 2 -> 0.6
        JsonNode m = score("textvqa", Fixtures.path("textvqa").toString(), "textvqa.json");
        assertEquals(80.0, m.get("accuracy").asDouble(), 1e-9);
        JsonNode ocr = score("textvqa", Fixtures.path("textvqa") + "?ocr=true", "textvqa.json");
        assertEquals(true, ocr.get("textvqa_ocr_tokens").asBoolean());
    }

    @Test
    void pope() {
        // random: TP 1, FN 1, TN 1, FP 1 -> F1 50; adversarial: all right -> F1 100; mean 75
        JsonNode m = score("pope", Fixtures.path("pope").toString(), "pope.jsonl");
        assertEquals("mean.f1", m.get("headline").asText());
        assertEquals(75.0, m.get("mean").get("f1").asDouble(), 1e-9);
        assertEquals(50.0, m.get("per_subset").get("random").get("f1").asDouble(), 1e-9);
        assertEquals(50.0, m.get("per_subset").get("adversarial").get("yes_ratio").asDouble(), 1e-9);
    }

    @Test
    void popeBareIdsSharedBySubsetsAreAnError() throws Exception {
        Path preds = tmp.resolve("bare.jsonl");
        Files.writeString(preds, "{\"question_id\": 1, \"text\": \"yes\"}\n{\"question_id\": 2, \"text\": \"no\"}\n");
        Cli.Result r = Cli.run("score", "--format", "pope", "--references", Fixtures.path("pope").toString(),
                "--predictions", preds.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("question_id 1 matches samples of subsets random and adversarial; add a 'category'"),
                r.err());
        // with one subset loaded, bare ids are unambiguous
        Cli.Result one = Cli.run("score", "--format", "pope", "--references", Fixtures.path("pope") + "?subsets=random",
                "--predictions", preds.toString(), "--json");
        assertEquals(0, one.exit(), one.err());
        assertEquals(2, one.json().get("n_missing").asInt());
    }

    @Test
    void mme() {
        // existence: 3 of 4 right (75) + 1 of 2 images fully right (50) = 125; code_reasoning: 50 + 0
        JsonNode m = score("mme", Fixtures.path("mme").toString(), "mme");
        assertEquals(125.0, m.get("perception").asDouble(), 1e-9);
        assertEquals(50.0, m.get("cognition").asDouble(), 1e-9);
        assertEquals(75.0, m.get("per_subtask").get("existence").get("acc").asDouble(), 1e-9);
        assertEquals(125.0, score("mme", Fixtures.path("mme").toString(), "mme", "--variant", "lmms")
                .get("perception").asDouble(), 1e-9);
    }

    @Test
    void mmeAlsoReadsThreeColumnResults() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("mme3"));
        for (String task : new String[] {"existence", "code_reasoning"}) {
            StringBuilder sb = new StringBuilder();
            for (String line : Files.readAllLines(Fixtures.path("predictions/mme/" + task + ".txt"))) {
                String[] c = line.split("\t");
                sb.append(c[0]).append('\t').append(c[1]).append('\t').append(c[3]).append('\n');
            }
            Files.writeString(dir.resolve(task + ".txt"), sb.toString());
        }
        Cli.Result r = Cli.run("score", "--format", "mme", "--references", Fixtures.path("mme").toString(),
                "--predictions", dir.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        assertEquals(125.0, r.json().get("perception").asDouble(), 1e-9);
    }

    @Test
    void scienceqa() {
        // IMG subset {1: A right, 4: "The answer is C." wrong} -> 50; all questions add 2: "A. yes" right -> 2/3
        assertEquals(50.0, score("scienceqa", Fixtures.path("scienceqa").toString(), "scienceqa.jsonl")
                .get("accuracy").asDouble(), 1e-9);
        JsonNode all = score("scienceqa", Fixtures.path("scienceqa") + "?subset=all", "scienceqa.jsonl");
        assertEquals(50.0, all.get("accuracy").asDouble(), 1e-9);
        assertEquals(200.0 / 3, all.get("accuracy_all").asDouble(), 1e-9);
    }

    @Test
    void mmbench() {
        // question 0: 4 passes right; 1: pass 2 unparsed ("I think it is A"); 2: pass 3 refused -> 1 of 3
        JsonNode m = score("mmbench", Fixtures.path("mmbench").toString(), "mmbench.tsv");
        assertEquals(100.0 / 3, m.get("accuracy").asDouble(), 1e-9);
        assertEquals(1.0 / 9, m.get("mcq_unparsed_rate").asDouble(), 1e-12);
        assertEquals(100.0, m.get("per_l2_category").get("finegrained_perception (instance-level)").asDouble(), 1e-9);
        assertEquals(9, m.get("n_passes").asInt());
    }

    @Test
    void refcoco() {
        // 0-0 exact (I 20, U 20); 0-1 at twice the size, 3x4 inside the box (I 12, U 20); 1-2 missing (I 0, U 4)
        JsonNode m = score("refcoco", Fixtures.path("refcoco").toString(), "refcoco");
        double giou = 100 * (20 / (20 + 1e-5) + 12 / (20 + 1e-5)) / 3;
        assertEquals(giou, m.get("giou").asDouble(), 1e-9);
        assertEquals(100 * 32 / (44 + 1e-10), m.get("ciou").asDouble(), 1e-9);
        assertEquals("ciou", m.get("headline").asText());
        assertEquals(1, m.get("n_missing").asInt());
    }

    @Test
    void reasonseg() {
        // img1: the prediction covers the target and the ignore square: I 33, U 33; img2: half the square, I 8, U 16
        JsonNode m = score("reasonseg", Fixtures.path("reasonseg").toString(), "reasonseg");
        double a = 33 / (33 + 1e-5);
        double b = 8 / (16 + 1e-5);
        assertEquals(100 * (a + b) / 2, m.get("giou").asDouble(), 1e-9);
        assertEquals(100 * 41 / (49 + 1e-10), m.get("ciou").asDouble(), 1e-9);
        assertEquals(100 * a, m.get("short_query").get("giou").asDouble(), 1e-9);
        assertEquals(100 * b, m.get("long_query").get("giou").asDouble(), 1e-9);
    }

    @Test
    void scanqaAndSqa3d() {
        // table vs "brown wooden table": refined only; two vs 2 -> two; tv stand vs TV stand -> TV stand
        JsonNode scan = score("scanqa", Fixtures.path("scan3d").toString(), "scanqa.json");
        assertEquals(200.0 / 3, scan.get("em").asDouble(), 1e-9);
        assertEquals(100.0, scan.get("em_refined").asDouble(), 1e-9);
        // The Chair2 -> chair: exact; no vs yes: wrong; "3 chairs" -> "three chairs" contains "three": refined
        JsonNode sqa = score("sqa3d", Fixtures.path("scan3d").toString(), "sqa3d.json");
        assertEquals(100.0 / 3, sqa.get("em").asDouble(), 1e-9);
        assertEquals(200.0 / 3, sqa.get("em_refined").asDouble(), 1e-9);
        assertEquals(100.0, sqa.get("per_question_type").get("0_what").get("em").asDouble(), 1e-9);
    }

    @Test
    void icl() {
        // Green. -> green: right; three -> 3 vs {2, 2}: wrong
        assertEquals(50.0, score("icl", Fixtures.path("icl").toString(), "icl.jsonl").get("accuracy").asDouble(), 1e-9);
    }

    @Test
    void printsTheHeadlineAsText() {
        Cli.Result r = Cli.run("score", "--format", "vqav2", "--references", Fixtures.path("vqav2").toString(),
                "--predictions", Fixtures.path("predictions/vqav2.json").toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("vqav2 (scorer official): accuracy = 73.33\n"), r.out());
        assertTrue(r.out().contains("  per_answer_type.yes/no: 30\n"), r.out());
    }

    @Test
    void badInputGivesOneLineErrors() throws Exception {
        Cli.Result missing = Cli.run("score", "--format", "vqav2", "--references", Fixtures.path("vqav2").toString(),
                "--predictions", tmp.resolve("none.json").toString());
        assertEquals(2, missing.exit());
        assertEquals("sieve score: error: " + tmp.resolve("none.json") + ": prediction file not found\n", missing.err());

        Path bad = tmp.resolve("bad.json");
        Files.writeString(bad, "[{\"question_id\": 421, \"answer\": \"gray\"}, {\"question_id\": 730}]");
        Cli.Result noAnswer = Cli.run("score", "--format", "vqav2", "--references", Fixtures.path("vqav2").toString(),
                "--predictions", bad.toString());
        assertEquals(2, noAnswer.exit());
        assertEquals(1, noAnswer.err().lines().count(), noAnswer.err());
        assertTrue(noAnswer.err().contains(bad + ": record 1 (id 730): no answer field"), noAnswer.err());

        Path broken = tmp.resolve("broken.json");
        Files.writeString(broken, "[{\"question_id\": 421, \"answer\": \"gray\"");
        Cli.Result syntax = Cli.run("score", "--format", "vqav2", "--references", Fixtures.path("vqav2").toString(),
                "--predictions", broken.toString());
        assertEquals(2, syntax.exit());
        assertTrue(syntax.err().contains(broken + ": invalid JSON"), syntax.err());

        Cli.Result unknown = Cli.run("score", "--format", "vqa", "--references", "x", "--predictions", bad.toString());
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().contains("no scorer for format 'vqa' (known: vqav2, textvqa"), unknown.err());
    }
}
