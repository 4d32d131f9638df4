package io.tokensieve.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.config.PreprocessorConfig;
import io.tokensieve.core.image.ClipImageProcessor;
import io.tokensieve.core.model.LlavaForConditionalGeneration;
import io.tokensieve.core.text.WordLevelTokenizer;
import io.tokensieve.core.train.AuxPatchHead;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;
import io.tokensieve.datasets.shapes.PatchLabels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vision stage trains the vision tower and the patch-label head, and nothing else (but the projector, when the
 * head reads the projected tokens).
 */
class VisionStageTest {
    @TempDir
    Path tmp;

    @Test
    void onlyTheVisionTowerAndTheHeadMove() {
        TrainSettings s = TrainSettings.smoke(1).withVisionSteps(2);
        LlavaConfig c = config(s);
        try (NDManager base = NDManager.newBaseManager()) {
            ModelWeights w = trainableWeights(c, base);
            AuxPatchHead aux = new AuxPatchHead(base, s.visionWidth(),
                    new int[] {PatchLabels.COLOURS, PatchLabels.SHAPES, PatchLabels.GLYPHS}, 2);
            Map<String, float[]> before = snapshot(w.all());
            Map<String, float[]> headBefore = snapshot(aux.parameters());
            List<String> lines = Trainer.visionStage(s, new LlavaForConditionalGeneration(c, w), w, aux,
                    new ClipImageProcessor(PreprocessorConfig.clip(s.imageSize())), base, quiet());
            assertFalse(lines.isEmpty());
            assertTrue(lines.get(0).startsWith("vision step 1 "), lines.get(0));
            int vision = 0;
            for (Map.Entry<String, NDArray> e : w.all().entrySet()) {
                boolean same = Arrays.equals(before.get(e.getKey()), e.getValue().toFloatArray());
                if (e.getKey().startsWith(CheckpointKeys.VISION)) {
                    vision++;
                    // the pre-LLM layer norm is not read by the head (features are the last layer's, CLS dropped)
                    if (e.getKey().contains("patch_embedding") || e.getKey().contains("encoder.layers.")) {
                        assertFalse(same, e.getKey() + " did not move");
                    }
                } else {
                    assertTrue(same, e.getKey() + " moved, but the vision stage must touch only the vision tower");
                }
            }
            assertTrue(vision > 0, "no vision-tower weights found");
            for (Map.Entry<String, NDArray> e : aux.parameters().entrySet()) {
                assertFalse(Arrays.equals(headBefore.get(e.getKey()), e.getValue().toFloatArray()), e.getKey() + " did not move");
            }
        }
    }

    @Test
    void withPatchPositionsTheHeadAlsoLearnsColumnsAndRows() {
        TrainSettings s = TrainSettings.smoke(1).withVisionSteps(2).withPatchPosition(true);
        int[] classes = Trainer.auxClasses(s);
        assertEquals(5, classes.length);
        assertEquals(s.grid(), classes[3]);
        assertEquals(s.grid(), classes[4]);
        assertEquals(3, Trainer.auxClasses(s.withPatchPosition(false)).length);
        // the position embeddings, small in a tower trained without position, train at a higher rate; nothing else
        String pos = CheckpointKeys.positionEmbedding();
        assertEquals(Trainer.POSITION_LR_SCALE, Trainer.optimiser(s, false).learningRateScale(pos));
        assertEquals(1f, Trainer.optimiser(s.withPatchPosition(false), false).learningRateScale(pos));
        assertEquals(1f, Trainer.optimiser(s, false).learningRateScale(CheckpointKeys.VISION + "embeddings.patch_embedding.weight"));
        int[][] l = Trainer.patchLabels(io.tokensieve.datasets.shapes.ShapesBench.vqa(1000, 0).scene(), s);
        assertEquals(5, l.length);
        int[] owner = PatchLabels.objects(io.tokensieve.datasets.shapes.ShapesBench.vqa(1000, 0).scene(), s.grid());
        int objectCells = 0;
        for (int p = 0; p < owner.length; p++) {
            // an object's cell is labelled with its column and row; a background cell is left out (-1)
            assertEquals(owner[p] < 0 ? -1 : p % s.grid(), l[3][p], "column of cell " + p);
            assertEquals(owner[p] < 0 ? -1 : p / s.grid(), l[4][p], "row of cell " + p);
            objectCells += owner[p] < 0 ? 0 : 1;
        }
        assertTrue(objectCells > 0 && objectCells < owner.length, "objects own some cells, not all");
        LlavaConfig c = config(s);
        try (NDManager base = NDManager.newBaseManager()) {
            ModelWeights w = trainableWeights(c, base);
            AuxPatchHead aux = new AuxPatchHead(base, s.visionWidth(), classes, 2);
            Map<String, float[]> headBefore = snapshot(aux.parameters());
            Trainer.visionStage(s, new LlavaForConditionalGeneration(c, w), w, aux,
                    new ClipImageProcessor(PreprocessorConfig.clip(s.imageSize())), base, quiet());
            for (String k : List.of("aux.3.weight", "aux.4.weight")) {
                assertFalse(Arrays.equals(headBefore.get(k), aux.parameters().get(k).toFloatArray()), k + " did not move");
            }
        }
    }

