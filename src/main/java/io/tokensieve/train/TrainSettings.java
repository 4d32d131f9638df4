package io.tokensieve.train;

import io.tokensieve.core.config.ClipVisionConfig;
import io.tokensieve.core.config.LlamaTextConfig;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.config.SieveExtras;
import io.tokensieve.datasets.shapes.PatchLabels;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything that defines a training run: model shape, optimisation, data mixture and seeds. The
 * {@code sieve-tiny} preset is what the committed model was trained with; every field is recorded in the
 * checkpoint and the model card.
 */
public record TrainSettings(
        String preset,
        int imageSize,
        int patch,
        int visionWidth,
        int visionLayers,
        int visionHeads,
        int textWidth,
        int textLayers,
        int textHeads,
        int kvHeads,
        int ffn,
        int segDim,
        int batchSize,
        int steps,
        float peakLr,
        float minLrFraction,
        int warmupSteps,
        float weightDecay,
        float clipNorm,
        float segWeight,
        float auxWeight,
        float groundWeight,
        float promptWeight,
        float pointWeight,
        long dataSeed,
        long initSeed,
        int shots,
        int views,
        Map<String, Double> mixture,
        Map<String, Double> earlyMixture,
        double earlyFraction,
        int checkpointEvery,
        double maxMinutes,
        String initFrom,
        int visionSteps,
        double shapeFirstCaptions,
        boolean pointAbsent,
        boolean pointSeg,
        boolean point3d,
        int segRefine,
        boolean stepSchedule,
        boolean pointSplit,
        boolean patchPosition,
        boolean positionOnTokens,
        double positionShare,
        int positionReadout,
        float readoutWeight,
        Map<String, Double> lrScales,
        double ropeTheta,
        float keyLookupWeight,
        float questionPointWeight,
        int nameReadout,
        boolean position2d,
        boolean position2dAfterProjector,
        boolean label3d,
        boolean pointSegAnchor,
        boolean pointSegAnchorUnpointed,
        float position2dLinear,
        float valuePositionWeight,
        boolean pointCountSink) {

    public TrainSettings {
        // older training.json files have no lrScales; the patterns' order is kept (the first that names a weight wins)
        lrScales = lrScales == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(lrScales));
        // older training.json files have no ropeTheta: their models used the LLaMA default
        ropeTheta = ropeTheta == 0 ? DEFAULT_ROPE_THETA : ropeTheta;
        // older training.json files have no questionPointWeight: every pointing position weighed alike
        questionPointWeight = questionPointWeight == 0 ? 1f : questionPointWeight;
    }

    /** Base of the decoder's rotary embedding unless {@code --rope-theta} says otherwise (LLaMA's). */
    public static final double DEFAULT_ROPE_THETA = 10000.0;

    /** Pixel cell of the mask head (the mask is predicted on an imageSize / 4 grid). */
    public static final int SEG_CELL = 4;

    public static TrainSettings sieveTiny() {
        Map<String, Double> mix = new LinkedHashMap<>();
        mix.put("caption", 0.15);
        mix.put("vqa", 0.35);
        mix.put("pope", 0.15);
        mix.put("seg", 0.15);
        mix.put("icl", 0.10);
        mix.put("3d", 0.10);
        // single-image tracks first: grounding emerges sooner on short sequences, and they cost a third as much;
        // captions (answerable only from the image) start the visual-token -> answer path
        Map<String, Double> early = new LinkedHashMap<>();
        early.put("caption", 0.4);
        early.put("vqa", 0.3);
        early.put("pope", 0.15);
        early.put("seg", 0.15);
        return new TrainSettings("sieve-tiny", 224, 28, 256, 5, 8, 256, 8, 8, 2, 688, 64,
                16, 6000, 1e-3f, 0.05f, 150, 0.01f, 1.0f, 1.0f, 1.0f, 1.0f, 0.5f, 1.0f, 1000, 1, 2, 3, mix, early, 0.5, 100,
                // point-seg: the [SEG] position points at the referred object; point-split: the pointing loss's two
                // halves of heads on the two objects a question compares
                85, null, 2500, 0.0, false, true, false, 0, false, true, false, false, 0.0, 0, 1.0f, Map.of(),
                DEFAULT_ROPE_THETA,
                // the lookup by shape (card notes): key-lookup queries, questions' pointing at 4x a caption word's,
                // and the named colour/shape/size read after the first two layers; then a 2D position embedding
                // added after the projector; patch labels and grounding for the views of 3D examples
                1f, 4f, 2, true, true, true, false, false, 0f, 0f, false);
    }

    /** Steps of the smoke preset when none are given ({@code sieve train --preset smoke}). */
    public static final int SMOKE_STEPS = 4;

    /**
     * The preset of a name ({@code sieve-tiny} or {@code smoke}, whose steps are {@code smokeSteps}), or null for any
     * other name.
     */
    public static TrainSettings preset(String name, int smokeSteps) {
        return switch (name) {
            case "sieve-tiny" -> sieveTiny();
            case "smoke" -> smoke(smokeSteps);
            default -> null;
        };
    }

    /**
     * A few-step variant for tests and smoke runs: tiny widths, 112 px images, and every optional loss and option off
     * (tests turn on the ones they check), whatever the {@code sieve-tiny} preset uses.
     */
    public static TrainSettings smoke(int steps) {
        Map<String, Double> mix = sieveTiny().mixture();
        return new TrainSettings("smoke", 112, 14, 32, 2, 2, 64, 2, 4, 2, 128, 16, 4, steps, 2e-3f, 0.1f, 2, 0.0f,
                1.0f, 1.0f, 0.5f, 0.5f, 0.5f, 0.5f, 1000, 1, 1, 2, mix, mix, 0.0, Math.max(1, steps / 2), 10, null, 0,
                0.0, false, false, false, 0, false, false, false, false, 0.0, 0, 1.0f, Map.of(), DEFAULT_ROPE_THETA,
                0f, 1f, 0, false, false, false, false, false, 0f, 0f, false);
    }

    public TrainSettings withSteps(int n) {
        return with(e -> e.steps = n);
    }

    /**
     * With a first stage of {@code n} steps that trains the vision tower alone on the patch-label head (before the
     * {@link #steps} of the full recipe, which the tower otherwise learns shape in only slowly).
     */
    public TrainSettings withVisionSteps(int n) {
        return with(e -> e.visionSteps = n);
    }

    /**
     * With the early track mixture (no in-context or 3D examples) for the first share {@code f} of the full recipe
     * (by steps, or by the time budget when the clock is further along), then the final mixture; 0 trains on the
     * final mixture from the first step.
     */
    public TrainSettings withEarlyShare(double f) {
        if (!(f >= 0 && f <= 1)) {
            throw new IllegalArgumentException("must be a share between 0 and 1, got " + f);
        }
        return with(e -> e.earlyFraction = f);
    }

    public TrainSettings withMaxMinutes(double m) {
        return with(e -> e.maxMinutes = m);
    }

    /**
     * A continuation: start from the weights of the model in {@code dir} (not a random initialisation), with peak
     * learning rate {@code lr}, the final mixture from the first step, and data slots that do not overlap the first
     * run's (the data seed moves on by one).
     */
    public TrainSettings continuing(String dir, float lr) {
        return with(e -> {
            e.peakLr = lr;
            e.dataSeed = dataSeed + 1;
            e.earlyMixture = mixture;
            e.earlyFraction = 0.0;
            e.initFrom = dir;
            e.visionSteps = 0;
        });
    }

    /** With a share {@code f} of the captions in the shape-first order ({@link CaptionExample}). */
    public TrainSettings withShapeFirstCaptions(double f) {
        return with(e -> e.shapeFirstCaptions = f);
    }

    /**
     * With pointing targets for questions about objects that are not there: the sequence's first token (see
     * {@link Pointing#forQuestion(String, io.tokensieve.datasets.shapes.Scene2d, int, int, boolean)}).
     */
    public TrainSettings withPointAbsent(boolean on) {
        return with(e -> e.pointAbsent = on);
    }

    /** With weight {@code w} on the attention-pointing loss (0 turns it off). */
    public TrainSettings withPointWeight(float w) {
        return with(e -> e.pointWeight = w);
    }

    /** With pointing targets for segmentation answers: the {@code [SEG]} position onto the referred object. */
    public TrainSettings withPointSeg(boolean on) {
        return with(e -> e.pointSeg = on);
    }

    /**
     * With {@link #pointSeg}, a reasoning sentence that finds its target through another object ("Which shape is to the
     * left of the blue triangle?") gets that object as second pointing target: the second half of the pointed heads
     * looks at it and the first half at the target, so the later pointed layer can find the target from where and
     * what the object is; phrases and sentences that name no such object point every pointed head at the target.
     */
    public TrainSettings withPointSegAnchor(boolean on) {
        return with(e -> e.pointSegAnchor = on);
    }

    /**
     * With {@link #pointSegAnchor}, the object a reasoning sentence names is looked at by the heads after the pointed
     * ones (heads 4-7 of sieve-tiny's eight, the other key-value head) instead of the second half of the pointed heads,
     * so that every pointed head keeps the target and its keys serve the target's lookup alone.
     */
    public TrainSettings withPointSegAnchorUnpointed(boolean on) {
        return with(e -> e.pointSegAnchorUnpointed = on);
    }

    /**
     * With a fixed linear coordinate added once to the 2D table after the projector when a run starts (not on
     * resume): {@code scale} times the patch cell's column and row, each mapped to [-1, 1], along two fixed orthonormal
     * directions of the decoder's width ({@link Position2dLinear}); 0 for none. The table stays a trained weight and
     * the saved model's format is unchanged.
     */
    public TrainSettings withPosition2dLinear(float scale) {
        return with(e -> e.position2dLinear = scale);
    }

    /**
     * With the value-position loss at this weight (0 for none): the pointed layers' value vectors of a single image's
     * visual tokens must hold the token's column and row ({@code TrainingForward.withValuePosition}). Needs pointing.
     */
    public TrainSettings withValuePositionWeight(float weight) {
        float checked = lossWeight(weight);
        return with(e -> e.valuePositionWeight = checked);
    }

    /**
     * With counts pointed as groups: a count question's pointed heads share their attention evenly among the counted
     * objects and the first token ({@link Pointing#forCount}), instead of all of it on the objects together. Needs
     * pointing.
     */
    public TrainSettings withPointCountSink(boolean on) {
        return with(e -> e.pointCountSink = on);
    }

    /** A loss weight, refused unless finite and at least 0. */
    private static float lossWeight(float w) {
        if (!(w >= 0) || Float.isInfinite(w)) {
            throw new IllegalArgumentException("must be a finite weight of 0 or more, got " + w);
        }
        return w;
    }

    /** With pointing targets for 3D questions: the answer onto its objects' patches in every view. */
    public TrainSettings withPoint3d(boolean on) {
        return with(e -> e.point3d = on);
    }

    /**
     * With a per-cell refinement layer of width {@code hidden} in the mask head (0 for none; see
     * {@link io.tokensieve.core.model.SegMaskHead}).
     */
    public TrainSettings withSegRefine(int hidden) {
        return with(e -> e.segRefine = hidden);
    }

    /**
     * With the cosine following the steps alone ({@code true}) rather than whichever of the steps and the clock is
     * further along (see {@link #lr(int, double)}), so that the learning rate at each step does not depend on how fast
     * the machine is.
     */
    public TrainSettings withStepSchedule(boolean on) {
        return with(e -> e.stepSchedule = on);
    }

    /**
     * With questions that compare two things ("Is the red circle to the left or to the right of the blue square?")
     * pointing the first half of the pointed heads at the first thing and the second half at the second, instead of
     * every pointed head at both: a head that looks at both at once mixes their positions and cannot tell which is
     * where.
     */
    public TrainSettings withPointSplit(boolean on) {
        return with(e -> e.pointSplit = on);
    }

    /**
     * With each patch's column and row among the patch-label head's labels (two more classifiers of {@code grid}
     * classes each), so that the vision tower keeps where a patch is in its features: attention returns a linear map
     * of the tokens, and comparing two objects' positions needs the positions there.
     */
    public TrainSettings withPatchPosition(boolean on) {
        return with(e -> e.patchPosition = on);
    }

    /**
     * With the column and row classifiers of {@link #withPatchPosition} also reading each patch's projected token (what
     * the decoder reads; a second pair of classifiers), so that the projector keeps the position too: with them on
     * the features alone, the tower learns position and the projector drops it for object patches. Takes effect with
     * {@link #patchPosition} only.
     */
    public TrainSettings withPositionOnTokens(boolean on) {
        return with(e -> e.positionOnTokens = on);
    }

    /**
     * With a share {@code f} (0 to 1) of the VQA track's training examples replaced by relative-position questions
     * (drawn from data seed + {@link #POSITION_SEED_OFFSET}), where one family in seven is what the track asks.
     */
    public TrainSettings withPositionShare(double f) {
        if (!(f >= 0 && f <= 1)) {
            throw new IllegalArgumentException("must be between 0 and 1, got " + f);
        }
        return with(e -> e.positionShare = f);
    }

    /**
     * With a read-out of the decoder's hidden state after its first {@code layers} layers (0 = none) at the position
     * predicting a relative-position question's answer: four training-only classifiers, weighted
     * {@link #readoutWeight}, name the column and the row of each of the two objects the question compares, so that
     * the layers up to there fetch the two positions apart (the answer alone asks only for their order).
     */
    public TrainSettings withPositionReadout(int layers) {
        if (layers < 0 || layers > textLayers) {
            throw new IllegalArgumentException("must be between 0 (none) and the " + textLayers + " decoder layers, got "
                    + layers);
        }
        return with(e -> e.positionReadout = layers);
    }

    /**
     * With a read-out of the decoder's hidden state after its first {@code layers} layers (0 = none) at the position
     * predicting a VQA or POPE question's answer: training-only classifiers, weighted {@link #readoutWeight}, name the
     * colour, shape and size that the question's first two noun phrases name ("What colour is the small triangle?":
     * no colour, triangle, small), so that those layers bring the words a lookup needs to where the query is formed.
     * It replaces {@link #withPositionReadout} (one read-out per run).
     */
    public TrainSettings withNameReadout(int layers) {
        if (layers < 0 || layers > textLayers) {
            throw new IllegalArgumentException("must be between 0 (none) and the " + textLayers + " decoder layers, got "
                    + layers);
        }
        return with(e -> e.nameReadout = layers);
    }

    /**
     * With a learned 2D position embedding in the model (a {@code sieve_extras} entry, {@code position_embedding_2d}):
     * a table with a row per patch cell, added to the vision features of images without xyz origins before the
     * projector, as the 3D one is to multi-view features, so where a patch is reaches the decoder as an input of its
     * own instead of something the tower and projector must keep.
     */
    public TrainSettings withPosition2d(boolean on) {
        return with(e -> {
            e.position2d = on;
            e.position2dAfterProjector &= on;
        });
    }

    /**
     * With {@link #withPosition2d}'s table added to the projector's output instead (a {@code sieve_extras} entry,
     * {@code position_embedding_2d_after_projector}; on implies the table): the projector carries content only, the
     * patch and grounding losses read its output without the table, and the table meets the decoder at its tokens'
     * scale.
     */
    public TrainSettings withPosition2dAfterProjector(boolean on) {
        return with(e -> {
            e.position2dAfterProjector = on;
            e.position2d |= on;
        });
    }

    /**
     * With patch labels on the views of 3D examples too: the patch-label head classifies each view's patches by the
     * colour and the 3D shape of the object they show (a kind of its own, {@link PatchLabels#SHAPES_3D} classes), and
     * the grounding loss pulls those projected tokens to the words, as it does for 2D images; without it, multi-view
     * tokens get neither.
     */
    public TrainSettings withLabel3d(boolean on) {
        return with(e -> e.label3d = on);
    }

    /** With the weight of {@link #withPositionReadout}'s or {@link #withNameReadout}'s loss (the answer loss has weight 1). */
    public TrainSettings withReadoutWeight(float w) {
        float checked = lossWeight(w);
        return with(e -> e.readoutWeight = checked);
    }

    /**
     * With a key-lookup loss of weight {@code w} (0 = none) on the pointed layers: a learned query per colour and per
     * shape must find the patches of that colour or shape through the key head the pointed heads read
     * ({@code TrainingForward.withKeyLookup}). It needs the pointing loss, whose layers and heads it uses.
     */
    public TrainSettings withKeyLookupWeight(float w) {
        float checked = lossWeight(w);
        return with(e -> e.keyLookupWeight = checked);
    }

    /**
     * With each pointing position of a question (any example but a caption) weighing {@code w} times one of a
     * caption's in the pointing loss (1: all alike). A caption points from every word, a question from one position,
     * so without it the few questions that name an object by its shape alone barely count.
     */
    public TrainSettings withQuestionPointWeight(float w) {
        if (!(w > 0) || Float.isInfinite(w)) {
            throw new IllegalArgumentException("must be a finite weight above 0, got " + w);
        }
        return with(e -> e.questionPointWeight = w);
    }

    /**
     * With {@code theta} as the base of the decoder's rotary embedding ({@code rope_theta} in the saved config). A
     * larger base turns each pair of query/key dimensions more slowly with the position, so more pairs stay nearly
     * still across an image's tokens and can match by content rather than by distance.
     */
    public TrainSettings withRopeTheta(double theta) {
        if (!(theta > 1) || Double.isInfinite(theta)) {
            throw new IllegalArgumentException("must be a finite base above 1, got " + theta);
        }
        return with(e -> e.ropeTheta = theta);
    }

    /**
     * With the weights whose checkpoint key (or training-only head parameter name) starts with {@code pattern} training
     * at {@code factor} times the learning rate; {@code *} in the pattern stands for any run of characters without a
     * dot ("model.language_model.layers.*.self_attn.v_proj"). Adds to the patterns already given; where two name one
     * weight, the first given wins.
     */
    public TrainSettings withLrScale(String pattern, double factor) {
        if (pattern == null || pattern.isBlank()) {
            throw new IllegalArgumentException("needs a weight name pattern before '='");
        }
        if (!(factor > 0) || Double.isInfinite(factor)) {
            throw new IllegalArgumentException("factor of '" + pattern + "' must be a finite number above 0, got " + factor);
        }
        Map<String, Double> m = new LinkedHashMap<>(lrScales);
        m.put(pattern, factor);
        return with(e -> e.lrScales = m);
    }

    /** Whether weight name {@code key} starts with {@link #withLrScale} pattern {@code pattern}. */
    public static boolean lrScaleNames(String pattern, String key) {
        StringBuilder re = new StringBuilder();
        String[] parts = pattern.split("\\*", -1);
        for (int i = 0; i < parts.length; i++) {
            re.append(i > 0 ? "[^.]*" : "").append(java.util.regex.Pattern.quote(parts[i]));
        }
        return java.util.regex.Pattern.compile(re.toString()).matcher(key).lookingAt();
    }

    /** Relative-position questions of {@link #withPositionShare} come from this ShapesBench seed offset past the data seed. */
    public static final long POSITION_SEED_OFFSET = 3;

    /** Data seeds below this are test and example splits; training data comes from this seed up. */
    public static final long FIRST_TRAINING_SEED = 1000;

    /**
     * With training data seed {@code seed} (ShapesBench seed; the vision stage reads {@code seed + 2}), so that runs
     * differing only in their data can measure run-to-run spread. Must be at least {@link #FIRST_TRAINING_SEED}.
     */
    public TrainSettings withDataSeed(long seed) {
        if (seed < FIRST_TRAINING_SEED) {
            throw new IllegalArgumentException("must be at least " + FIRST_TRAINING_SEED + " (seeds below "
                    + FIRST_TRAINING_SEED + " are the test and example splits), got " + seed);
        }
        return with(e -> e.dataSeed = seed);
    }

    /** With initialisation seed {@code seed} (the random weights and the training-only patch-label head). */
    public TrainSettings withInitSeed(long seed) {
        return with(e -> e.initSeed = seed);
    }

    /** A copy with the fields that {@code change} sets on an editable copy of this one (the one place to copy). */
    TrainSettings with(java.util.function.Consumer<Edit> change) {
        Edit e = new Edit(this);
        change.accept(e);
        return e.build();
    }

    /** The fields of a {@link TrainSettings}, editable; {@link #with} copies through it. */
    static final class Edit {
        String preset;
        int imageSize;
        int patch;
        int visionWidth;
        int visionLayers;
        int visionHeads;
        int textWidth;
        int textLayers;
        int textHeads;
        int kvHeads;
        int ffn;
        int segDim;
        int batchSize;
        int steps;
        float peakLr;
        float minLrFraction;
        int warmupSteps;
        float weightDecay;
        float clipNorm;
        float segWeight;
        float auxWeight;
        float groundWeight;
        float promptWeight;
        float pointWeight;
        long dataSeed;
        long initSeed;
        int shots;
        int views;
        Map<String, Double> mixture;
        Map<String, Double> earlyMixture;
        double earlyFraction;
        int checkpointEvery;
        double maxMinutes;
        String initFrom;
        int visionSteps;
        double shapeFirstCaptions;
        boolean pointAbsent;
        boolean pointSeg;
        boolean point3d;
        int segRefine;
        boolean stepSchedule;
        boolean pointSplit;
        boolean patchPosition;
        boolean positionOnTokens;
        double positionShare;
        int positionReadout;
        float readoutWeight;
        Map<String, Double> lrScales;
        double ropeTheta;
        float keyLookupWeight;
        float questionPointWeight;
        int nameReadout;
        boolean position2d;
        boolean position2dAfterProjector;
        boolean label3d;
        boolean pointSegAnchor;
        boolean pointSegAnchorUnpointed;
        float position2dLinear;
        float valuePositionWeight;
        boolean pointCountSink;

        Edit(TrainSettings t) {
            preset = t.preset;
            imageSize = t.imageSize;
            patch = t.patch;
            visionWidth = t.visionWidth;
            visionLayers = t.visionLayers;
            visionHeads = t.visionHeads;
            textWidth = t.textWidth;
            textLayers = t.textLayers;
            textHeads = t.textHeads;
            kvHeads = t.kvHeads;
            ffn = t.ffn;
            segDim = t.segDim;
            batchSize = t.batchSize;
            steps = t.steps;
            peakLr = t.peakLr;
            minLrFraction = t.minLrFraction;
            warmupSteps = t.warmupSteps;
            weightDecay = t.weightDecay;
            clipNorm = t.clipNorm;
            segWeight = t.segWeight;
            auxWeight = t.auxWeight;
            groundWeight = t.groundWeight;
            promptWeight = t.promptWeight;
            pointWeight = t.pointWeight;
            dataSeed = t.dataSeed;
            initSeed = t.initSeed;
            shots = t.shots;
            views = t.views;
            mixture = t.mixture;
            earlyMixture = t.earlyMixture;
            earlyFraction = t.earlyFraction;
            checkpointEvery = t.checkpointEvery;
            maxMinutes = t.maxMinutes;
            initFrom = t.initFrom;
            visionSteps = t.visionSteps;
            shapeFirstCaptions = t.shapeFirstCaptions;
            pointAbsent = t.pointAbsent;
            pointSeg = t.pointSeg;
            point3d = t.point3d;
            segRefine = t.segRefine;
            stepSchedule = t.stepSchedule;
            pointSplit = t.pointSplit;
            patchPosition = t.patchPosition;
            positionOnTokens = t.positionOnTokens;
            positionShare = t.positionShare;
            positionReadout = t.positionReadout;
            readoutWeight = t.readoutWeight;
            lrScales = t.lrScales;
            ropeTheta = t.ropeTheta;
            keyLookupWeight = t.keyLookupWeight;
            questionPointWeight = t.questionPointWeight;
            nameReadout = t.nameReadout;
            position2d = t.position2d;
            position2dAfterProjector = t.position2dAfterProjector;
            label3d = t.label3d;
            pointSegAnchor = t.pointSegAnchor;
            pointSegAnchorUnpointed = t.pointSegAnchorUnpointed;
            position2dLinear = t.position2dLinear;
            valuePositionWeight = t.valuePositionWeight;
            pointCountSink = t.pointCountSink;
        }

        TrainSettings build() {
            return new TrainSettings(preset, imageSize, patch, visionWidth, visionLayers, visionHeads, textWidth,
                    textLayers, textHeads, kvHeads, ffn, segDim, batchSize, steps, peakLr, minLrFraction,
                    warmupSteps, weightDecay, clipNorm, segWeight, auxWeight, groundWeight, promptWeight,
                    pointWeight, dataSeed, initSeed, shots, views, mixture, earlyMixture, earlyFraction,
                    checkpointEvery, maxMinutes, initFrom, visionSteps, shapeFirstCaptions, pointAbsent, pointSeg, point3d,
                    segRefine, stepSchedule, pointSplit, patchPosition, positionOnTokens, positionShare,
                    positionReadout, readoutWeight, lrScales, ropeTheta, keyLookupWeight, questionPointWeight, nameReadout,
                    position2d, position2dAfterProjector, label3d, pointSegAnchor, pointSegAnchorUnpointed,
                    position2dLinear, valuePositionWeight, pointCountSink);
        }
    }

    /** The track mixture in effect at a step (the early mixture for the first {@code earlyFraction} of the steps). */
    public Map<String, Double> mixtureAt(int step) {
        return mixtureAt(step, 0);
    }

    /**
     * The track mixture in effect at a step when {@code timeFraction} of the full recipe's time budget is spent: like
     * the learning rate ({@link #scheduledLr}), the switch to the late mixture follows whichever of the steps and the
     * clock is further along, unless {@link #stepSchedule} ties it to the steps, so that a run its budget stops early
     * still trains the late mixture's tracks.
     */
    public Map<String, Double> mixtureAt(int step, double timeFraction) {
        boolean early = step < earlyFraction * steps && (stepSchedule || timeFraction < earlyFraction);
        return early ? earlyMixture : mixture;
    }

    /**
     * Decoder layers whose first half of query heads the pointing loss supervises: the second quarter of the stack
     * (layers 2 and 3 of 8), after layers that can gather the question's words at the answer position.
     */
    public int[] pointLayers() {
        int from = textLayers / 4;
        int to = Math.max(from + 1, textLayers / 2);
        return java.util.stream.IntStream.range(from, to).toArray();
    }

    public int grid() {
        return imageSize / patch;
    }

    /** The model configuration for a vocabulary, with the [SEG] head, the 3D position embedding and, if asked, the 2D one. */
    public LlavaConfig modelConfig(int vocab, int imageTokenId, int segTokenId, int bos, int eos, int pad) {
        ClipVisionConfig v = new ClipVisionConfig(visionWidth, visionWidth * 4, visionLayers, visionHeads, 3, imageSize,
                patch, "quick_gelu", 1e-5, visionWidth);
        LlamaTextConfig t = new LlamaTextConfig(vocab, textWidth, ffn, textLayers, textHeads, kvHeads,
                textWidth / textHeads, "silu", 4096, 1e-5, ropeTheta, false, bos, eos, pad);
        // features from the last vision layer (the tower is trained for LLaVA alone, nothing else reads it)
        return new LlavaConfig(v, t, List.of(-1), "default", imageTokenId, "gelu", true,
                new SieveExtras(segTokenId, segDim, SEG_CELL, true, segRefine, position2d, position2dAfterProjector));
    }

    /** Learning rate at a step: linear warm-up, then cosine decay to {@code minLrFraction * peakLr}. */
    public float lr(int step) {
        return lr(step, 0);
    }

    /** The learning rate this run uses at a step: {@link #lr(int, double)}, with the clock left out under {@link #stepSchedule}. */
    public float scheduledLr(int step, double timeFraction) {
        return lr(step, stepSchedule ? 0 : timeFraction);
    }

    /**
     * Learning rate at a step when {@code timeFraction} of the time budget is spent: the cosine follows whichever
     * is further along, the steps or the clock, so a run stopped by its time budget still ends its schedule.
     */
    public float lr(int step, double timeFraction) {
        if (step < warmupSteps) {
            return peakLr * (step + 1) / warmupSteps;
        }
        double p = Math.max((double) (step - warmupSteps) / Math.max(1, steps - warmupSteps), timeFraction);
        double cos = 0.5 * (1 + Math.cos(Math.PI * Math.min(1, p)));
        return (float) (peakLr * (minLrFraction + (1 - minLrFraction) * cos));
    }
}
