package io.tokensieve.train;

import io.tokensieve.core.config.LlavaConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The model card ({@code README.md} in the model folder): configuration, data and seeds, steps and wall time,
 * and the measured test-split scores per track, unpruned and with random pruning at 11% and 33%, with each
 * target marked met or not.
 */
public final class ModelCard {
    private ModelCard() {}

    /** What the card needs to know about the training run. */
    public record Training(TrainSettings settings, int steps, double wallMinutes, List<String> lossLog, String machine) {}

    public static void write(Path modelDir, Training t, Map<String, Object> results) throws IOException {
        LlavaConfig c = LlavaConfig.load(modelDir);
        TrainSettings s = t.settings();
        StringBuilder b = new StringBuilder();
        b.append("# sieve-tiny\n\n");
        b.append("The embedded default model of TokenSieve: a small LLaVA-architecture vision-language model trained from "
                + "scratch on ShapesBench by `sieve train`, saved in HF LLaVA format (`config.json`, `model.safetensors`, "
                + "`tokenizer.json`, `preprocessor_config.json`), so the runtime loads it like any LLaVA checkpoint. It exists "
                + "so that every pruner can be tried offline on a real model with real attention; it knows nothing but "
                + "ShapesBench.\n\n");
        b.append("## Configuration\n\n| part | value |\n|---|---|\n");
        b.append(row("vision tower", String.format(Locale.ROOT, "CLIP-style ViT, %d px images, patch %d -> %d visual tokens "
                        + "(%dx%d), width %d, %d layers, %d heads, features from layer %s (CLS dropped)", c.vision().imageSize(),
                c.vision().patchSize(), c.tokensPerImage(), c.vision().gridSize(), c.vision().gridSize(), c.vision().hiddenSize(),
                c.vision().numHiddenLayers(), c.vision().numAttentionHeads(), c.visionFeatureLayers())));
        b.append(row("projector", "linear - GELU - linear (" + c.projectorInputSize() + " -> " + c.text().hiddenSize() + ")"));
        b.append(row("language model", String.format(Locale.ROOT, "LLaMA-style decoder, width %d, %d layers, %d query heads / %d "
                        + "key-value heads, SwiGLU FFN %d, RoPE theta %.0f, vocabulary %d (word level)", c.text().hiddenSize(),
                c.text().numHiddenLayers(), c.text().numAttentionHeads(), c.text().numKeyValueHeads(),
                c.text().intermediateSize(), c.text().ropeTheta(), c.text().vocabSize())));
        b.append(row("extras", "LISA-style `[SEG]` mask head (token " + c.extras().segTokenIndex() + "; the [SEG] hidden state "
                + "against the patch features and " + c.extras().segCell() + "-pixel cells of the full image, "
                + c.vision().imageSize() / c.extras().segCell() + "x" + c.vision().imageSize() / c.extras().segCell()
                + " mask" + (c.extras().segRefineHidden() > 0 ? ", refined per cell by a " + c.extras().segRefineHidden()
                + "-unit layer over the coarse and fine logits and the cell's colour distance to the masked colour" : "")
                + "); LLaVA-3D-style 3D position embedding of each patch's xyz, added to multi-view vision features"
                + (c.extras().positionEmbedding2d() ? "; learned 2D position embedding of each patch's cell, added to "
                + (c.extras().positionEmbedding2dAfterProjector() ? "the projected visual tokens (decoder width)"
                        : "the vision features") + " of single and in-context images" : "")));
        b.append(row("prompt", "LLaVA-1.5 template `USER: <image>\\n{question} ASSISTANT:`"));
        b.append('\n');
        b.append("## Training\n\n| item | value |\n|---|---|\n");
        b.append(row("data", "ShapesBench generated on the fly (no example repeats), tracks and weights "
                + (s.earlyFraction() == 0 ? "" : s.earlyMixture() + " for the first " + Math.round(100 * s.earlyFraction())
                + "% of the steps" + (s.stepSchedule() ? "" : " (or of the time budget, whichever ends first)") + ", then ")
                + s.mixture()
                + "; in-context episodes with " + s.shots() + " demos, 3D scenes with " + s.views() + " views"
                + (s.mixture().containsKey("caption") || s.earlyMixture().containsKey("caption")
                ? "; `caption` is a training-only alignment task (\"What objects are there?\" answered with every visible "
                + "object left to right: colour, shape, printed character" + (s.shapeFirstCaptions() > 0
                ? String.format(Locale.ROOT, "; %.0f%% of captions ask \"%s\" and name each shape before its colour",
                100 * s.shapeFirstCaptions(), CaptionExample.SHAPE_FIRST_QUESTION) : "") + ")" : "")));
        b.append(row("seeds", "training data seed " + s.dataSeed() + " (ShapesBench seeds 1000 and up are training data), "
                + "initialisation seed " + s.initSeed() + "; test split seed " + FinalEvaluation.TEST_SEED));
        b.append(row("optimisation", String.format(Locale.ROOT, "AdamW (0.9, 0.98), batch %d, peak LR %.1e with %d warm-up steps "
                        + "then cosine to %.0f%%" + (s.stepSchedule() ? " over the steps" : " over the steps or the time budget, "
                        + "whichever is further along") + ", weight decay %.2f, gradient clip %.1f, mask loss weight %.1f (BCE + Dice); "
                        + "training-only losses: patch-label head on the vision features %.1f, grounding of the projected "
                        + "visual tokens against the words of their patch labels %.1f" + (s.label3d() ? " (3D views too: "
                        + "colour and 3D shape)" : "") + ", next-token loss on prompt text %.1f, "
                        + "attention pointing (heads of middle decoder layers, at answer positions, onto the patches of the objects "
                        + "the question or caption word refers to%s) %.1f%s",
                s.batchSize(), s.peakLr(), s.warmupSteps(), 100 * s.minLrFraction(), s.weightDecay(), s.clipNorm(),
                s.segWeight(), s.auxWeight(), s.groundWeight(), s.promptWeight(),
                (s.pointAbsent() ? "; onto the first token when it names no object that is there" : "")
                        + (s.pointSeg() ? "; the [SEG] position onto the referred object" + (s.pointSegAnchor()
                        ? (s.pointSegAnchorUnpointed() ? " (for a reasoning sentence, the heads after the pointed ones onto "
                        + "the object it names)" : " (for a reasoning sentence, half of the heads onto the object it names)")
                        : "") : "")
                        + (s.point3d() ? "; 3D answers onto their objects in every view" : "")
                        + (s.pointSplit() ? "; a question comparing two objects, half of the heads onto each" : "")
                        + (s.pointCountSink() ? "; a count shared evenly among the counted objects and the first token"
                        : ""),
                s.pointWeight(),
                (s.questionPointWeight() != 1 ? String.format(Locale.ROOT, " (a question's pointing position %.1f "
                        + "times a caption word's)", s.questionPointWeight()) : "")
                        + (s.keyLookupWeight() > 0 ? String.format(Locale.ROOT, ", key lookup (a learned query per colour and "
                        + "per shape finds those patches through the pointed heads' keys) %.1f", s.keyLookupWeight()) : ""))));
        b.append(row("steps", (s.visionSteps() > 0 ? s.visionSteps() + " vision-stage steps (the vision tower and the "
                + "patch-label head alone, images of data seed " + (s.dataSeed() + Trainer.VISION_SEED_OFFSET) + "), then " : "")
                + t.steps() + " of " + s.steps() + " planned" + (t.steps() < s.steps()
                ? " (stopped by the " + String.format(Locale.ROOT, "%.0f", s.maxMinutes()) + "-minute budget)" : "")));
        b.append(row("wall time", String.format(Locale.ROOT, "%.1f minutes of training on %s", t.wallMinutes(), t.machine())));
        if (s.initFrom() != null) {
            b.append(row("initialisation", firstStage(modelDir)));
        }
        if (!t.lossLog().isEmpty()) {
            b.append(row("last logged losses", t.lossLog().get(t.lossLog().size() - 1)));
        }
        String options = options(s, TrainSettings.sieveTiny());
        b.append(row("reproduce", s.initFrom() == null
                ? "`./sieve train --preset sieve-tiny" + options + " --out DIR` (add `--resume` after an interruption)"
                : String.format(Locale.ROOT, "`./sieve train --preset sieve-tiny --out STAGE1 --no-eval`, then `./sieve train "
                + "--init-from STAGE1 --peak-lr %.0e --steps %d --max-minutes %.0f%s --out DIR` (add `--resume` after an "
                + "interruption)", s.peakLr(), s.steps(), s.maxMinutes(), options)));
        b.append('\n');

        b.append("## Test-split scores (ShapesBench seed " + FinalEvaluation.TEST_SEED + ", greedy)\n\n");
        b.append("Measured by `sieve train` after training (re-run with `sieve train --eval-only --out DIR`), through the "
                + "benchmark loaders, the runtime and the official scorers. `random` keeps a seeded random subset of the "
                + "visual tokens of each image before the LLM.\n\n");
        b.append("| track | metric | n | unpruned | random 33% | random 11% |\n|---|---|---|---|---|---|\n");
        for (String f : List.of("vqav2", "pope", "reasonseg", "icl", "scanqa")) {
            if (!results.containsKey(f)) {
                continue;
            }
            b.append("| ").append(f).append(" | ").append(metric(results, f)).append(" | ")
                    .append(fmt0(FinalEvaluation.value(results, f, "none", "n"))).append(" | ")
                    .append(fmt(FinalEvaluation.value(results, f, "none", "headline"))).append(" | ")
                    .append(fmt(FinalEvaluation.value(results, f, "random:keep=0.33", "headline"))).append(" | ")
                    .append(fmt(FinalEvaluation.value(results, f, "random:keep=0.11", "headline"))).append(" |\n");
        }
        b.append('\n');
        Map<String, Double> families = families(results);
        if (!families.isEmpty()) {
            b.append("VQA accuracy per question family (unpruned): ");
            families.forEach((k, v) -> b.append(k).append(" ").append(fmt(v)).append(", "));
            b.setLength(b.length() - 2);
            b.append(".\n\n");
        }

        b.append("## Targets\n\n| target | measured | met |\n|---|---|---|\n");
        double vqa = FinalEvaluation.value(results, "vqav2", "none", "headline");
        target(b, "VQA overall >= 90", vqa, vqa >= 90);
        double minFamily = families.entrySet().stream().filter(e -> !e.getKey().equals("reading"))
                .mapToDouble(Map.Entry::getValue).min().orElse(Double.NaN);
        target(b, "every VQA question family >= 75 (reading apart)", minFamily, minFamily >= 75);
        double reading = families.getOrDefault("reading", Double.NaN);
        target(b, "VQA reading >= 70", reading, reading >= 70);
        double f1 = FinalEvaluation.value(results, "pope", "none", "headline");
        target(b, "POPE F1 >= 90", f1, f1 >= 90);
        double giou = FinalEvaluation.value(results, "reasonseg", "none", "headline");
        target(b, "segmentation gIoU >= 60", giou, giou >= 60);
        double icl = FinalEvaluation.value(results, "icl", "none", "headline");
        target(b, "in-context accuracy >= 70", icl, icl >= 70);
        double threeD = FinalEvaluation.value(results, "scanqa", "none", "headline");
        target(b, "3D EM@1 >= 70", threeD, threeD >= 70);
        double drop = vqa - FinalEvaluation.value(results, "vqav2", "random:keep=0.11", "headline");
        target(b, "random at 11% loses >= 10 VQA points", drop, drop >= 10);
        b.append('\n');
        Path notes = modelDir.resolve(NOTES);
        if (Files.isRegularFile(notes)) {
            b.append(Files.readString(notes).strip()).append('\n');
        }
        Files.writeString(modelDir.resolve("README.md"), b.toString());
    }

