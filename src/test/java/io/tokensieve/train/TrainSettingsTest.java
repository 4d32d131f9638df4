package io.tokensieve.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The copies of a {@link TrainSettings}: each changes the fields it names and keeps every other one. */
class TrainSettingsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Names of the record components whose values differ between two settings. */
    private static Set<String> changed(TrainSettings a, TrainSettings b) {
        JsonNode x = JSON.valueToTree(a);
        JsonNode y = JSON.valueToTree(b);
        Set<String> out = new TreeSet<>();
        x.fieldNames().forEachRemaining(f -> {
            if (!x.get(f).equals(y.get(f))) {
                out.add(f);
            }
        });
        assertEquals(x.size(), y.size());
        return out;
    }

    @Test
    void aCopyWithNoChangeEqualsTheOriginal() {
        // distinct values in every field, so a field copied from the wrong place shows
        TrainSettings t = TrainSettings.sieveTiny().continuing("/m", 3e-4f).withShapeFirstCaptions(0.25)
                .withPointAbsent(true).withPointSeg(true).withPoint3d(true).withSegRefine(12).withStepSchedule(true)
                .withPointSplit(false).withDataSeed(4321).withInitSeed(77).withLabel3d(true);
        assertEquals(t, t.with(e -> { }));
        assertEquals(TrainSettings.smoke(3), TrainSettings.smoke(3).with(e -> { }));
    }

    @Test
    void eachCopyChangesOnlyItsFields() {
        TrainSettings t = TrainSettings.sieveTiny();
        assertEquals(Set.of("steps"), changed(t, t.withSteps(7)));
        assertEquals(7, t.withSteps(7).steps());
        assertEquals(Set.of("visionSteps"), changed(t, t.withVisionSteps(9)));
        assertEquals(Set.of("maxMinutes"), changed(t, t.withMaxMinutes(3.5)));
        assertEquals(3.5, t.withMaxMinutes(3.5).maxMinutes());
        assertEquals(Set.of("shapeFirstCaptions"), changed(t, t.withShapeFirstCaptions(0.5)));
        assertEquals(Set.of("pointAbsent"), changed(t, t.withPointAbsent(true)));
        assertEquals(Set.of("pointSeg"), changed(t, t.withPointSeg(!t.pointSeg())));
        assertEquals(Set.of("pointWeight"), changed(t, t.withPointWeight(2.5f)));
        assertEquals(Set.of("point3d"), changed(t, t.withPoint3d(true)));
        assertEquals(Set.of("segRefine"), changed(t, t.withSegRefine(16)));
        assertEquals(Set.of("stepSchedule"), changed(t, t.withStepSchedule(true)));
        assertEquals(Set.of("pointSplit"), changed(t, t.withPointSplit(!t.pointSplit())));
        assertEquals(Set.of("position2dAfterProjector"), changed(t, t.withPosition2dAfterProjector(!t.position2dAfterProjector())));
        assertEquals(Set.of("position2d", "position2dAfterProjector"), changed(t, t.withPosition2d(false)),
                "the preset's table sits after the projector: off clears both");
        TrainSettings none = t.withPosition2d(false);
        assertEquals(Set.of("position2d", "position2dAfterProjector"), changed(none, none.withPosition2dAfterProjector(true)),
                "after the projector implies the table");
        assertEquals(Set.of("position2d"), changed(none, none.withPosition2d(true)));
        assertEquals(Set.of("label3d"), changed(t, t.withLabel3d(!t.label3d())));
        assertEquals(Set.of("patchPosition"), changed(t, t.withPatchPosition(true)));
        assertEquals(Set.of("positionOnTokens"), changed(t, t.withPositionOnTokens(true)));
        assertEquals(Set.of("positionShare"), changed(t, t.withPositionShare(0.5)));
        assertEquals(Set.of("positionReadout"), changed(t, t.withPositionReadout(4)));
        assertEquals(Set.of("readoutWeight"), changed(t, t.withReadoutWeight(0.25f)));
        assertEquals(Set.of("ropeTheta"), changed(t, t.withRopeTheta(1e6)));
        assertEquals(Set.of("keyLookupWeight"), changed(t, t.withKeyLookupWeight(0.5f)));
        assertEquals(Set.of("questionPointWeight"), changed(t, t.withQuestionPointWeight(2f)));
        assertEquals(Set.of("nameReadout"), changed(t, t.withNameReadout(3)));
        assertEquals(Set.of("earlyFraction"), changed(t, t.withEarlyShare(0.3)));
        assertEquals(t.mixture(), t.withEarlyShare(0).mixtureAt(0, 0), "share 0: the final mixture from the first step");
        assertEquals(t.earlyMixture(), t.withEarlyShare(0.3).mixtureAt((int) (0.29 * t.steps()), 0.29));
        assertEquals(t.mixture(), t.withEarlyShare(0.3).mixtureAt((int) (0.29 * t.steps()), 0.31), "the clock ends it too");
        for (double bad : new double[] {-0.1, 1.5, Double.NaN}) {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> t.withEarlyShare(bad));
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> t.withNameReadout(-1));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> t.withNameReadout(t.textLayers() + 1));
        for (float bad : new float[] {0f, -1f, Float.NaN, Float.POSITIVE_INFINITY}) {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> t.withQuestionPointWeight(bad));
        }
        for (float bad : new float[] {-1f, Float.NaN, Float.POSITIVE_INFINITY}) {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> t.withKeyLookupWeight(bad));
        }
        assertEquals(1e6, t.withRopeTheta(1e6).modelConfig(100, 4, 5, 1, 2, 3).text().ropeTheta());
        assertEquals(TrainSettings.DEFAULT_ROPE_THETA, t.modelConfig(100, 4, 5, 1, 2, 3).text().ropeTheta());
        for (double bad : new double[] {1, 0.5, -2, Double.NaN, Double.POSITIVE_INFINITY}) {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> t.withRopeTheta(bad));
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> t.withPositionReadout(t.textLayers() + 1));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> t.withPositionReadout(-1));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> t.withReadoutWeight(Float.NaN));
        assertEquals(Set.of("auxWeight"), changed(t, t.with(e -> e.auxWeight = 0f)));
        assertEquals(Set.of("dataSeed"), changed(t, t.withDataSeed(2000)));
        assertEquals(2000, t.withDataSeed(2000).dataSeed());
        assertEquals(Set.of("initSeed"), changed(t, t.withInitSeed(7)));
        assertEquals(7, t.withInitSeed(7).initSeed());
    }

    @Test
    void lrScalePatternsNameWeightsByPrefixWithStarsWithinOneNamePart() {
        TrainSettings t = TrainSettings.sieveTiny();
        assertEquals(Set.of("lrScales"), changed(t, t.withLrScale("readout", 5)));
        TrainSettings two = t.withLrScale("b", 2).withLrScale("a", 3);
        assertEquals(java.util.List.of("b", "a"), java.util.List.copyOf(two.lrScales().keySet()), "order kept");
        String v0 = "model.language_model.layers.0.self_attn.v_proj.weight";
        assertTrue(TrainSettings.lrScaleNames("model.language_model.layers.*.self_attn.v_proj", v0));
        assertTrue(TrainSettings.lrScaleNames("model.language_model.layers.*.self_attn.v_proj",
                "model.language_model.layers.12.self_attn.v_proj.weight"));
        assertFalse(TrainSettings.lrScaleNames("model.language_model.layers.*.self_attn.v_proj",
                "model.language_model.layers.0.self_attn.q_proj.weight"));
        assertFalse(TrainSettings.lrScaleNames("model.*.self_attn", v0), "a star does not cross a dot");
        assertTrue(TrainSettings.lrScaleNames("*.language_model", v0));
        assertTrue(TrainSettings.lrScaleNames("readout", "readout.0.weight"));
        assertFalse(TrainSettings.lrScaleNames("self_attn", v0), "a pattern is a prefix, not a substring");
        assertTrue(TrainSettings.lrScaleNames("a.(b)+", "a.(b)+.weight"));
        assertFalse(TrainSettings.lrScaleNames("a.(b)+", "a.bb.weight"), "other characters are literal");
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> t.withLrScale("x", bad));
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> t.withLrScale(" ", 2));
        // a training.json written before the option reads back without scales
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode old = json.valueToTree(t);
        old.remove("lrScales");
        old.remove("ropeTheta");
        old.remove("keyLookupWeight");
        old.remove("questionPointWeight");
        try {
            assertEquals(java.util.Map.of(), json.treeToValue(old, TrainSettings.class).lrScales());
            // and, written before --rope-theta, with the base its model was trained with
            assertEquals(TrainSettings.DEFAULT_ROPE_THETA, json.treeToValue(old, TrainSettings.class).ropeTheta());
            // and, written before --key-lookup-weight, without that loss
            assertEquals(0f, json.treeToValue(old, TrainSettings.class).keyLookupWeight());
            // and, written before --point-question-weight, with every pointing position alike
            assertEquals(1f, json.treeToValue(old, TrainSettings.class).questionPointWeight());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void trainingDataNeverComesFromTheTestSeeds() {
        TrainSettings t = TrainSettings.sieveTiny();
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> t.withDataSeed(FinalEvaluation.TEST_SEED));
        assertTrue(e.getMessage().contains("below 1000"), e.getMessage());
        assertEquals(TrainSettings.FIRST_TRAINING_SEED, t.withDataSeed(TrainSettings.FIRST_TRAINING_SEED).dataSeed());
    }

    @Test
    void aContinuationStartsFromTheModelWithTheFinalMixtureAndFreshData() {
        TrainSettings t = TrainSettings.sieveTiny();
        TrainSettings c = t.continuing("/models/x", 2e-4f);
        assertEquals(Set.of("peakLr", "dataSeed", "earlyMixture", "earlyFraction", "initFrom", "visionSteps"),
                changed(t, c));
        assertEquals(2e-4f, c.peakLr());
        assertEquals(t.dataSeed() + 1, c.dataSeed());
        assertEquals(t.mixture(), c.earlyMixture());
        assertEquals(0.0, c.earlyFraction());
        assertEquals("/models/x", c.initFrom());
        assertEquals(0, c.visionSteps());
        assertEquals(t.mixture(), c.mixtureAt(0));
    }

    @Test
    void theClockMovesTheCosineUnlessTheScheduleFollowsTheStepsAlone() {
        TrainSettings clock = TrainSettings.sieveTiny();
        int step = clock.warmupSteps() + 10; // early in the cosine: the rate is near its peak by the steps
        assertEquals(clock.lr(step, 0), clock.scheduledLr(step, 0.0));
        assertEquals(clock.lr(step, 0.9), clock.scheduledLr(step, 0.9));
        assertTrue(clock.scheduledLr(step, 0.9) < 0.2f * clock.peakLr(), "90% of the budget spent: near the floor");
        TrainSettings steps = clock.withStepSchedule(true);
        assertEquals(steps.lr(step, 0), steps.scheduledLr(step, 0.9), "the clock is ignored");
        assertTrue(steps.scheduledLr(step, 0.9) > 0.9f * steps.peakLr());
    }

    @Test
    void theClockMovesTheMixtureSwitchUnlessTheScheduleFollowsTheStepsAlone() {
        TrainSettings clock = TrainSettings.sieveTiny(); // early mixture for the first half of the steps
        assertTrue(clock.earlyFraction() > 0 && !clock.earlyMixture().equals(clock.mixture()));
        int lateStep = (int) Math.ceil(clock.earlyFraction() * clock.steps());
        assertEquals(clock.earlyMixture(), clock.mixtureAt(0, 0.0));
        assertEquals(clock.earlyMixture(), clock.mixtureAt(lateStep - 1, clock.earlyFraction() - 0.01));
        assertEquals(clock.mixture(), clock.mixtureAt(lateStep, 0.0), "by the steps");
        // a slow machine: 40% of the steps in 60% of the budget, and the late tracks (in-context, 3D) still come
        assertEquals(clock.mixture(), clock.mixtureAt((int) (0.4 * clock.steps()), 0.6), "by the clock");
        assertEquals(clock.mixtureAt(lateStep - 1), clock.mixtureAt(lateStep - 1, 0.0));
        TrainSettings steps = clock.withStepSchedule(true);
        assertEquals(steps.earlyMixture(), steps.mixtureAt((int) (0.4 * steps.steps()), 0.6), "the clock is ignored");
        assertEquals(steps.mixture(), steps.mixtureAt(lateStep, 0.0));
    }

    @Test
    void aBusyMachineIsWarnedAboutBeforeTraining() {
        assertEquals(null, Trainer.busyMachineWarning(0.2, 2), "an idle 2-core machine");
        String w = Trainer.busyMachineWarning(1.0, 2);
        assertTrue(w != null && w.contains("other processes are using 1.0 of this machine's 2 cores"), w);
        assertTrue(w.contains("without --step-schedule, changes the run"), w);
        assertEquals(null, Trainer.busyMachineWarning(1.0, 16), "one busy core of 16 is background");
        assertTrue(Trainer.busyMachineWarning(4.0, 16) != null);
        assertEquals(null, Trainer.busyMachineWarning(Double.NaN, 2));
    }
}
