package io.tokensieve.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The card is regenerated from measurements; hand-written notes beside the model survive every regeneration. */
class ModelCardTest {
    @Test
    void handWrittenNotesSurviveRegeneration(@TempDir Path dir) throws Exception {
        TrainSettings s = TrainSettings.smoke(2);
        var wl = Trainer.tokenizer();
        s.modelConfig(wl.size(), 4, 5, 1, 2, 3).save(dir);
        ModelCard.Training t = new ModelCard.Training(s, 2, 0.1, List.of("step 2 loss 1.0"), "test machine");
        ModelCard.write(dir, t, Map.of());
        String plain = Files.readString(dir.resolve("README.md"));
        assertFalse(plain.contains("Known gap"), "no notes, no section");
        assertTrue(plain.contains("caption"), "the card names the training-only caption task");

        Files.writeString(dir.resolve(ModelCard.NOTES), "## Known gap\n\nmeasured: something\n");
        ModelCard.write(dir, t, Map.of());
        ModelCard.write(dir, t, Map.of());
        String card = Files.readString(dir.resolve("README.md"));
        assertTrue(card.startsWith(plain.strip()), "the generated part is unchanged");
        assertEquals(1, card.split("## Known gap", -1).length - 1, "the notes appear exactly once");
        assertTrue(card.strip().endsWith("measured: something"), card);
    }

    @Test
    void theCommittedModelIsThePreset() throws Exception {
        // the card's reproduce row for the bundled model is the preset alone: `./sieve train --preset sieve-tiny`
        // trains what is committed (up to the time budget, which stops a slower machine earlier)
        Path info = Path.of("..", "models", "sieve-tiny", Trainer.TRAINING_INFO);
        var settings = new com.fasterxml.jackson.databind.ObjectMapper().readTree(info.toFile()).get("settings");
        TrainSettings committed = new com.fasterxml.jackson.databind.ObjectMapper().treeToValue(settings, TrainSettings.class);
        assertEquals("", ModelCard.options(committed, TrainSettings.sieveTiny()));
        assertEquals(TrainSettings.sieveTiny(), committed);
    }

