package io.tokensieve.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.RandomCheckpoint;
import io.tokensieve.datasets.Fixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sieve analyze} on tiny random checkpoints: the schedule files and that the pruners load them. */
class AnalyzeCommandTest {
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

    @Test
    void adaptinferInflectionLayers() throws Exception {
        Path out = tmp.resolve("ai.json");
        Cli.Result r = Cli.run("analyze", "--method", "adaptinfer", "--model", model.toString(), "--dataset",
                "vqav2:" + Fixtures.path("vqav2"), "--limit", "2", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("adaptinfer analysis: 2 samples of vqav2:"), r.out());
        assertTrue(r.out().contains("inflection layers (outputs pruned): 1"), r.out());
        JsonNode s = Cli.JSON.readTree(Files.readString(out));
        assertEquals("adaptinfer", s.get("method").asText());
        assertEquals(4, s.get("layers").asInt());
        assertEquals(2, s.get("samples").asInt());
        // 4 layers: a split needs 2 layers on each side, so every change point is at layer 1
        assertEquals(List.of(1), List.of(s.get("stage_layers").get(0).asInt()));
        assertEquals(1, s.get("stage_layers").size());
        assertEquals(s.get("tokens").asInt(), s.get("histogram").get(1).asInt());
        assertTrue(s.get("tokens").asInt() >= 2);
        // the pruner loads it: the stage prunes the output of layer 1, before layer 2
        var steps = PrunerRegistry.defaultRegistry().create("adaptinfer:schedule=" + out).pruner().schedule(
                new ModelShape(4, 4, 2, 16, 64, 128, 2, 32, 2, -2, 64), List.of(new ImageSpan(0, 0, 64, 8, 8, 5, false)));
        assertEquals("BEFORE_LAYER(2)", steps.get(steps.size() - 1).hook().toString());
    }

    @Test
    void adatokenProfileOnMultiViewScenes() throws Exception {
        Path out = tmp.resolve("at.json");
        Cli.Result r = Cli.run("analyze", "--method", "adatoken3d", "--model", extrasModel.toString(), "--dataset",
                "scanqa:" + Fixtures.path("scan3d") + "?views=2", "--limit", "1", "--out", out.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode s = r.json();
        assertEquals(Cli.JSON.readTree(Files.readString(out)), s);
        assertEquals("adatoken3d", s.get("method").asText());
        assertEquals(1, s.get("samples").asInt());
        assertEquals("[1,2,3]", s.get("boundaries").toString());
        JsonNode ratios = s.get("ratios");
        assertEquals(3, ratios.size());
        for (int i = 0; i < 3; i++) {
            double v = ratios.get(i).asDouble();
            assertTrue(v >= 0.05 && v <= 1 && (i == 0 || v <= ratios.get(i - 1).asDouble()), ratios.toString());
        }
        assertEquals(3, s.get("curve").size());
        JsonNode values = s.get("fit").get("values");
        assertEquals(100, values.get(0).asDouble(), 1e-6);
        assertEquals(10, values.get(3).asDouble(), 1e-6);
        assertEquals(4, s.get("intra_flow").size());
        assertTrue(PrunerRegistry.defaultRegistry().create("adatoken3d:schedule=" + out) != null);
    }

    @Test
    void badMethodIsAOneLineError() {
        Cli.Result r = Cli.run("analyze", "--method", "fastv", "--model", model.toString(), "--dataset",
                "vqav2:" + Fixtures.path("vqav2"), "--out", tmp.resolve("x.json").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--method must be adaptinfer or adatoken3d"), r.err());
    }
}