    /** The first stage of a continued run, from the {@code init_from_training} block of training.json. */
    private static String firstStage(Path modelDir) throws IOException {
        String head = "continued from the weights of a finished run (`--init-from`)";
        Path info = modelDir.resolve(Trainer.TRAINING_INFO);
        if (!Files.isRegularFile(info)) {
            return head;
        }
        com.fasterxml.jackson.databind.JsonNode first = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(info.toFile()).get("init_from_training");
        if (first == null) {
            return head;
        }
        com.fasterxml.jackson.databind.JsonNode fs = first.get("settings");
        return head + String.format(Locale.ROOT, ": %d steps in %.1f minutes, peak LR %s, data seed %s, mixture %s for the "
                        + "first %.0f%% of its steps then %s", first.get("steps").asInt(), first.get("wall_minutes").asDouble(),
                fs.get("peakLr").asText(), fs.get("dataSeed").asText(), fs.get("earlyMixture"),
                100 * fs.get("earlyFraction").asDouble(), fs.get("mixture"));
    }

    /** Hand-written findings kept beside the model and appended to every regenerated card. */
    public static final String NOTES = "card_notes.md";

    /**
     * The 2D-embedding options that turn the preset's into these (after the projector implies the table; off clears
     * both).
     */
    private static String position2dOptions(TrainSettings s, TrainSettings preset) {
        if (s.position2d() == preset.position2d() && s.position2dAfterProjector() == preset.position2dAfterProjector()) {
            return "";
        }
        if (s.position2dAfterProjector()) {
            return " --position-2d-after-projector=true";
        }
        if (!s.position2d()) {
            return " --position-2d=false";
        }
        return preset.position2dAfterProjector() ? " --position-2d-after-projector=false" : " --position-2d=true";
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Double> families(Map<String, Object> results) {
        Map<String, Double> out = new java.util.TreeMap<>();
        Object v = results.get("vqav2");
        if (v instanceof Map<?, ?> m && m.get("none") instanceof Map<?, ?> none
                && none.get("metrics") instanceof Map<?, ?> metrics
                && metrics.get("per_question_type") instanceof Map<?, ?> per) {
            ((Map<String, Object>) per).forEach((k, x) -> {
                if (x instanceof Number n) {
                    out.put(k, n.doubleValue());
                }
            });
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static String metric(Map<String, Object> results, String f) {
        Object t = results.get(f);
        if (t instanceof Map<?, ?> m && m.get("none") instanceof Map<?, ?> none) {
            return String.valueOf(none.get("headline_metric"));
        }
        return "-";
    }

    private static void target(StringBuilder b, String what, double value, boolean met) {
        b.append("| ").append(what).append(" | ").append(fmt(value)).append(" | ")
                .append(Double.isNaN(value) ? "not measured" : met ? "yes" : "no").append(" |\n");
    }

    /**
     * The {@code sieve train} options that turn the preset into these settings (for a continuation, the ones it adds
     * beyond {@code --init-from} and its schedule).
     */
    static String options(TrainSettings s, TrainSettings preset) {
        StringBuilder o = new StringBuilder();
        if (s.initFrom() == null) {
            o.append(s.visionSteps() != preset.visionSteps() ? " --vision-steps " + s.visionSteps() : "");
            o.append(s.steps() != preset.steps() ? " --steps " + s.steps() : "");
            o.append(s.earlyFraction() != preset.earlyFraction() ? " --early-share " + s.earlyFraction() : "");
        }
        long presetData = s.initFrom() == null ? preset.dataSeed() : preset.continuing(s.initFrom(), s.peakLr()).dataSeed();
        o.append(s.dataSeed() != presetData ? " --data-seed " + s.dataSeed() : "");
        o.append(s.initSeed() != preset.initSeed() ? " --init-seed " + s.initSeed() : "");
        o.append(s.pointWeight() != preset.pointWeight() ? " --point-weight " + s.pointWeight() : "");
        o.append(s.keyLookupWeight() != preset.keyLookupWeight() ? " --key-lookup-weight " + s.keyLookupWeight() : "");
        o.append(s.questionPointWeight() != preset.questionPointWeight()
                ? " --point-question-weight " + s.questionPointWeight() : "");
        o.append(s.pointAbsent() != preset.pointAbsent() ? " --point-absent=" + s.pointAbsent() : "");
        o.append(s.pointSeg() != preset.pointSeg() ? " --point-seg=" + s.pointSeg() : "");
        o.append(s.pointSegAnchor() != preset.pointSegAnchor() ? " --point-seg-anchor=" + s.pointSegAnchor() : "");
        o.append(s.pointSegAnchorUnpointed() != preset.pointSegAnchorUnpointed()
                ? " --point-seg-anchor-unpointed=" + s.pointSegAnchorUnpointed() : "");
        o.append(s.position2dLinear() != preset.position2dLinear()
                ? " --position-2d-linear " + s.position2dLinear() : "");
        o.append(s.valuePositionWeight() != preset.valuePositionWeight()
                ? " --value-position-weight " + s.valuePositionWeight() : "");
        o.append(s.pointCountSink() != preset.pointCountSink() ? " --point-count-sink=" + s.pointCountSink() : "");
        o.append(s.point3d() != preset.point3d() ? " --point-3d=" + s.point3d() : "");
        o.append(s.pointSplit() != preset.pointSplit() ? " --point-split=" + s.pointSplit() : "");
        o.append(s.patchPosition() != preset.patchPosition() ? " --patch-position=" + s.patchPosition() : "");
        o.append(s.positionOnTokens() != preset.positionOnTokens() ? " --position-on-tokens=" + s.positionOnTokens() : "");
        o.append(position2dOptions(s, preset));
        o.append(s.label3d() != preset.label3d() ? " --label-3d=" + s.label3d() : "");
        o.append(s.positionShare() != preset.positionShare() ? " --position-share " + s.positionShare() : "");
        o.append(s.positionReadout() != preset.positionReadout() ? " --position-readout " + s.positionReadout() : "");
        o.append(s.nameReadout() != preset.nameReadout() ? " --name-readout " + s.nameReadout() : "");
        o.append(s.nameReadout() > 0 && s.positionReadout() == 0 && s.readoutWeight() != preset.readoutWeight()
                ? " --readout-weight " + s.readoutWeight() : "");
        o.append(s.positionReadout() > 0 && s.readoutWeight() != preset.readoutWeight()
                ? " --readout-weight " + s.readoutWeight() : "");
        s.lrScales().forEach((k, f) -> o.append(preset.lrScales().containsKey(k) ? ""
                : " --lr-scale " + (k.contains("*") ? "'" + k + "=" + f + "'" : k + "=" + f))); // no shell globbing
        o.append(s.segRefine() != preset.segRefine() ? " --seg-refine " + s.segRefine() : "");
        o.append(s.ropeTheta() != preset.ropeTheta() ? " --rope-theta " + (s.ropeTheta() == Math.rint(s.ropeTheta())
                ? Long.toString((long) s.ropeTheta()) : Double.toString(s.ropeTheta())) : "");
        o.append(s.stepSchedule() != preset.stepSchedule() ? " --step-schedule=" + s.stepSchedule() : "");
        o.append(s.shapeFirstCaptions() != preset.shapeFirstCaptions() ? " --shape-first-captions " + s.shapeFirstCaptions() : "");
        return o.toString();
    }

    private static String row(String k, String v) {
        return "| " + k + " | " + v + " |\n";
    }

    private static String fmt(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f", v) : "-";
    }

    private static String fmt0(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.0f", v) : "-";
    }
}