    @Test
    void theReproduceRowNamesOnlyWhatDiffersFromThePreset(@TempDir Path dir) throws Exception {
        TrainSettings preset = TrainSettings.sieveTiny();
        var wl = Trainer.tokenizer();
        preset.modelConfig(wl.size(), 4, 5, 1, 2, 3).save(dir);
        assertEquals("`./sieve train --preset sieve-tiny --out DIR`", reproduce(dir, preset));
        assertEquals("`./sieve train --preset sieve-tiny --vision-steps 7 --steps 9 --out DIR`",
                reproduce(dir, preset.withVisionSteps(7).withSteps(9)));
        assertEquals("`./sieve train --preset sieve-tiny --point-absent=" + !preset.pointAbsent() + " --out DIR`",
                reproduce(dir, preset.withPointAbsent(!preset.pointAbsent())));
        assertEquals("`./sieve train --preset sieve-tiny --shape-first-captions 0.25 --out DIR`",
                reproduce(dir, preset.withShapeFirstCaptions(0.25)));
        assertEquals("`./sieve train --preset sieve-tiny --point-weight 3.0 --out DIR`",
                reproduce(dir, preset.withPointWeight(3f)));
        assertEquals("`./sieve train --preset sieve-tiny --point-seg=" + !preset.pointSeg() + " --point-3d="
                + !preset.point3d() + " --out DIR`",
                reproduce(dir, preset.withPointSeg(!preset.pointSeg()).withPoint3d(!preset.point3d())));
        assertEquals("`./sieve train --preset sieve-tiny --point-split=" + !preset.pointSplit() + " --out DIR`",
                reproduce(dir, preset.withPointSplit(!preset.pointSplit())));
        assertEquals("`./sieve train --preset sieve-tiny --patch-position=" + !preset.patchPosition() + " --out DIR`",
                reproduce(dir, preset.withPatchPosition(!preset.patchPosition())));
        assertEquals("`./sieve train --preset sieve-tiny --label-3d=" + !preset.label3d() + " --out DIR`",
                reproduce(dir, preset.withLabel3d(!preset.label3d())));
        assertEquals("`./sieve train --preset sieve-tiny --patch-position=true --position-on-tokens=true --out DIR`",
                reproduce(dir, preset.withPatchPosition(true).withPositionOnTokens(true)));
        assertEquals("`./sieve train --preset sieve-tiny --position-2d=false --out DIR`",
                reproduce(dir, preset.withPosition2d(false)), "off clears the table wherever it sits");
        assertEquals("`./sieve train --preset sieve-tiny --position-2d-after-projector=false --out DIR`",
                reproduce(dir, preset.withPosition2dAfterProjector(false)), "the table before the projector");
        TrainSettings none = preset.withPosition2d(false);
        assertEquals(" --position-2d=true", ModelCard.options(none.withPosition2d(true), none), "against a preset without it");
        assertEquals(" --position-2d-after-projector=true", ModelCard.options(none.withPosition2dAfterProjector(true), none));
        assertEquals("`./sieve train --preset sieve-tiny --position-share 0.5 --out DIR`",
                reproduce(dir, preset.withPositionShare(0.5)));
        // the preset reads out names; the position read-out takes its place
        assertEquals("`./sieve train --preset sieve-tiny --position-readout 4 --name-readout 0 --out DIR`",
                reproduce(dir, preset.withNameReadout(0).withPositionReadout(4)));
        assertEquals("`./sieve train --preset sieve-tiny --position-readout 4 --name-readout 0 --readout-weight 0.5 --out DIR`",
                reproduce(dir, preset.withNameReadout(0).withPositionReadout(4).withReadoutWeight(0.5f)));
        assertEquals("`./sieve train --preset sieve-tiny --name-readout 0 --out DIR`",
                reproduce(dir, preset.withNameReadout(0).withReadoutWeight(0.5f)), "a weight without a read-out changes nothing");
        assertEquals("`./sieve train --preset sieve-tiny --readout-weight 0.5 --out DIR`",
                reproduce(dir, preset.withReadoutWeight(0.5f)), "the preset's name read-out at another weight");
        assertEquals("`./sieve train --preset sieve-tiny --lr-scale 'model.*.x=5.0' --lr-scale readout=2.0 --out DIR`",
                reproduce(dir, preset.withLrScale("model.*.x", 5).withLrScale("readout", 2)));
        assertEquals("`./sieve train --preset sieve-tiny --seg-refine 16 --out DIR`", reproduce(dir, preset.withSegRefine(16)));
        assertEquals("`./sieve train --preset sieve-tiny --rope-theta 1000000 --out DIR`", reproduce(dir, preset.withRopeTheta(1e6)));
        assertEquals("`./sieve train --preset sieve-tiny --key-lookup-weight 0.5 --out DIR`",
                reproduce(dir, preset.withKeyLookupWeight(0.5f)));
        assertEquals("`./sieve train --preset sieve-tiny --point-question-weight 2.0 --out DIR`",
                reproduce(dir, preset.withQuestionPointWeight(2f)));
        assertEquals("`./sieve train --preset sieve-tiny --key-lookup-weight 0.0 --point-question-weight 1.0 --out DIR`",
                reproduce(dir, preset.withKeyLookupWeight(0f).withQuestionPointWeight(1f)), "the lookup options turned off");
        assertEquals("`./sieve train --preset sieve-tiny --early-share 0.3 --out DIR`", reproduce(dir, preset.withEarlyShare(0.3)));
        assertTrue(dataRow(dir, preset.withEarlyShare(0.3)).contains(" for the first 30% of the steps"));
        String noEarly = dataRow(dir, preset.withEarlyShare(0));
        assertFalse(noEarly.contains("for the first"), "no early mixture, no share of it: " + noEarly);
        assertTrue(noEarly.contains("tracks and weights " + preset.mixture() + ";"), noEarly);
        assertEquals("`./sieve train --preset sieve-tiny --name-readout 3 --readout-weight 0.5 --out DIR`",
                reproduce(dir, preset.withNameReadout(3).withReadoutWeight(0.5f)));
        assertEquals("`./sieve train --preset sieve-tiny --rope-theta 20000.5 --out DIR`", reproduce(dir, preset.withRopeTheta(20000.5)));
        assertEquals("`./sieve train --preset sieve-tiny --step-schedule=true --out DIR`",
                reproduce(dir, preset.withStepSchedule(true)));
        assertEquals("`./sieve train --preset sieve-tiny --data-seed 2000 --init-seed 3 --out DIR`",
                reproduce(dir, preset.withDataSeed(2000).withInitSeed(3)));
        // a continuation's own data seed (the preset's + 1) is implied by --init-from; another one is named
        String cont = reproduceRow(dir, preset.continuing("/m", 5e-4f));
        assertTrue(cont.contains("--init-from STAGE1"), cont);
        assertFalse(cont.contains("--data-seed"), cont);
        String moved = reproduceRow(dir, preset.continuing("/m", 5e-4f).withDataSeed(3001));
        assertTrue(moved.contains("--data-seed 3001 --out DIR"), moved);
    }

    /** The (first) command of the card's reproduce row. */
    private static String reproduce(Path dir, TrainSettings s) throws Exception {
        String row = reproduceRow(dir, s);
        return row.substring(row.indexOf('`'), row.indexOf('`', row.indexOf('`') + 1) + 1);
    }

    /** The card's data row. */
    private static String dataRow(Path dir, TrainSettings s) throws Exception {
        ModelCard.write(dir, new ModelCard.Training(s, s.steps(), 1.0, List.of(), "test machine"), Map.of());
        return Files.readString(dir.resolve("README.md")).lines().filter(l -> l.startsWith("| data |"))
                .findFirst().orElseThrow();
    }

    /** The card's whole reproduce row. */
    private static String reproduceRow(Path dir, TrainSettings s) throws Exception {
        ModelCard.write(dir, new ModelCard.Training(s, s.steps(), 1.0, List.of(), "test machine"), Map.of());
        return Files.readString(dir.resolve("README.md")).lines().filter(l -> l.startsWith("| reproduce |"))
                .findFirst().orElseThrow();
    }
}