    @Test
    void positionsOnTokensTrainTheProjectorInTheStageToo() throws Exception {
        TrainSettings s = TrainSettings.smoke(1).withVisionSteps(2).withPatchPosition(true).withPositionOnTokens(true);
        assertTrue(s.visionWidth() != s.textWidth(), "the smoke preset must tell the two widths apart");
        LlavaConfig c = config(s);
        try (NDManager base = NDManager.newBaseManager()) {
            AuxPatchHead aux = Trainer.auxHead(s, base);
            // colour, shape, glyph, column, row on the features; column, row again on the tokens
            assertEquals(7, aux.kinds());
            assertEquals(5, aux.tokenKindsFrom());
            assertEquals(new ai.djl.ndarray.types.Shape(s.grid(), s.visionWidth()), aux.parameters().get("aux.3.weight").getShape());
            assertEquals(new ai.djl.ndarray.types.Shape(s.grid(), s.textWidth()), aux.parameters().get("aux.5.weight").getShape());
            int[][] l = Trainer.patchLabels(io.tokensieve.datasets.shapes.ShapesBench.vqa(1000, 0).scene(), s);
            assertEquals(7, l.length);
            assertTrue(Arrays.equals(l[3], l[5]) && Arrays.equals(l[4], l[6]), "the token kinds have the same labels");
            assertEquals(new ai.djl.ndarray.types.Shape(PatchLabels.SHAPES, s.visionWidth()),
                    aux.parameters().get("aux.1.weight").getShape());
            assertFalse(Trainer.auxHead(s.withPositionOnTokens(false), base).readsTokens());
            assertFalse(Trainer.auxHead(s.withPatchPosition(false), base).readsTokens()); // no position kinds at all
            ModelWeights w = trainableWeights(c, base);
            Map<String, float[]> before = snapshot(w.all());
            Map<String, float[]> headBefore = snapshot(aux.parameters());
            List<String> lines = Trainer.visionStage(s, new LlavaForConditionalGeneration(c, w), w, aux,
                    new ClipImageProcessor(PreprocessorConfig.clip(s.imageSize())), base, quiet());
            // the projector it trains keeps the grounding loss, against the frozen embedding table
            assertTrue(lines.get(0).contains(" ground "), lines.get(0));
            for (String k : List.of("aux.3.weight", "aux.4.weight", "aux.5.weight", "aux.6.weight")) {
                assertFalse(Arrays.equals(headBefore.get(k), aux.parameters().get(k).toFloatArray()), k + " did not move");
            }
            int projector = 0;
            for (Map.Entry<String, NDArray> e : w.all().entrySet()) {
                boolean same = Arrays.equals(before.get(e.getKey()), e.getValue().toFloatArray());
                if (e.getKey().startsWith(CheckpointKeys.PROJECTOR)) {
                    projector++;
                    assertFalse(same, e.getKey() + " did not move: the position kinds read through the projector");
                } else if (!e.getKey().startsWith(CheckpointKeys.VISION)) {
                    assertTrue(same, e.getKey() + " moved");
                }
                // no gradient is left for the full recipe's first step
                if (e.getValue().hasGradient()) {
                    assertEquals(0f, e.getValue().getGradient().abs().sum().getFloat(), e.getKey() + " kept a gradient");
                }
            }
            assertTrue(projector > 0, "no projector weights found");
        }
        // the full recipe reads the tokens too, and a run records the option
        Path out = tmp.resolve("tokens");
        new Trainer(s.withVisionSteps(1), out, quiet()).run(false);
        JsonNode info = new ObjectMapper().readTree(out.resolve(Trainer.TRAINING_INFO).toFile());
        assertTrue(info.get("settings").get("positionOnTokens").asBoolean(), info.get("settings").toString());
    }

