package io.tokensieve.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.train.AnswerProbe;
import io.tokensieve.train.AttentionProbe;
import io.tokensieve.train.FinalEvaluation;
import io.tokensieve.train.LookupProbe;
import io.tokensieve.train.ModelCard;
import io.tokensieve.train.PositionProbe;
import io.tokensieve.train.StepTimer;
import io.tokensieve.train.TokenProbe;
import io.tokensieve.train.TrainSettings;
import io.tokensieve.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code sieve train}: trains the embedded model on ShapesBench, then evaluates it and writes its model card. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a small LLaVA-architecture model on ShapesBench (DJL autograd, CPU) with checkpoints and "
                + "resume, then evaluate it on the test split and write its model card.")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--preset", defaultValue = "sieve-tiny", paramLabel = "sieve-tiny|smoke",
            description = "settings preset (default ${DEFAULT-VALUE}); smoke is a seconds-long run for checks")
    String preset;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder (model + checkpoint)")
    Path out;

    @Option(names = "--resume", description = "continue from OUT/checkpoint")
    boolean resume;

    @Option(names = "--steps", paramLabel = "N", description = "override the preset's number of steps")
    Integer steps;

    @Option(names = "--max-minutes", paramLabel = "M", description = "stop (and save) once this much training time is spent")
    Double maxMinutes;

    @Option(names = "--init-from", paramLabel = "DIR", description = "continue training the model in DIR (a finished run of "
            + "the same preset): its weights, a fresh optimiser, the final mixture, new data slots")
    Path initFrom;

    @Option(names = "--peak-lr", paramLabel = "LR", description = "with --init-from: peak learning rate (default 5e-4)")
    Float peakLr;

    @Option(names = "--vision-steps", paramLabel = "N", description = "first train the vision tower alone on the "
            + "patch-label head for N steps, then the full recipe (default: the preset's, 2500 for sieve-tiny; 0 skips it)")
    Integer visionSteps;

    @Option(names = "--early-share", paramLabel = "F", description = "share (0 to 1) of the full recipe, by steps or by "
            + "the time budget, whichever is further along, trained on the early track mixture before the final one adds "
            + "in-context and 3D examples; 0 starts with the final mixture (default: the preset's, 0.5 for sieve-tiny; "
            + "not with --init-from, which starts with the final mixture)")
    Double earlyShare;

    @Option(names = "--point-absent", arity = "0..1", fallbackValue = "true", paramLabel = "true|false", description = "pointing targets for questions about objects that are not there "
            + "(a \"no\" probe, a count of zero): the sequence's first token (default: the preset's; sieve-tiny: off)")
    Boolean pointAbsent;

    @Option(names = "--point-seg", arity = "0..1", fallbackValue = "true", paramLabel = "true|false", description = "pointing "
            + "targets for segmentation: the [SEG] position onto the referred object (default: the preset's; sieve-tiny: on)")
    Boolean pointSeg;

    @Option(names = "--point-seg-anchor", arity = "0..1", fallbackValue = "true", paramLabel = "true|false",
            description = "(with --point-seg) a reasoning sentence that finds its target through another object "
            + "(\"Which shape is to the left of the blue triangle?\") points the second half of the pointed heads at "
            + "that object and the first half at the target (default: the preset's; sieve-tiny: off)")
    Boolean pointSegAnchor;

    @Option(names = "--point-seg-anchor-unpointed", arity = "0..1", fallbackValue = "true", paramLabel = "true|false",
            description = "(with --point-seg-anchor) the object a reasoning sentence names is looked at by the heads "
            + "after the pointed ones (the other key-value head) instead of half of the pointed heads, which all keep "
            + "the target (default: the preset's; sieve-tiny: off)")
    Boolean pointSegAnchorUnpointed;

    @Option(names = "--point-3d", arity = "0..1", fallbackValue = "true", paramLabel = "true|false", description = "pointing "
            + "targets for 3D questions: the answer onto its objects in every view (default: the preset's; sieve-tiny: off)")
    Boolean point3d;

    @Option(names = "--point-split", arity = "0..1", fallbackValue = "true", paramLabel = "true|false", description = "a "
            + "question comparing two objects (relative position) points half of the pointed heads at the first object "
            + "and half at the second, instead of all of them at both (default: the preset's; sieve-tiny: on)")
    Boolean pointSplit;

    @Option(names = "--patch-position", arity = "0..1", fallbackValue = "true", paramLabel = "true|false", description =
            "the patch-label head also classifies the column and row of each patch an object owns, and the vision "
            + "tower's position embeddings train at 20x the rate, so the tower keeps where an object is (default: the "
            + "preset's; sieve-tiny: off)")
    Boolean patchPosition;

    @Option(names = "--position-on-tokens", arity = "0..1", fallbackValue = "true", paramLabel = "true|false", description =
            "with --patch-position, a second pair of column and row classifiers reads each patch's projected token "
            + "(what the decoder reads), and the vision stage trains the projector too, so the projector keeps the "
            + "position (default: the preset's; sieve-tiny: off)")
    Boolean positionOnTokens;

    @Option(names = "--position-2d", arity = "0..1", fallbackValue = "true", paramLabel = "true|false", description =
            "the model gets a learned 2D position embedding (one row per patch cell, saved as the config's "
            + "position_embedding_2d extra) added to the vision features of single and in-context images, as the 3D "
            + "one is to multi-view images (default: the preset's; sieve-tiny: on, after the projector)")
    Boolean position2d;

    @Option(names = "--position-2d-after-projector", arity = "0..1", fallbackValue = "true", paramLabel = "true|false",
            description = "the 2D position embedding (implies --position-2d) is added to the projector's output, in the "
            + "decoder's width, instead of to the vision features: the projector carries content only and the patch "
            + "and grounding losses read it without the table (config extra position_embedding_2d_after_projector; "
            + "default: the preset's; sieve-tiny: on)")
    Boolean position2dAfterProjector;

    @Option(names = "--position-2d-linear", paramLabel = "S", description = "adds a fixed linear coordinate to the "
            + "2D table after the projector once, when the run starts (not on --resume): S times each cell's column "
            + "and row, mapped to [-1, 1], along two fixed orthonormal directions of the decoder's width, so that two "
            + "cells' positions differ linearly; the table is still trained and the saved format is unchanged; needs "
            + "--position-2d-after-projector (default: the preset's; sieve-tiny: 0, none)")
    Float position2dLinear;

    @Option(names = "--label-3d", arity = "0..1", fallbackValue = "true", paramLabel = "true|false",
            description = "the views of 3D examples get patch labels too: the patch-label head classifies their patches "
            + "by the colour and 3D shape of the object shown, and the grounding loss pulls those tokens to the words "
            + "(default: the preset's; sieve-tiny: on)")
    Boolean label3d;

    @Option(names = "--position-share", paramLabel = "F", description = "share (0 to 1) of the VQA track's training "
            + "examples replaced by relative-position questions, one family in seven otherwise (default: the preset's; "
            + "sieve-tiny: 0)")
    Double positionShare;

    @Option(names = "--position-readout", paramLabel = "L", description = "at the position predicting a relative-"
            + "position question's answer, training-only classifiers read the hidden state after the first L decoder "
            + "layers and name the column and row of each of the two objects compared, so those layers fetch the two "
            + "positions apart; 0 turns it off; not with --name-readout, which sieve-tiny uses (default: the preset's; "
            + "sieve-tiny: 0)")
    Integer positionReadout;

    @Option(names = "--lr-scale", paramLabel = "PATTERN=F", description = "weights whose name starts with PATTERN "
            + "('*' stands for any run of characters without a dot, e.g. model.language_model.layers.*.self_attn.v_proj) "
            + "train at F times the learning rate; repeatable, the first pattern naming a weight wins (default: none)")
    List<String> lrScales;

    @Option(names = "--name-readout", paramLabel = "L", description = "training-only classifiers read the decoder's "
            + "hidden state after its first L layers at the position predicting a VQA or POPE answer and name the colour, "
            + "shape and size the question's first two noun phrases name, so those layers bring a lookup's words to where "
            + "its query is formed; 0 turns it off; not with --position-readout (default: the preset's; sieve-tiny: 2)")
    Integer nameReadout;

    @Option(names = "--readout-weight", paramLabel = "W", description = "weight of the --position-readout or "
            + "--name-readout loss (default: the preset's, 1.0 for sieve-tiny)")
    Float readoutWeight;

    @Option(names = "--rope-theta", paramLabel = "THETA", description = "base of the decoder's rotary embedding: a "
            + "larger one leaves more query/key dimensions nearly unturned across an image, free to match by content; "
            + "with --init-from it may differ from the continued model's (default: the continued model's, else the "
            + "preset's, 10000 for sieve-tiny)")
    Double ropeTheta;

    @Option(names = "--key-lookup-weight", paramLabel = "W", description = "weight of a key-lookup loss on the pointed "
            + "layers: a learned query per colour and per shape must find those patches through the key head the pointed "
            + "heads read, so that questions naming an object by its shape have keys to find it by; needs the pointing "
            + "loss (default: the preset's, 1 for sieve-tiny; 0 turns it off)")
    Float keyLookupWeight;

    @Option(names = "--value-position-weight", paramLabel = "W", description = "weight of a value-position loss on the "
            + "pointed layers: the value vectors of a single image's visual tokens, in the key-value head the pointed "
            + "heads read, must hold the token's column and row (mapped to [-1, 1]) in their last two dimensions, so that "
            + "heads pointed at two compared objects return the two positions; needs the pointing loss (default: the "
            + "preset's; sieve-tiny: 0, none)")
    Float valuePositionWeight;

    @Option(names = "--point-count-sink", arity = "0..1", fallbackValue = "true", paramLabel = "true|false", description = "a count question's "
            + "pointed heads share their attention evenly among the counted objects and the sequence's first token (the "
            + "pointing loss's mean -log of each one's mass), so that the first token's share, 1 / (count + 1), carries "
            + "the count, which a softmax average over the objects alone does not; needs the pointing loss (default: the "
            + "preset's; sieve-tiny: off)")
    Boolean pointCountSink;

    @Option(names = "--point-question-weight", paramLabel = "F", description = "in the pointing loss, each pointing "
            + "position of a question (any example but a caption) weighs F times one of a caption's: a caption points "
            + "from every word, a question from one position (default: the preset's, 4 for sieve-tiny; 1 weighs all alike)")
    Float questionPointWeight;

    @Option(names = "--point-weight", paramLabel = "W", description = "weight of the attention-pointing loss "
            + "(0 turns it off; default: the preset's, 1.0 for sieve-tiny)")
    Float pointWeight;

    @Option(names = "--step-schedule", arity = "0..1", fallbackValue = "true", paramLabel = "true|false", description = "the "
            + "learning-rate cosine and the switch to the final track mixture follow the steps alone, not whichever of the "
            + "steps and the clock is further along, so runs on slower or busier machines see the same rate and data at each "
            + "step (default: the preset's; sieve-tiny: off)")
    Boolean stepSchedule;

    @Option(names = "--seg-refine", paramLabel = "H", description = "width of the mask head's per-cell refinement layer "
            + "(coarse logit, fine logit and colour distance per 4-pixel cell; 0 for none; default: the preset's, 0 for "
            + "sieve-tiny). With --init-from it may add the layer to a model without one")
    Integer segRefine;

    @Option(names = "--shape-first-captions", paramLabel = "F", description = "share of the training captions asked as "
            + "\"Which objects are there?\" and answered shape before colour, which teaches finding an object by its shape "
            + "(0..1; default: the preset's, 0 for sieve-tiny)")
    Double shapeFirstCaptions;

    @Option(names = "--data-seed", paramLabel = "S", description = "training data seed: ShapesBench seed S, the "
            + "vision stage reads S+2 (at least 1000, where training data starts; default: the preset's, 1000 for "
            + "sieve-tiny, and 1001 with --init-from)")
    Long dataSeed;

    @Option(names = "--init-seed", paramLabel = "S", description = "seed of the random initial weights and of the "
            + "training-only patch-label head (default: the preset's, 1 for sieve-tiny)")
    Long initSeed;

    @Option(names = "--no-eval", description = "skip the test-split evaluation and the model card")
    boolean noEval;

    @Option(names = "--probe-tokens", paramLabel = "IMAGES", arity = "0..1", fallbackValue = "60",
            description = "do not train: measure how much of each patch label (colour, shape, character) the visual tokens of "
                    + "the model in OUT carry, on IMAGES held-out images (default 60), and print the table (with the training-only "
                    + "patch-label head when OUT/checkpoint or OUT holds aux_head.safetensors)")
    Integer probeTokens;

    @Option(names = "--probe-attention", paramLabel = "QUESTIONS", arity = "0..1", fallbackValue = "240",
            description = "do not train: measure where the decoder of the model in OUT looks, on QUESTIONS held-out VQA "
                    + "questions (default 240): per question family and decoder layer, the attention mass at the answer "
                    + "position on the patches of the objects the question names, and on QUESTIONS/4 segmentation expressions "
                    + "the mass at the [SEG] position on the referred object (for reasoning sentences naming another "
                    + "object, also on that object, per group of heads); print the table")
    Integer probeAttention;

    @Option(names = "--probe-answer", paramLabel = "QUESTIONS", arity = "0..1", fallbackValue = "3000",
            description = "do not train: measure what the decoder of the model in OUT holds where it answers QUESTIONS "
                    + "held-out relative-position questions (default 3000): per decoder layer, how well linear read-outs "
                    + "of the hidden state at the answer position give each named object's column and row, their order "
                    + "along the asked axis and the answer; print the table")
    Integer probeAnswer;

    @Option(names = "--time-steps", paramLabel = "BATCHES", arity = "0..1", fallbackValue = "12",
            description = "do not train: time the full recipe's training step (forward and backward, with this run's "
                    + "options) on the model in OUT, for BATCHES batches of the final mixture (default 12), with the "
                    + "decoder's length groups and with every sequence padded to the batch's longest; print the medians")
    Integer timeSteps;

    @Option(names = "--eval-only", description = "do not train: evaluate the model in OUT and (re)write its model card")
    boolean evalOnly;

    @Option(names = "--eval-dir", paramLabel = "DIR", defaultValue = "runs/final-eval",
            description = "where the test data and evaluation records go (default ${DEFAULT-VALUE})")
    Path evalDir;

    @Override
    public Integer call() throws Exception {
        TrainSettings s = TrainSettings.preset(preset, steps == null ? TrainSettings.SMOKE_STEPS : steps);
        if (s == null) {
            throw new Errors.UserException("--preset must be sieve-tiny or smoke, got '" + preset + "'");
        }
        if (steps != null) {
            s = s.withSteps(steps);
        }
        if (maxMinutes != null) {
            s = s.withMaxMinutes(maxMinutes);
        }
        if (initFrom != null) {
            if (!Files.isRegularFile(initFrom.resolve("config.json"))) {
                throw new Errors.UserException("--init-from " + initFrom + ": no config.json there (give a model folder "
                        + "written by sieve train)");
            }
            s = s.continuing(initFrom.toString(), peakLr == null ? 5e-4f : peakLr);
            // the continued model's rotary base, unless --rope-theta changes it
            s = s.withRopeTheta(io.tokensieve.core.config.LlavaConfig.load(initFrom).text().ropeTheta());
        } else if (peakLr != null) {
            throw new Errors.UserException("--peak-lr applies to --init-from runs only");
        }
        if (earlyShare != null) {
            if (initFrom != null) {
                throw new Errors.UserException("--early-share applies to runs from scratch: --init-from trains on the "
                        + "final mixture from its first step");
            }
            s = checked(s, "--early-share", t -> t.withEarlyShare(earlyShare));
        }
        if (visionSteps != null) {
            if (visionSteps < 0) {
                throw new Errors.UserException("--vision-steps must be 0 or more, got " + visionSteps);
            }
            s = s.withVisionSteps(visionSteps);
        }
        if (shapeFirstCaptions != null) {
            if (!(shapeFirstCaptions >= 0 && shapeFirstCaptions <= 1)) {
                throw new Errors.UserException("--shape-first-captions must be between 0 and 1, got " + shapeFirstCaptions);
            }
            s = s.withShapeFirstCaptions(shapeFirstCaptions);
        }
        if (pointAbsent != null) {
            s = s.withPointAbsent(pointAbsent);
        }
        if (pointWeight != null) {
            if (!(pointWeight >= 0 && Float.isFinite(pointWeight))) {
                throw new Errors.UserException("--point-weight must be 0 or more, got " + pointWeight);
            }
            s = s.withPointWeight(pointWeight);
        }
        if (pointSeg != null) {
            s = s.withPointSeg(pointSeg);
        }
        if (pointSegAnchor != null) {
            s = s.withPointSegAnchor(pointSegAnchor);
        }
        if (pointSegAnchorUnpointed != null) {
            s = s.withPointSegAnchorUnpointed(pointSegAnchorUnpointed);
        }
        if (point3d != null) {
            s = s.withPoint3d(point3d);
        }
        if (pointSplit != null) {
            s = s.withPointSplit(pointSplit);
        }
        if (patchPosition != null) {
            s = s.withPatchPosition(patchPosition);
        }
        if (positionOnTokens != null) {
            s = s.withPositionOnTokens(positionOnTokens);
        }
        if (position2d != null) {
            s = s.withPosition2d(position2d);
        }
        if (position2dAfterProjector != null) {
            s = s.withPosition2dAfterProjector(position2dAfterProjector);
        }
        if (label3d != null) {
            s = s.withLabel3d(label3d);
        }
        if (position2dLinear != null) {
            if (!(position2dLinear >= 0 && position2dLinear <= 100)) {
                throw new Errors.UserException("--position-2d-linear must be between 0 and 100, got " + position2dLinear);
            }
            s = s.withPosition2dLinear(position2dLinear);
        }
        if (s.position2dLinear() != 0 && !s.position2dAfterProjector()) {
            throw new Errors.UserException("--position-2d-linear adds to the 2D table after the projector: it needs"
                    + " --position-2d-after-projector");
        }
        if (positionShare != null) {
            s = checked(s, "--position-share", t -> t.withPositionShare(positionShare));
        }
        if (positionReadout != null) {
            s = checked(s, "--position-readout", t -> t.withPositionReadout(positionReadout));
        }
        if (nameReadout != null) {
            s = checked(s, "--name-readout", t -> t.withNameReadout(nameReadout));
        }
        if (s.nameReadout() > 0 && s.positionReadout() > 0) {
            throw new Errors.UserException("--name-readout and --position-readout share one read-out: choose one"
                    + (nameReadout == null ? " (the " + s.preset() + " preset has --name-readout " + s.nameReadout()
                    + "; add --name-readout 0)" : ""));
        }
        if (readoutWeight != null) {
            s = checked(s, "--readout-weight", t -> t.withReadoutWeight(readoutWeight));
        }
        if (ropeTheta != null) {
            s = checked(s, "--rope-theta", t -> t.withRopeTheta(ropeTheta));
        }
        for (String scale : lrScales == null ? List.<String>of() : lrScales) {
            s = checked(s, "--lr-scale " + scale + ":", t -> {
                int eq = scale.lastIndexOf('=');
                if (eq < 0) {
                    throw new IllegalArgumentException("must be PATTERN=F");
                }
                try {
                    return t.withLrScale(scale.substring(0, eq), Double.parseDouble(scale.substring(eq + 1)));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("F must be a number, got '" + scale.substring(eq + 1) + "'");
                }
            });
        }
        if (questionPointWeight != null) {
            s = checked(s, "--point-question-weight", t -> t.withQuestionPointWeight(questionPointWeight));
        }
        if (keyLookupWeight != null) {
            s = checked(s, "--key-lookup-weight", t -> t.withKeyLookupWeight(keyLookupWeight));
        }
        if (s.keyLookupWeight() > 0 && s.pointWeight() == 0) {
            throw new Errors.UserException("--key-lookup-weight works on the pointed layers: it needs --point-weight above 0"
                    + (keyLookupWeight == null ? " (the " + s.preset() + " preset has --key-lookup-weight "
                    + s.keyLookupWeight() + "; add --key-lookup-weight 0)" : ""));
        }
        if (valuePositionWeight != null) {
            s = checked(s, "--value-position-weight", t -> t.withValuePositionWeight(valuePositionWeight));
        }
        if (s.valuePositionWeight() > 0 && s.pointWeight() == 0) {
            throw new Errors.UserException("--value-position-weight works on the pointed layers: it needs --point-weight"
                    + " above 0");
        }
        if (pointCountSink != null) {
            s = s.withPointCountSink(pointCountSink);
        }
        if (s.pointCountSink() && s.pointWeight() == 0) {
            throw new Errors.UserException("--point-count-sink shares the pointed heads' attention: it needs --point-weight"
                    + " above 0");
        }
        if (s.pointSegAnchor() && !(s.pointSeg() && s.pointWeight() > 0)) {
            throw new Errors.UserException("--point-seg-anchor splits the [SEG] position's pointing: it needs --point-seg"
                    + " and --point-weight above 0");
        }
        if (s.pointSegAnchorUnpointed() && !s.pointSegAnchor()) {
            throw new Errors.UserException("--point-seg-anchor-unpointed says which heads --point-seg-anchor uses: it needs"
                    + " --point-seg-anchor");
        }
        if (s.positionOnTokens() && !s.patchPosition()) {
            throw new Errors.UserException("--position-on-tokens needs --patch-position (it says where the position labels are read)");
        }
        if (stepSchedule != null) {
            s = s.withStepSchedule(stepSchedule);
        }
        if (segRefine != null) {
            if (segRefine < 0 || segRefine > 1024) {
                throw new Errors.UserException("--seg-refine must be between 0 and 1024, got " + segRefine);
            }
            s = s.withSegRefine(segRefine);
        }
        if (dataSeed != null) {
            s = checked(s, "--data-seed", t -> t.withDataSeed(dataSeed)); // the settings keep training data off the test seeds
        }
        if (initSeed != null) {
            s = s.withInitSeed(initSeed);
        }
        if (s.steps() <= 0) {
            throw new Errors.UserException("--steps must be positive");
        }
        if (probeTokens != null) {
            checkProbe("--probe-tokens", probeTokens, "image");
            try (VlmModel vm = VlmModel.load(out, ai.djl.Device.cpu())) {
                // the run's checkpoint keeps the training-only head; a committed model may keep a copy beside its weights
                Path head = out.resolve("checkpoint").resolve(Trainer.AUX);
                if (!Files.isRegularFile(head)) {
                    head = out.resolve(Trainer.AUX);
                }
                System.out.print(TokenProbe.table(TokenProbe.run(vm, head, probeTokens), probeTokens));
                if (probeTokens >= 2) {
                    System.out.println();
                    PositionProbe.Report positions = PositionProbe.run(vm, probeTokens);
                    System.out.print(PositionProbe.table(positions, probeTokens));
                    System.out.println();
                    System.out.print(PositionProbe.decoderTable(positions, probeTokens));
                    System.out.println();
                    System.out.print(PositionProbe.valuesTable(positions, probeTokens));
                    System.out.println();
                    System.out.print(LookupProbe.table(LookupProbe.run(vm, probeTokens), probeTokens));
                }
            }
            return 0;
        }
        if (probeAttention != null) {
            checkProbe("--probe-attention", probeAttention, "question");
            try (VlmModel vm = VlmModel.load(out, ai.djl.Device.cpu())) {
                System.out.print(AttentionProbe.table(AttentionProbe.run(vm, probeAttention), probeAttention));
            }
            return 0;
        }
        if (probeAnswer != null) {
            checkProbe("--probe-answer", probeAnswer, "question");
            if (probeAnswer < 4) {
                throw new Errors.UserException("--probe-answer needs at least 4 questions (half fit, half measured), got "
                        + probeAnswer);
            }
            try (VlmModel vm = VlmModel.load(out, ai.djl.Device.cpu())) {
                System.out.print(AnswerProbe.table(AnswerProbe.run(vm, probeAnswer), probeAnswer));
                System.out.println();
                System.out.print(AnswerProbe.namesTable(AnswerProbe.names(vm, probeAnswer), probeAnswer));
            }
            return 0;
        }
        if (timeSteps != null) {
            checkProbe("--time-steps", timeSteps, "batch");
            System.out.print(StepTimer.table(StepTimer.run(s, out, timeSteps)));
            return 0;
        }
        ModelCard.Training training;
        if (evalOnly) {
            Path info = out.resolve(Trainer.TRAINING_INFO);
            Path state = out.resolve("checkpoint").resolve("trainer_state.json");
            if (!Files.isRegularFile(info) && !Files.isRegularFile(state)) {
                throw new Errors.UserException(info + ": not found (train the model first)");
            }
            boolean fromInfo = Files.isRegularFile(info);
            JsonNode n = new ObjectMapper().readTree((fromInfo ? info : state).toFile());
            List<String> losses = new ArrayList<>();
            n.get("loss_log").forEach(x -> losses.add(x.asText()));
            training = new ModelCard.Training(new ObjectMapper().treeToValue(n.get("settings"), TrainSettings.class),
                    n.get("step" + (fromInfo ? "s" : "")).asInt(),
                    fromInfo ? n.get("wall_minutes").asDouble() : n.get("elapsed_seconds").asDouble() / 60, losses,
                    fromInfo ? n.get("machine").asText() : Trainer.machine());
        } else {
            // half a second of measuring, for real runs only (a smoke run takes seconds)
            String busy = "smoke".equals(s.preset()) ? null : Trainer.busyMachineWarning(500);
            if (busy != null) {
                System.err.println(busy);
            }
            Trainer.Outcome o = new Trainer(s, out, System.err).run(resume);
            if (o.inVisionStage()) {
                System.out.printf("stopped in the vision stage after %d of %d steps (%.1f min, time budget): only the checkpoint "
                        + "in %s was written; --resume continues it%n", o.visionSteps(), s.visionSteps(), o.wallSeconds() / 60,
                        out.resolve(Trainer.CHECKPOINT));
                return 0;
            }
            System.out.printf("model written to %s after %d steps (%.1f min)%s%n", o.modelDir(), o.steps(), o.wallSeconds() / 60,
                    o.finished() ? "" : " (stopped early: time budget)");
            training = new ModelCard.Training(s, o.steps(), o.wallSeconds() / 60, o.lossLog(), Trainer.machine());
            if (noEval) {
                return 0;
            }
        }
        Map<String, Object> results = FinalEvaluation.run(out, evalDir, FinalEvaluation.sizes(), System.err);
        ModelCard.write(out, training, results);
        System.out.println("model card: " + out.resolve("README.md"));
        return 0;
    }

    /** {@code change} applied to {@code s}; a value it refuses is reported under the option's name. */
    private static TrainSettings checked(TrainSettings s, String option,
                                         java.util.function.UnaryOperator<TrainSettings> change) {
        try {
            return change.apply(s);
        } catch (IllegalArgumentException e) {
            throw new Errors.UserException(option + " " + e.getMessage());
        }
    }

    /** A probe needs a model in OUT and at least one sample. */
    private void checkProbe(String option, int samples, String unit) {
        if (!Files.isRegularFile(out.resolve("config.json"))) {
            throw new Errors.UserException(option + ": no model in " + out + " (config.json missing)");
        }
        if (samples < 1) {
            throw new Errors.UserException(option + " needs at least 1 " + unit + ", got " + samples);
        }
    }
}
