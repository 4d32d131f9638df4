package io.tokensieve.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tokensieve.core.testing.TestModels;
import io.tokensieve.eval.sweep.SweepRunner;
import io.tokensieve.eval.sweep.SweepSummary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sieve sweep}: a 2-pruner x 2-budget x 50-sample sweep killed with SIGKILL halfway and resumed gives
 * the same summary as an uninterrupted run, with no lost and no duplicated records.
 */
class SweepCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private String[] sweepArgs(Path data, Path out) {
        return new String[] {"sweep", "--model", TestModels.tinyCheckpoint().toString(), "--dataset", "vqav2:" + data,
            "--pruners", "fastv:layer=2,divprune", "--budgets", "0.25,8", "--no-baselines", "--limit", "50",
            "--max-new-tokens", "3", "--out", out.toString()};
    }

    @Test
    void killedAndResumedEqualsUninterrupted() throws Exception {
        Path data = tmp.resolve("vqa");
        assertEquals(0, Cli.run("shapes", "--track", "vqa", "--n", "50", "--seed", "11", "--out", data.toString()).code());

        Path full = tmp.resolve("full");
        Cli.Result r = Cli.run(sweepArgs(data, full));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| fastv:layer=2 |"), r.out());
        List<JsonNode> all = lines(full.resolve(SweepRunner.RECORDS));
        assertEquals(50 * 5, all.size()); // none + 2 pruners x 2 budgets

        // the same sweep in a separate JVM, killed (SIGKILL) once about half the records are written
        Path killed = tmp.resolve("killed");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), "io.tokensieve.cli.Main"));
        cmd.addAll(List.of(sweepArgs(data, killed)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
        Path records = killed.resolve(SweepRunner.RECORDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (p.isAlive() && System.nanoTime() < deadline) {
            if (Files.exists(records) && Files.size(records) > 0 && Files.readAllLines(records).size() >= 120) {
                break;
            }
            Thread.sleep(20);
        }
        assertTrue(p.isAlive(), "the child finished before it could be killed: " + Files.readString(tmp.resolve("child.log")));
        p.destroyForcibly(); // SIGKILL
        p.waitFor(30, TimeUnit.SECONDS);
        int before = lines(records).size();
        assertTrue(before > 0 && before < 250, "killed mid-run: " + before + " records");

        // a fresh run in the same folder is refused; --resume finishes it
        Cli.Result refused = Cli.run(sweepArgs(data, killed));
        assertNotEquals(0, refused.code());
        assertTrue(refused.err().contains("--resume"), refused.err());
        List<String> resume = new ArrayList<>(List.of(sweepArgs(data, killed)));
        resume.add("--resume");
        Cli.Result resumed = Cli.run(resume.toArray(new String[0]));
        assertEquals(0, resumed.code(), resumed.err());

        List<JsonNode> after = lines(records);
        assertEquals(all.size(), after.size(), "no lost and no duplicated records");
        assertEquals(keys(all), keys(after));
        // deterministic columns of the summary agree (times are measured, so they differ)
        JsonNode a = JSON.readTree(full.resolve(SweepSummary.JSON_FILE).toFile()).get("rows");
        JsonNode b = JSON.readTree(killed.resolve(SweepSummary.JSON_FILE).toFile()).get("rows");
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            for (String f : new String[] {"pruner", "budget", "n", "score", "pctOfUnpruned", "loyalty", "tokensEntering",
                "equivalentTokens", "flopsRatio"}) {
                assertEquals(a.get(i).get(f), b.get(i).get(f), "row " + i + " " + f);
            }
        }
        assertTrue(Files.exists(killed.resolve(SweepSummary.CSV)));
        assertTrue(Files.readString(killed.resolve(SweepSummary.MARKDOWN)).contains("| divprune |"));
        assertTrue(Files.list(killed).anyMatch(f -> f.getFileName().toString().endsWith("_score_vs_tokens.png")));
    }

    private static List<JsonNode> lines(Path f) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(f)) {
            if (!l.isBlank()) {
                out.add(JSON.readTree(l));
            }
        }
        return out;
    }

    private static java.util.Set<String> keys(List<JsonNode> recs) {
        java.util.Set<String> s = new java.util.TreeSet<>();
        for (JsonNode r : recs) {
            assertTrue(s.add(r.get("point").asText() + "#" + r.get("id").asText()), "duplicate " + r);
        }
        return s;
    }

    @Test
    void specFilesAndBadSpecs() throws Exception {
        Path data = tmp.resolve("vqa");
        Cli.run("shapes", "--track", "vqa", "--n", "3", "--seed", "11", "--out", data.toString());
        Path spec = tmp.resolve("spec.json");
        Files.writeString(spec, "{\"name\": \"t\", \"model\": \"" + TestModels.tinyCheckpoint() + "\", \"datasets\": [\"vqav2:"
                + data + "\"], \"pruners\": [\"fastv:layer=2\"], \"budgets\": [\"0.5\"], \"limit\": 3, \"max_new_tokens\": 2}");
        Cli.Result ok = Cli.run("sweep", "--spec", spec.toString(), "--out", tmp.resolve("o").toString());
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("| random |") && ok.out().contains("| pool |"), "baselines added: " + ok.out());
        Files.writeString(spec, "{\"datasets\": [\"vqav2:" + data + "\"], \"pruners\": [\"fastv:keep=0.5\"]}");
        Cli.Result bad = Cli.run("sweep", "--spec", spec.toString(), "--out", tmp.resolve("o2").toString());
        assertNotEquals(0, bad.code());
        assertTrue(bad.err().contains("sets keep"), bad.err());
        Files.writeString(spec, "{\"datasets\": [], \"colour\": 3}");
        bad = Cli.run("sweep", "--spec", spec.toString());
        assertNotEquals(0, bad.code());
        assertTrue(bad.err().contains("spec.json"), bad.err());
        assertEquals(List.of("fastv:layer=3,score=mean", "zoo", "dart:layer=1"),
                SweepCommand.splitSpecs("fastv:layer=3,score=mean,zoo,dart:layer=1"));
        assertTrue(new File(spec.toString()).exists());
    }

    @Test
    void aBudgetAPrunerRefusesDropsThatPointOnly() throws Exception {
        Path data = tmp.resolve("icl");
        Cli.run("shapes", "--track", "icl", "--n", "1", "--seed", "11", "--out", data.toString());
        Path out = tmp.resolve("refused");
        // two visual tokens per layer on average over three images: SparseVLM's recycled tokens alone need more
        Cli.Result r = Cli.run("sweep", "--model", TestModels.tinyCheckpoint().toString(), "--dataset", "icl:" + data,
                "--pruners", "sparsevlm:scope=request,divprune", "--budgets", "2", "--no-baselines", "--limit", "1",
                "--max-new-tokens", "2", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("point dropped") && r.err().contains("cannot be reached"), r.err());
        JsonNode refused = JSON.readTree(out.resolve(SweepRunner.REFUSED).toFile());
        assertEquals(1, refused.size(), refused.toString());
        String md = Files.readString(out.resolve(SweepSummary.MARKDOWN));
        assertTrue(md.contains("| divprune |") && md.contains("Points dropped") && !md.contains("| sparsevlm"), md);
    }
}