    @Test
    void aRunRecordsItsVisionStage() throws Exception {
        Path out = tmp.resolve("m");
        new Trainer(TrainSettings.smoke(1).withVisionSteps(1), out, quiet()).run(false);
        JsonNode info = new ObjectMapper().readTree(out.resolve(Trainer.TRAINING_INFO).toFile());
        assertEquals(1, info.get("settings").get("visionSteps").asInt());
        assertTrue(info.get("loss_log").toString().contains("vision step 1 "), info.get("loss_log").toString());
        // the checkpoint keeps the stage's time, so a resumed run's schedule still leaves it out
        JsonNode state = new ObjectMapper().readTree(out.resolve(Trainer.CHECKPOINT).resolve(Trainer.STATE).toFile());
        assertTrue(state.get("vision_stage_seconds").asDouble() > 0, state.toString());
        assertTrue(state.get("elapsed_seconds").asDouble() >= state.get("vision_stage_seconds").asDouble());
        // the stage needs the head it trains
        TrainSettings noHead = TrainSettings.smoke(1).withVisionSteps(1);
        TrainSettings bare = noHead.with(e -> e.auxWeight = 0f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Trainer(bare, tmp.resolve("bare"), quiet()).run(false));
        assertTrue(e.getMessage().contains("patch-label head"), e.getMessage());
    }

    @Test
    void settingsWrittenBeforeTheStageExistedReadAsNoStage() throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode old = json.valueToTree(TrainSettings.sieveTiny());
        assertTrue(old.has("visionSteps"));
        old.remove("visionSteps"); // a training.json written before the field existed
        TrainSettings s = json.treeToValue(old, TrainSettings.class);
        assertEquals(0, s.visionSteps());
        assertEquals(TrainSettings.sieveTiny().withVisionSteps(0), s);
    }

    @Test
    void theFullRecipesClockLeavesOutTheStage() {
        // 85-minute budget, a 15-minute stage: the full recipe's cosine runs over the other 70 minutes
        assertEquals(0.0, Trainer.fullRecipeTimeFraction(15 * 60, 15 * 60, 85), 1e-12);
        assertEquals(0.5, Trainer.fullRecipeTimeFraction(50 * 60, 15 * 60, 85), 1e-12);
        assertEquals(1.0, Trainer.fullRecipeTimeFraction(85 * 60, 15 * 60, 85), 1e-12);
        // without a stage it is the plain fraction of the budget
        assertEquals(0.25, Trainer.fullRecipeTimeFraction(30 * 60, 0, 120), 1e-12);
        // a stage that used the whole budget leaves the schedule at its end
        assertEquals(1.0, Trainer.fullRecipeTimeFraction(90 * 60, 90 * 60, 85), 1e-12);
    }

    /** The model configuration a run of these settings trains, with the training tokenizer's special tokens. */
    private static LlavaConfig config(TrainSettings s) {
        WordLevelTokenizer wl = Trainer.tokenizer();
        return s.modelConfig(wl.size(), wl.id(WordLevelTokenizer.IMAGE), wl.id(WordLevelTokenizer.SEG),
                wl.id(WordLevelTokenizer.BOS), wl.id(WordLevelTokenizer.EOS), wl.id(WordLevelTokenizer.PAD));
    }

    private static ModelWeights trainableWeights(LlavaConfig c, NDManager base) {
        ModelWeights w = ModelWeights.random(c, 1, 0.02f, base);
        w.setTrainable(true);
        return w;
    }

    private static Map<String, float[]> snapshot(Map<String, NDArray> params) {
        Map<String, float[]> m = new LinkedHashMap<>();
        params.forEach((k, v) -> m.put(k, v.toFloatArray()));
        return m;
    }

    @Test
    void aRunStoppedInsideTheVisionStageResumesWhereAnUninterruptedRunEnds() throws Exception {
        TrainSettings s = TrainSettings.smoke(1).withVisionSteps(3).withMaxMinutes(30);
        Path full = tmp.resolve("full");
        Trainer.Outcome a = new Trainer(s, full, quiet()).run(false);
        assertTrue(a.finished());

        // a zero budget stops after the first vision step: a checkpoint of the stage and no model
        Path cut = tmp.resolve("cut");
        Trainer.Outcome first = new Trainer(s.withMaxMinutes(0), cut, quiet()).run(false);
        assertTrue(first.inVisionStage());
        assertEquals(1, first.visionSteps());
        assertFalse(java.nio.file.Files.exists(cut.resolve("model.safetensors")), "a stopped stage writes no model");
        Path ckpt = cut.resolve(Trainer.CHECKPOINT);
        JsonNode state = new ObjectMapper().readTree(ckpt.resolve(Trainer.STATE).toFile());
        assertEquals(Trainer.VISION_STAGE, state.get("stage").asText(), state.toString());
        assertEquals(1, state.get("vision_step").asInt());
        assertEquals(0, state.get("step").asInt());
        assertTrue(state.get("loss_log").toString().contains("vision step 1 "), state.toString());
        assertTrue(state.get("vision_stage_seconds").asDouble() > 0);

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Trainer.Outcome b = new Trainer(s, cut, new PrintStream(log, true, java.nio.charset.StandardCharsets.UTF_8)).run(true);
        assertTrue(b.finished());
        assertEquals(1, b.steps());
        assertTrue(log.toString(java.nio.charset.StandardCharsets.UTF_8).contains("resuming the vision stage from step 1 of 3"),
                log.toString(java.nio.charset.StandardCharsets.UTF_8));
        // the stage's moments, images and learning rates carried over: the same weights as the uninterrupted run (a
        // restarted stage or a fresh optimiser would differ by whole updates, learning rate 2e-3)
        io.tokensieve.core.weights.SafetensorsReader ra = io.tokensieve.core.weights.SafetensorsReader.openDir(full);
        io.tokensieve.core.weights.SafetensorsReader rb = io.tokensieve.core.weights.SafetensorsReader.openDir(cut);
        assertEquals(ra.tensors().keySet(), rb.tensors().keySet());
        double maxDiff = 0;
        int vision = 0;
        for (String k : ra.tensors().keySet()) {
            float[] x = ra.readFloats(k);
            float[] y = rb.readFloats(k);
            for (int i = 0; i < x.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
            }
            vision += k.startsWith(CheckpointKeys.VISION) ? 1 : 0;
        }
        assertTrue(vision > 0, "no vision weights");
        assertTrue(maxDiff < 2e-4, "resumed run differs from the uninterrupted one by " + maxDiff);
        // the full recipe's checkpoint replaced the stage's
        JsonNode after = new ObjectMapper().readTree(ckpt.resolve(Trainer.STATE).toFile());
        assertFalse(after.has("stage"), after.toString());
        assertEquals(1, after.get("step").asInt());
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }
}
