package io.tokensieve.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.config.PreprocessorConfig;
import io.tokensieve.core.image.ClipImageProcessor;
import io.tokensieve.core.model.ClipVisionModel;
import io.tokensieve.core.model.LlavaForConditionalGeneration;
import io.tokensieve.core.text.PromptTemplate;
import io.tokensieve.core.text.SieveTokenizer;
import io.tokensieve.core.text.WordLevelTokenizer;
import io.tokensieve.core.train.AdamW;
import io.tokensieve.core.train.AuxPatchHead;
import io.tokensieve.core.train.TrainExample;
import io.tokensieve.core.train.TrainingForward;
import io.tokensieve.core.util.FileTrees;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;
import io.tokensieve.core.weights.SafetensorsReader;
import io.tokensieve.core.weights.SafetensorsWriter;
import io.tokensieve.datasets.shapes.PatchLabels;
import io.tokensieve.datasets.shapes.PosedView;
import io.tokensieve.datasets.shapes.Scene2d;
import io.tokensieve.datasets.shapes.Scene3d;
import io.tokensieve.datasets.shapes.ShapesBench;
import io.tokensieve.datasets.shapes.ShapesExample;
import io.tokensieve.datasets.shapes.ShapesVocabulary;
import io.tokensieve.datasets.shapes.Track;
import io.tokensieve.datasets.shapes.VqaExample;
import io.tokensieve.eval.Progress;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Trains a LLaVA-architecture model on ShapesBench with DJL autograd on CPU. Periodic checkpoints (weights,
 * AdamW moments, step, elapsed time) are written atomically to {@code OUT/checkpoint}, so a killed run
 * resumes where its last checkpoint left it; the finished model is written to {@code OUT} in HF format.
 */
public final class Trainer {
    public static final String CHECKPOINT = "checkpoint";
    static final String STATE = "trainer_state.json";
    static final String OPTIMIZER = "optimizer.safetensors";
    public static final String TRAINING_INFO = "training.json";
    public static final String AUX = "aux_head.safetensors";
    /**
     * The read-out's classifiers ({@link TrainSettings#positionReadout} or {@link TrainSettings#nameReadout}), beside
     * {@link #AUX}.
     */
    public static final String READOUT = "readout_head.safetensors";
    /** The key-lookup loss's learned queries ({@link TrainSettings#keyLookupWeight}), beside {@link #AUX}. */
    public static final String LOOKUP = "lookup_queries.safetensors";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final TrainSettings settings;
    private final Path out;
    private final PrintStream log;
    /** Where a resumed run switched the schedule's clock (step and new {@code --step-schedule}), kept in the checkpoint and training.json. */
    private final List<String> scheduleSwitches = new ArrayList<>();

    /**
     * What a run produced: where the model is, how many full-recipe steps and how long it took. A run its budget
     * stopped inside the vision stage writes no model, only its checkpoint: {@code visionSteps} says how far the stage got.
     */
    public record Outcome(Path modelDir, int steps, double wallSeconds, boolean finished, List<String> lossLog, int visionSteps) {

        /** Whether the budget stopped the run inside its vision stage (nothing but the checkpoint was written). */
        public boolean inVisionStage() {
            return !finished && steps == 0 && visionSteps > 0;
        }
    }

    public Trainer(TrainSettings settings, Path out, PrintStream log) {
        this.settings = settings;
        this.out = out;
        this.log = log;
    }

    /** The word-level vocabulary of the embedded model: specials, then every ShapesBench word. */
    public static WordLevelTokenizer tokenizer() {
        return new WordLevelTokenizer(List.of(WordLevelTokenizer.UNK, WordLevelTokenizer.BOS, WordLevelTokenizer.EOS,
                WordLevelTokenizer.PAD, WordLevelTokenizer.IMAGE, WordLevelTokenizer.SEG), ShapesVocabulary.words());
    }

    /**
     * Learning-rate factor of a mask-head refinement layer that a continuation adds to a trained model: the layer
     * starts from scratch and has only the continuation's few hundred steps (a guess, like its value).
     */
    static final float FRESH_LAYER_LR_SCALE = 20f;

    /**
     * Learning-rate factor of the vision tower's position embeddings under {@code --patch-position}: a tower trained
     * without a position signal keeps them small against the patch content (norm about 1.3 against about 27 in the
     * bundled model), and at the base rate a continuation's position loss on object patches barely moved in 800
     * vision-stage steps (cross-entropy 3.8 against 4.2 for chance), against 1.1 after 300 at this factor (its value
     * is a guess, the same as {@link #FRESH_LAYER_LR_SCALE}).
     */
    static final float POSITION_LR_SCALE = 20f;

    /** The optimiser of a run: AdamW with the preset's decay and clipping, and the per-parameter rate factors. */
    static AdamW optimiser(TrainSettings settings, boolean addsSegRefine) {
        AdamW opt = new AdamW(0.9f, 0.98f, 1e-8f, settings.weightDecay(), settings.clipNorm());
        if (addsSegRefine) {
            opt.scaleLearningRate(CheckpointKeys.segHead("refine."), FRESH_LAYER_LR_SCALE);
        }
        if (settings.patchPosition()) {
            opt.scaleLearningRate(CheckpointKeys.positionEmbedding(), POSITION_LR_SCALE);
        }
        return opt;
    }

    /** Whether this run continues a model without the mask head's refinement layer and adds one. */
    static boolean addsSegRefine(TrainSettings s) {
        if (s.initFrom() == null || s.segRefine() == 0) {
            return false;
        }
        Path dir = Path.of(s.initFrom());
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException(dir + ": no config.json (the model this run continues; --init-from needs a "
                    + "model folder written by sieve train)");
        }
        return LlavaConfig.load(dir).extras().segRefineHidden() == 0;
    }

    /**
     * The weights of a previous run's model, which must have this run's configuration, except that this run may change
     * the rotary base and add the mask head's refinement layer: its parameters then start fresh ({@code initSeed}),
     * with the output layer at zero so that the continued model starts from the previous one's masks.
     */
    static ModelWeights initialWeights(Path dir, LlavaConfig config, long initSeed, NDManager base) throws IOException {
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException(dir + ": no config.json (--init-from needs a model folder written by sieve train)");
        }
        // a continuation may change the rotary base: no weight depends on it
        LlavaConfig theirs = LlavaConfig.load(dir);
        theirs = theirs.withText(theirs.text().withRopeTheta(config.text().ropeTheta()));
        boolean addsRefine = theirs.extras().segRefineHidden() == 0 && config.extras().segRefineHidden() > 0
                && theirs.withExtras(config.extras()).equals(config);
        if (!theirs.equals(config) && !addsRefine) {
            throw new IllegalArgumentException(dir + ": its configuration differs from this preset's; --init-from continues a "
                    + "run of the same preset (it may add --seg-refine or change --rope-theta)");
        }
        if (!addsRefine) {
            return ModelWeights.load(dir, config, base);
        }
        return ModelWeights.load(dir, theirs, base).extendedTo(config, initSeed, CheckpointKeys.segHead("refine.fc2"));
    }

    /**
     * Classes of each kind of the patch-label head: colour, shape, glyph; with {@link TrainSettings#label3d}, the 3D
     * shape; with patch positions, column and row; and with positions on the tokens as well, column and row once more
     * (read from the projected tokens).
     */
    static int[] auxClasses(TrainSettings s) {
        int[] kinds = s.label3d() ? new int[] {PatchLabels.COLOURS, PatchLabels.SHAPES, PatchLabels.GLYPHS, PatchLabels.SHAPES_3D}
                : new int[] {PatchLabels.COLOURS, PatchLabels.SHAPES, PatchLabels.GLYPHS};
        if (!s.patchPosition()) {
            return kinds;
        }
        int g = s.grid();
        int[] out = Arrays.copyOf(kinds, kinds.length + (s.positionOnTokens() ? 4 : 2));
        Arrays.fill(out, kinds.length, out.length, g);
        return out;
    }

    /**
     * The training-only patch-label head: every kind on the vision features, except that with
     * {@link TrainSettings#positionOnTokens} the second column and row kinds read the projected tokens. The first
     * pair on the features is what teaches the tower position quickly (a head on the RMS-normalised tokens alone
     * left the loss near chance for 300 stage steps); the second makes the projector pass it on.
     */
    static AuxPatchHead auxHead(TrainSettings s, NDManager manager) {
        int[] classes = auxClasses(s);
        int tokenKindsFrom = s.patchPosition() && s.positionOnTokens() ? classes.length - 2 : classes.length; // last two
        return new AuxPatchHead(manager, s.visionWidth(), classes, tokenKindsFrom, s.textWidth(), s.initSeed() + 1);
    }

    /**
     * The training-only read-out of {@link TrainSettings#positionReadout} (column and row of each of the two compared
     * objects) or of {@link TrainSettings#nameReadout} (colour, shape and size named by each of two phrases,
     * {@link Pointing#NAME_CLASSES}), from decoder hidden states ({@code textWidth} wide); null when off.
     */
    static AuxPatchHead readoutHead(TrainSettings s, NDManager manager) {
        if (s.nameReadout() > 0 && s.positionReadout() > 0) {
            throw new IllegalArgumentException("the name and the position read-out share one read-out: choose one");
        }
        if (s.nameReadout() > 0) {
            return new AuxPatchHead(manager, "readout", s.textWidth(), Pointing.NAME_CLASSES, s.initSeed() + 2);
        }
        if (s.positionReadout() == 0) {
            return null;
        }
        int g = s.grid();
        return new AuxPatchHead(manager, "readout", s.textWidth(), new int[] {g, g, g, g}, s.initSeed() + 2);
    }

    /**
     * The training-only queries of {@link TrainSettings#keyLookupWeight}: per pointed layer, one per colour and one
     * per shape (rows of a colour kind and a shape kind, head-dimension wide); null when off.
     */
    static AuxPatchHead lookupQueries(TrainSettings s, NDManager manager) {
        if (s.keyLookupWeight() == 0) {
            return null;
        }
        int layers = s.pointLayers().length;
        int[] classes = new int[TrainingForward.LOOKUP_KINDS * layers];
        for (int p = 0; p < layers; p++) {
            classes[2 * p] = PatchLabels.COLOURS;
            classes[2 * p + 1] = PatchLabels.SHAPES;
        }
        // unit-scale queries (a guess) against keys of the decoder's scale: a sharp softmax is reachable from the first
        // step; at the full recipe's learning rate they move little, so the keys learn to meet them
        return new AuxPatchHead(manager, "lookup", s.textWidth() / s.textHeads(), classes, s.initSeed() + 3, 1.0);
    }

    /** The patch-label head's labels of a 2D scene ({@link #auxClasses} kinds). */
    static int[][] patchLabels(Scene2d scene, TrainSettings s) {
        int[] owner = PatchLabels.objects(scene, s.grid());
        int[][] l = PatchLabels.of(scene, owner, s.grid());
        if (s.label3d()) { // no 3D shape on a 2D image: its kind unlabelled
            l = Arrays.copyOf(l, l.length + 1);
            l[l.length - 1] = new int[owner.length];
            Arrays.fill(l[l.length - 1], -1);
        }
        return withPositions(l, owner, s);
    }

    /**
     * The patch-label head's labels of one view of a 3D example ({@link #auxClasses} kinds; {@link PatchLabels#ofView}):
     * its position kinds, if any, unlabelled (a view's cells are not where its objects are in the scene).
     */
    static int[][] viewLabels(PosedView view, Scene3d scene, TrainSettings s) {
        int[][] l = PatchLabels.ofView(view, scene, s.grid());
        int[] none = new int[l[0].length];
        Arrays.fill(none, -1);
        return withPositions(l, none, s);
    }

    /** {@code labels} with the column and row kinds {@link #auxClasses} adds (unlabelled where {@code owner} is -1). */
    private static int[][] withPositions(int[][] labels, int[] owner, TrainSettings s) {
        if (!s.patchPosition()) {
            return labels;
        }
        int[][] l = PatchLabels.withPosition(labels, owner, s.grid());
        if (!s.positionOnTokens()) {
            return l;
        }
        int[][] both = Arrays.copyOf(l, l.length + 2);
        both[l.length] = l[l.length - 2]; // the same column and row labels, for the kinds on the tokens
        both[l.length + 1] = l[l.length - 1];
        return both;
    }

    /**
     * Token id of every patch-label word ({@link PatchLabels#words()}, with {@link TrainSettings#label3d} the 3D shapes'
     * too, {@link PatchLabels#words3d()}), -1 for background.
     */
    static int[][] labelTokens(WordLevelTokenizer wl, TrainSettings s) {
        String[][] words = PatchLabels.words();
        if (s.label3d()) {
            words = Arrays.copyOf(words, words.length + 1);
            words[words.length - 1] = PatchLabels.words3d();
        }
        int[][] ids = new int[words.length][];
        for (int k = 0; k < words.length; k++) {
            ids[k] = new int[words[k].length];
            for (int c = 0; c < words[k].length; c++) {
                ids[k][c] = words[k][c] == null ? -1 : wl.id(words[k][c]);
            }
        }
        return ids;
    }

    /** The full recipe's training pass for these settings: the losses they turn on, with their weights. */
    static TrainingForward trainingForward(TrainSettings settings, LlavaForConditionalGeneration model, AuxPatchHead aux,
                                           AuxPatchHead readout, AuxPatchHead lookup, WordLevelTokenizer wl) {
        TrainingForward forward = new TrainingForward(model, settings.segWeight(), aux, settings.auxWeight());
        if (settings.groundWeight() > 0) {
            forward.withGrounding(labelTokens(wl, settings), settings.groundWeight());
        }
        if (settings.promptWeight() > 0) {
            forward.withPromptLoss(settings.promptWeight());
        }
        if (settings.pointWeight() > 0) {
            forward.withPointing(settings.pointWeight(), settings.pointLayers(), settings.textHeads() / 2);
            forward.withQuestionPointWeight(settings.questionPointWeight());
            forward.withUnpointedSecondTargets(settings.pointSegAnchorUnpointed() // the track name ShapesTrainData gives
                    ? Track.SEG.name().toLowerCase(java.util.Locale.ROOT) : null);
        }
        if (readout != null) {
            forward.withReadout(readout, settings.nameReadout() > 0 ? settings.nameReadout() : settings.positionReadout(),
                    settings.readoutWeight());
        }
        if (lookup != null) {
            if (settings.pointWeight() == 0) {
                throw new IllegalArgumentException("the key-lookup loss works on the pointed layers: it needs a pointing "
                        + "weight above 0");
            }
            forward.withKeyLookup(lookup, settings.keyLookupWeight());
        }
        if (settings.valuePositionWeight() > 0) {
            if (settings.pointWeight() == 0) {
                throw new IllegalArgumentException("the value-position loss works on the pointed layers: it needs a "
                        + "pointing weight above 0");
            }
            forward.withValuePosition(settings.valuePositionWeight());
        }
        return forward;
    }

    /** The full recipe's generated examples, tokenised with the run's vocabulary (closing it closes the tokenizer). */
    static ShapesTrainData trainData(TrainSettings settings, WordLevelTokenizer wl) throws IOException {
        Path tokDir = Files.createTempDirectory("sieve-tok");
        wl.save(tokDir);
        SieveTokenizer tokenizer = SieveTokenizer.load(tokDir);
        FileTrees.delete(tokDir); // the tokenizer is read into memory; the folder only existed to load it from a path
        return new ShapesTrainData(settings, tokenizer, new ClipImageProcessor(PreprocessorConfig.clip(settings.imageSize())),
                PromptTemplate.LLAVA15, wl.id(WordLevelTokenizer.EOS));
    }

    public Outcome run(boolean resume) throws IOException {
        Files.createDirectories(out);
        Path ckpt = out.resolve(CHECKPOINT);
        WordLevelTokenizer wl = tokenizer();
        LlavaConfig config = settings.modelConfig(wl.size(), wl.id(WordLevelTokenizer.IMAGE), wl.id(WordLevelTokenizer.SEG),
                wl.id(WordLevelTokenizer.BOS), wl.id(WordLevelTokenizer.EOS), wl.id(WordLevelTokenizer.PAD));
        PreprocessorConfig pre = PreprocessorConfig.clip(settings.imageSize());
        int start = 0;
        double elapsedBefore = 0;
        double stageSeconds = 0; // time of the vision stage, which the full recipe's clock-driven schedule leaves out
        List<String> lossLog = new ArrayList<>();
        NDManager base = NDManager.newBaseManager();
        ModelWeights weights;
        Map<String, float[]> savedMoments = null; // the full recipe's optimiser, from a checkpoint of the full recipe
        long savedOptimizerStep = 0;
        int visionStart = 0; // from a checkpoint of the vision stage: its step, its optimiser's moments and step
        Map<String, float[]> visionMoments = null;
        long visionOptimizerStep = 0;
        AdamW opt = optimiser(settings, addsSegRefine(settings));
        recoverInterruptedSave(ckpt);
        if (resume && Files.isDirectory(ckpt)) {
            JsonNode st = JSON.readTree(ckpt.resolve(STATE).toFile());
            TrainSettings saved = JSON.treeToValue(st.get("settings"), TrainSettings.class);
            if (!sameRun(saved, settings)) {
                throw new IllegalArgumentException(ckpt + ": the checkpoint was made with other settings (" + saved.preset()
                        + "); resume with the same options" + resumeCommand(saved) + " or start a new --out folder");
            }
            weights = ModelWeights.load(ckpt, config, base);
            start = st.get("step").asInt();
            elapsedBefore = st.get("elapsed_seconds").asDouble();
            stageSeconds = st.path("vision_stage_seconds").asDouble(0);
            st.get("loss_log").forEach(n -> lossLog.add(n.asText()));
            SafetensorsReader r = SafetensorsReader.openFile(ckpt.resolve(OPTIMIZER));
            Map<String, float[]> moments = new LinkedHashMap<>();
            for (String k : r.tensors().keySet()) {
                moments.put(k, r.readFloats(k));
            }
            if (VISION_STAGE.equals(st.path("stage").asText())) {
                // a checkpoint of the vision stage: its moments are the stage's optimiser's, the full recipe's is fresh
                visionStart = st.get("vision_step").asInt();
                visionMoments = moments;
                visionOptimizerStep = st.get("optimizer_step").asLong();
                if (visionStart < settings.visionSteps()) {
                    log.printf("resuming the vision stage from step %d of %d (%.1f min already spent)%n", visionStart,
                            settings.visionSteps(), elapsedBefore / 60);
                } else {
                    log.printf("resuming after the vision stage, at step 0 of the full recipe (%.1f min already spent)%n",
                            elapsedBefore / 60);
                }
            } else {
                savedMoments = moments;
                savedOptimizerStep = st.get("optimizer_step").asLong();
                log.printf("resuming from step %d (%.1f min already spent)%n", start, elapsedBefore / 60);
            }
            st.path("schedule_switches").forEach(n -> scheduleSwitches.add(n.asText()));
            if (saved.stepSchedule() != settings.stepSchedule()) {
                scheduleSwitches.add("step " + start + ": step_schedule " + settings.stepSchedule());
                log.printf("from step %d the learning-rate cosine and the mixture switch follow %s (they followed %s)%n", start,
                        scheduleWords(settings), scheduleWords(saved));
            }
        } else {
            if (Files.isDirectory(ckpt)) {
                throw new IllegalArgumentException(ckpt + " exists: pass --resume to continue that run, or choose another --out");
            }
            weights = settings.initFrom() == null ? ModelWeights.random(config, settings.initSeed(), 0.02f, base)
                    : initialWeights(Path.of(settings.initFrom()), config, settings.initSeed(), base);
            if (settings.position2dLinear() != 0) { // once, when the run starts: a resumed run's table holds it
                NDArray table = weights.get(CheckpointKeys.pos2d()); // [patches, D]
                Shape shape = table.getShape();
                float[] add = Position2dLinear.component((int) shape.get(0), (int) shape.get(1),
                        settings.position2dLinear());
                try (NDArray delta = base.create(add, shape)) {
                    table.addi(delta);
                }
                log.printf("2D table: a linear coordinate of scale %.2f added to its %d cells%n",
                        settings.position2dLinear(), shape.get(0));
            }
        }
        weights.setTrainable(true);
        LlavaForConditionalGeneration model = new LlavaForConditionalGeneration(config, weights);
        AuxPatchHead aux = settings.auxWeight() > 0 ? auxHead(settings, base) : null;
        AuxPatchHead readout = readoutHead(settings, base);
        AuxPatchHead lookup = lookupQueries(settings, base);
        if (resume) {
            loadHead(aux, ckpt.resolve(AUX));
            loadHead(readout, ckpt.resolve(READOUT));
            loadHead(lookup, ckpt.resolve(LOOKUP));
        }
        Map<String, NDArray> trainable = new LinkedHashMap<>(weights.all());
        if (aux != null) {
            trainable.putAll(aux.parameters());
        }
        if (readout != null) {
            trainable.putAll(readout.parameters());
        }
        if (lookup != null) {
            trainable.putAll(lookup.parameters());
        }
        java.util.Set<String> scaled = new java.util.HashSet<>(); // the first pattern naming a weight wins
        for (var e : settings.lrScales().entrySet()) {
            List<String> named = trainable.keySet().stream().filter(k -> TrainSettings.lrScaleNames(e.getKey(), k)).toList();
            if (named.isEmpty()) {
                throw new IllegalArgumentException("--lr-scale " + e.getKey() + ": names no weight of this run (weights are "
                        + "named like " + CheckpointKeys.textLayer(0, "self_attn.v_proj.weight") + ")");
            }
            // whole keys, which override the built-in factors (fresh layers, position embeddings) on the same weights
            named.stream().filter(scaled::add).forEach(k -> opt.scaleLearningRate(k, e.getValue().floatValue()));
        }
        if (savedMoments != null) {
            opt.restore(savedMoments, trainable, savedOptimizerStep, base);
        }
        TrainingForward forward = trainingForward(settings, model, aux, readout, lookup, wl);
        if (savedMoments == null && settings.visionSteps() > 0) {
            if (aux == null) {
                throw new IllegalArgumentException("a vision stage trains the patch-label head: it needs an aux weight above 0");
            }
            long v0 = System.nanoTime();
            double spentBefore = elapsedBefore; // all of it in the stage: a full-recipe checkpoint would not come here
            List<String> before = List.copyOf(lossLog);
            VisionStageHook hook = (done, stageOpt, lines) -> {
                double elapsed = spentBefore + (System.nanoTime() - v0) / 1e9;
                boolean outOfTime = elapsed / 60 > settings.maxMinutes();
                if (done % settings.checkpointEvery() == 0 || done == settings.visionSteps() || outOfTime) {
                    List<String> all = new ArrayList<>(before);
                    all.addAll(lines);
                    saveCheckpoint(ckpt, weights, aux, readout, lookup, stageOpt, config, pre, wl, 0, elapsed, elapsed, all, done);
                }
                return outOfTime && done < settings.visionSteps();
            };
            VisionStageResult stage = visionStage(settings, model, weights, aux, new ClipImageProcessor(pre), base, log,
                    visionStart, visionMoments, visionOptimizerStep, hook);
            lossLog.addAll(stage.lines());
            double spent = (System.nanoTime() - v0) / 1e9;
            stageSeconds = spentBefore + spent;
            elapsedBefore += spent; // the time budget covers both stages
            if (stage.done() < settings.visionSteps()) {
                log.printf("%nstopping in the vision stage at step %d of %d: the %.0f-minute budget is spent (--resume "
                        + "continues it)%n", stage.done(), settings.visionSteps(), settings.maxMinutes());
                weights.close();
                return new Outcome(out, 0, elapsedBefore, false, lossLog, stage.done());
            }
        }
        ShapesTrainData data = trainData(settings, wl);

        long t0 = System.nanoTime();
        Progress progress = Progress.onStderr("train", settings.steps(), start);
        BlockingQueue<List<ShapesExample>> queue = new ArrayBlockingQueue<>(3);
        int first = start;
        double before = elapsedBefore;
        double stage = stageSeconds;
        // the share of the full recipe's time budget spent now, which the learning rate and the mixture switch follow
        java.util.function.DoubleSupplier budgetSpent = () -> fullRecipeTimeFraction(before + (System.nanoTime() - t0) / 1e9,
                stage, settings.maxMinutes());
        Thread producer = new Thread(() -> {
            try {
                for (int s = first; s < settings.steps(); s++) {
                    // the clock when the batch is rendered, at most the queue's three steps ahead of its use
                    queue.put(data.examples(s, budgetSpent.getAsDouble()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "shapes-batches");
        producer.setDaemon(true);
        producer.start();

        Ema loss = new Ema();
        Map<String, Ema> perTrack = new LinkedHashMap<>();
        int skipped = 0;
        int step = start;
        boolean outOfTime = false;
        try {
            for (; step < settings.steps(); step++) {
                // scenes are rendered ahead on another thread; tokenising and tensor work stay on this one
                List<TrainExample> batch = new ArrayList<>();
                for (ShapesExample ex : queue.take()) {
                    batch.add(data.convert(ex));
                }
                double spent = budgetSpent.getAsDouble();
                float lr = settings.scheduledLr(step, spent);
                try (NDManager sub = base.newSubManager()) {
                    TrainingForward.Losses l;
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        l = forward.forward(sub, batch);
                        gc.backward(l.total());
                    }
                    float total = l.total().getFloat();
                    double norm;
                    if (Float.isFinite(total)) {
                        norm = opt.step(trainable, lr, sub);
                    } else {
                        norm = Double.NaN;
                    }
                    if (!Double.isFinite(norm)) {
                        AdamW.zeroGradients(trainable, sub);
                        if (++skipped > 20) {
                            throw new IllegalStateException("training diverged: " + skipped + " non-finite steps");
                        }
                    }
                    loss.add(total);
                    String track = batch.get(0).track();
                    perTrack.computeIfAbsent("lm", k -> new Ema()).add(l.lm().getFloat());
                    if (l.segExamples() > 0) {
                        perTrack.computeIfAbsent("seg", k -> new Ema()).add(l.seg().getFloat());
                    }
                    perTrack.computeIfAbsent("aux", k -> new Ema()).add(l.aux().getFloat());
                    perTrack.computeIfAbsent("ground", k -> new Ema()).add(l.ground().getFloat());
                    perTrack.computeIfAbsent("point", k -> new Ema()).add(l.point().getFloat());
                    if (readout != null && batch.stream().anyMatch(e -> e.readout() != null)) {
                        perTrack.computeIfAbsent("readout", k -> new Ema()).add(l.readout().getFloat());
                    }
                    if (lookup != null) {
                        perTrack.computeIfAbsent("lookup", k -> new Ema()).add(l.lookup().getFloat());
                    }
                    if (settings.valuePositionWeight() > 0 && batch.stream()
                            .anyMatch(e -> e.xyz() == null && !e.images().isEmpty())) { // a 3D batch has no such image
                        perTrack.computeIfAbsent("value", k -> new Ema()).add(l.value().getFloat());
                    }
                    if ((step + 1) % 25 == 0 || step == start) {
                        String line = String.format(
                                "step %d lr %.2e loss %.4f lm %.4f seg %.4f aux %.4f ground %.4f point %.4f%s%s%s gnorm %.2f %s",
                                step + 1, lr, loss.value(), perTrack.get("lm").value(),
                                perTrack.containsKey("seg") ? perTrack.get("seg").value() : Double.NaN,
                                perTrack.get("aux").value(), perTrack.get("ground").value(), perTrack.get("point").value(),
                                readout == null ? "" : String.format(" readout %.4f", perTrack.containsKey("readout")
                                        ? perTrack.get("readout").value() : Double.NaN),
                                lookup == null ? "" : String.format(" lookup %.4f", perTrack.get("lookup").value()),
                                settings.valuePositionWeight() > 0
                                        ? String.format(" value %.4f", perTrack.containsKey("value")
                                        ? perTrack.get("value").value() : Double.NaN) : "", norm, track);
                        lossLog.add(line);
                        if (System.console() == null) {
                            log.println(line);
                        }
                    }
                }
                progress.update(step + 1, String.format("loss %.3f", loss.value()));
                double elapsed = elapsedBefore + (System.nanoTime() - t0) / 1e9;
                boolean last = step + 1 == settings.steps();
                outOfTime = elapsed / 60 > settings.maxMinutes();
                if ((step + 1) % settings.checkpointEvery() == 0 || last || outOfTime) {
                    saveCheckpoint(ckpt, weights, aux, readout, lookup, opt, config, pre, wl, step + 1, elapsed, stageSeconds, lossLog, -1);
                }
                if (outOfTime && !last) {
                    log.printf("%nstopping at step %d: the %.0f-minute budget is spent%n", step + 1, settings.maxMinutes());
                    step++;
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        } finally {
            producer.interrupt();
        }
        double wall = elapsedBefore + (System.nanoTime() - t0) / 1e9;
        progress.finish(String.format("%d steps, %.1f min", step, wall / 60));
        // the finished model, in HF format, next to its checkpoint
        config.save(out);
        pre.save(out);
        wl.save(out);
        weights.setTrainable(false);
        weights.save(out, Map.of("preset", settings.preset(), "steps", String.valueOf(step)));
        ObjectNode info = JSON.createObjectNode();
        info.set("settings", JSON.valueToTree(settings));
        info.put("steps", step);
        info.put("wall_minutes", wall / 60);
        info.put("machine", machine());
        if (settings.initFrom() != null && Files.isRegularFile(Path.of(settings.initFrom(), TRAINING_INFO))) {
            info.set("init_from_training", JSON.readTree(Path.of(settings.initFrom(), TRAINING_INFO).toFile()));
        }
        if (!scheduleSwitches.isEmpty()) {
            scheduleSwitches.forEach(info.putArray("schedule_switches")::add);
        }
        var tail = info.putArray("loss_log");
        lossLog.subList(Math.max(0, lossLog.size() - 20), lossLog.size()).forEach(tail::add);
        JSON.writeValue(out.resolve(TRAINING_INFO).toFile(), info);
        data.close();
        weights.close();
        return new Outcome(out, step, wall, step >= settings.steps(), lossLog, settings.visionSteps());
    }

    /** Images of the vision stage come from this ShapesBench seed offset past the run's data seed. */
    static final long VISION_SEED_OFFSET = 2;

    /**
     * The vision stage: {@code settings.visionSteps()} steps that train the vision tower and the patch-label head
     * alone (nothing else is touched, except the projector when some of the head's kinds read the projected tokens;
     * it then keeps the grounding loss too, against the frozen embedding table), on batches of VQA-track images of
     * seed {@code dataSeed + 2}, with their own AdamW and the preset's warm-up and cosine schedule over the stage.
     * Returns its loss lines.
     */
    static List<String> visionStage(TrainSettings settings, LlavaForConditionalGeneration model, ModelWeights weights,
                                    AuxPatchHead aux, ClipImageProcessor processor, NDManager base, PrintStream log) {
        try {
            return visionStage(settings, model, weights, aux, processor, base, log, 0, null, 0, (d, o, l) -> false).lines();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // the hook above writes nothing
        }
    }

    /** The value of trainer_state.json's {@code stage} in a checkpoint of the vision stage (absent in the full recipe's). */
    static final String VISION_STAGE = "vision";

    /** Called after each vision-stage step with the steps done, the stage's optimiser and its loss lines; true stops the stage. */
    @FunctionalInterface
    interface VisionStageHook {
        boolean after(int done, AdamW stageOptimiser, List<String> lines) throws IOException;
    }

    /** What the vision stage did: its loss lines (of this invocation) and the steps done in all, at most its length. */
    record VisionStageResult(List<String> lines, int done) {}

    /**
     * {@link #visionStage(TrainSettings, LlavaForConditionalGeneration, ModelWeights, AuxPatchHead, ClipImageProcessor,
     * NDManager, PrintStream)} from step {@code from} (a resumed stage: its optimiser's {@code moments} and step count
     * restored; the images, learning rate and updates of each step depend on its index alone, so the resumed stage
     * ends where an uninterrupted one does), with {@code hook} after each step, which checkpoints and may stop it.
     */
    static VisionStageResult visionStage(TrainSettings settings, LlavaForConditionalGeneration model, ModelWeights weights,
                                         AuxPatchHead aux, ClipImageProcessor processor, NDManager base, PrintStream log,
                                         int from, Map<String, float[]> moments, long optimiserStep, VisionStageHook hook)
            throws IOException {
        int n = settings.visionSteps();
        int batch = settings.batchSize();
        int size = settings.imageSize();
        int grid = settings.grid();
        int per = grid * grid;
        int[] layers = model.config().resolvedFeatureLayers();
        int top = Arrays.stream(layers).max().orElse(0);
        // a projector the stage trains keeps the grounding loss too, so its tokens stay where the decoder expects them
        int[][] words = aux.readsTokens() && settings.groundWeight() > 0 ? labelTokens(tokenizer(), settings) : null;
        Map<String, NDArray> params = new LinkedHashMap<>();
        weights.all().forEach((k, v) -> {
            // kinds on the projected tokens need the projector to pass what they ask: a projector trained without
            // them drops it (through a frozen one, 500 steps left the position loss near chance)
            if (k.startsWith(CheckpointKeys.VISION) || aux.readsTokens() && k.startsWith(CheckpointKeys.PROJECTOR)) {
                params.put(k, v);
            }
        });
        params.putAll(aux.parameters());
        AdamW opt = optimiser(settings, false);
        if (moments != null) {
            opt.restore(moments, params, optimiserStep, base);
        }
        TrainSettings schedule = settings.withSteps(n);
        Progress progress = Progress.onStderr("vision", n, from);
        Ema loss = new Ema(); // a resumed stage's averages start afresh: only its log lines differ
        Ema groundLoss = new Ema();
        List<String> lines = new ArrayList<>();
        int done = from;
        for (int step = from; step < n; step++) {
            float[] pixels = new float[batch * 3 * size * size];
            int[][] labels = new int[aux.kinds()][batch * per];
            List<int[][]> byImage = new ArrayList<>();
            float[] mask = new float[batch * per];
            for (int i = 0; i < batch; i++) {
                VqaExample v = ShapesBench.vqa(settings.dataSeed() + VISION_SEED_OFFSET,
                        (step * batch + i) * ShapesBench.VQA_QUESTIONS_PER_IMAGE);
                System.arraycopy(processor.preprocess(ShapesTrainData.quantised(v.image())).chw(), 0, pixels,
                        i * 3 * size * size, 3 * size * size);
                int[][] l = patchLabels(v.scene(), settings);
                byImage.add(l);
                for (int k = 0; k < aux.kinds(); k++) {
                    System.arraycopy(l[k], 0, labels[k], i * per, per);
                }
                Arrays.fill(mask, i * per, (i + 1) * per, 1f);
            }
            try (NDManager sub = base.newSubManager()) {
                NDArray l;
                NDArray ground = null;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    List<NDArray> hs = model.visionTower().hiddenStates(
                            sub.create(pixels, new Shape(batch, 3, size, size)), top);
                    NDArray feats = hs.get(layers[0]).get(":, 1:, :"); // [B, N, Dv], as the full recipe's head reads them
                    NDArray tokens = aux.readsTokens() // [B, N, D], through the projector
                            ? model.multiModalProjector().forward(model.addPositionEmbeddings(sub,
                                    ClipVisionModel.select(hs, layers).get(":, 1:, :"), null, false)) : null;
                    l = aux.loss(feats, tokens, labels, mask);
                    if (words != null) {
                        ground = TrainingForward.grounding(sub, byImage, tokens.reshape(batch * per, -1),
                                model.languageModel().embedTokens(), per, words);
                        gc.backward(l.add(ground.mul(settings.groundWeight())));
                    } else {
                        gc.backward(l);
                    }
                }
                float lr = schedule.lr(step);
                double norm = opt.step(params, lr, sub);
                loss.add(l.getFloat());
                if (ground != null) {
                    groundLoss.add(ground.getFloat());
                }
                if ((step + 1) % 25 == 0 || step == from) {
                    String line = String.format("vision step %d lr %.2e aux %.4f%s gnorm %.2f", step + 1, lr, loss.value(),
                            words == null ? "" : String.format(" ground %.4f", groundLoss.value()), norm);
                    lines.add(line);
                    if (System.console() == null) {
                        log.println(line);
                    }
                }
            }
            progress.update(step + 1, String.format("aux %.3f", loss.value()));
            done = step + 1;
            if (hook.after(done, opt, lines)) {
                break;
            }
        }
        AdamW.zeroGradients(weights.all(), base); // the embedding table's, from grounding: not this stage's to apply
        progress.finish(String.format("%d of %d vision steps", done, n));
        return new VisionStageResult(lines, done);
    }

    /** Writes the checkpoint; {@code visionStep} is the vision stage's step for a checkpoint of that stage, else -1. */
    private void saveCheckpoint(Path ckpt, ModelWeights w, AuxPatchHead aux, AuxPatchHead readout, AuxPatchHead lookup, AdamW opt, LlavaConfig config,
                                PreprocessorConfig pre, WordLevelTokenizer wl, int step, double elapsed, double stageSeconds,
                                List<String> lossLog, int visionStep) throws IOException {
        Path tmp = ckpt.resolveSibling(CHECKPOINT + ".tmp");
        FileTrees.delete(tmp);
        Files.createDirectories(tmp);
        config.save(tmp);
        pre.save(tmp);
        wl.save(tmp);
        w.save(tmp, Map.of("step", String.valueOf(step)));
        SafetensorsWriter ow = new SafetensorsWriter();
        for (Map.Entry<String, NDArray> e : opt.state().entrySet()) {
            ow.put(e.getKey(), e.getValue().getShape().getShape(), e.getValue().toFloatArray());
        }
        ow.writeFile(tmp.resolve(OPTIMIZER));
        saveHead(aux, tmp.resolve(AUX));
        saveHead(readout, tmp.resolve(READOUT));
        saveHead(lookup, tmp.resolve(LOOKUP));
        ObjectNode st = JSON.createObjectNode();
        st.put("step", step);
        st.put("optimizer_step", opt.stepCount());
        st.put("elapsed_seconds", elapsed);
        st.put("vision_stage_seconds", stageSeconds);
        if (visionStep >= 0) { // a checkpoint inside the vision stage (or at its end): the optimiser is the stage's
            st.put("stage", VISION_STAGE);
            st.put("vision_step", visionStep);
        }
        st.set("settings", JSON.valueToTree(settings));
        scheduleSwitches.forEach(st.putArray("schedule_switches")::add);
        var ll = st.putArray("loss_log");
        lossLog.forEach(ll::add);
        JSON.writeValue(tmp.resolve(STATE).toFile(), st);
        Path old = ckpt.resolveSibling(CHECKPOINT + ".old");
        FileTrees.delete(old);
        if (Files.isDirectory(ckpt)) {
            Files.move(ckpt, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(tmp, ckpt, StandardCopyOption.ATOMIC_MOVE);
        FileTrees.delete(old);
    }

    /**
     * How far along its time budget the full recipe is: the vision stage's time counts against the budget (the
     * guard stops the run on the total), but the full recipe's cosine runs over what the stage left.
     */
    static double fullRecipeTimeFraction(double elapsedSeconds, double stageSeconds, double maxMinutes) {
        double left = maxMinutes * 60 - stageSeconds;
        return left <= 0 ? 1 : Math.max(0, elapsedSeconds - stageSeconds) / left;
    }

    private static String scheduleWords(TrainSettings s) {
        return s.stepSchedule() ? "the steps alone" : "the steps or the time budget, whichever is further along";
    }

    /**
     * For a message: {@code " (`./sieve train --preset P OPTIONS --resume`)"}, the options that give the settings of a
     * checkpoint made from scratch (the preset may have changed since), or "" for a continuation.
     */
    static String resumeCommand(TrainSettings saved) {
        if (saved.initFrom() != null) {
            return "";
        }
        TrainSettings preset = TrainSettings.preset(saved.preset(), TrainSettings.SMOKE_STEPS);
        return preset == null ? ""
                : " (`./sieve train --preset " + saved.preset() + ModelCard.options(saved, preset) + " --resume`)";
    }

    /**
     * Settings equal apart from the time budget, which is a guard on this invocation, and the schedule's clock
     * ({@code --step-schedule}), which a resumed run may switch: for instance when a run planned by steps turns out to
     * be stopped by its budget long before its last step, so that its learning rate would never decay.
     */
    static boolean sameRun(TrainSettings a, TrainSettings b) {
        return a.equals(b.withMaxMinutes(a.maxMinutes()).withStepSchedule(a.stepSchedule()));
    }

    /** The machine, for the model card: cores and processor model. */
    public static String machine() {
        String cpu = "unknown processor";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).strip();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: keep the generic description
        }
        return Runtime.getRuntime().availableProcessors() + " CPU cores (" + cpu + ")";
    }

    /**
     * A warning for a machine that other processes keep busy as training starts, or null: {@code othersBusy} is how
     * many cores' worth of CPU time other processes used over a short window, {@code cores} the processors. Training
     * uses every core; a second busy process oversubscribes PyTorch's threads and slows both several-fold (measured:
     * 46 full-recipe steps in 10 minutes against about 700 alone on 2 cores), and a clock-following schedule then
     * changes the run itself.
     */
    public static String busyMachineWarning(double othersBusy, int cores) {
        if (!(othersBusy >= Math.max(0.5, 0.25 * cores))) {
            return null;
        }
        return String.format(Locale.ROOT, "warning: other processes are using %.1f of this machine's %d cores as training "
                + "starts: work beside training slows it several-fold and, without --step-schedule, changes the run (its "
                + "schedule follows the clock)", othersBusy, cores);
    }

    /**
     * {@link #busyMachineWarning} for this machine: the CPU time of all processes (Linux's /proc/stat) less this one's
     * (/proc/self/stat) over {@code windowMillis}; null where those files are missing or the load is low.
     */
    public static String busyMachineWarning(long windowMillis) {
        try {
            long[] a = cpuTicks();
            Thread.sleep(windowMillis);
            long[] b = cpuTicks();
            double total = b[0] - a[0];
            if (total <= 0) {
                return null;
            }
            int cores = Runtime.getRuntime().availableProcessors();
            double others = ((b[1] - a[1]) - (b[2] - a[2])) / total * cores;
            return busyMachineWarning(others, cores);
        } catch (IOException | RuntimeException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** All CPUs' ticks: total, busy (not idle or waiting for I/O), and this process's user + system. */
    private static long[] cpuTicks() throws IOException {
        String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long total = 0;
        for (int k = 1; k < Math.min(cpu.length, 9); k++) { // user nice system idle iowait irq softirq steal
            total += Long.parseLong(cpu[k]);
        }
        long busy = total - Long.parseLong(cpu[4]) - Long.parseLong(cpu[5]);
        String self = Files.readString(Path.of("/proc/self/stat"));
        String[] f = self.substring(self.lastIndexOf(')') + 2).split(" "); // fields from the state (field 3) on
        long own = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime (14), stime (15)
        return new long[] {total, busy, own};
    }

    /** A training-only head's parameters as safetensors (nothing for a null head). */
    private static void saveHead(AuxPatchHead head, Path file) throws IOException {
        if (head == null) {
            return;
        }
        SafetensorsWriter aw = new SafetensorsWriter();
        for (Map.Entry<String, NDArray> e : head.parameters().entrySet()) {
            aw.put(e.getKey(), e.getValue().getShape().getShape(), e.getValue().toFloatArray());
        }
        aw.writeFile(file);
    }

    /** A training-only head's parameters from {@link #saveHead}'s file, when both exist (a resumed run's heads). */
    private static void loadHead(AuxPatchHead head, Path file) throws IOException {
        if (head == null || !Files.isRegularFile(file)) {
            return;
        }
        SafetensorsReader r = SafetensorsReader.openFile(file);
        for (var e : head.parameters().entrySet()) {
            e.getValue().set(r.readFloats(e.getKey()));
        }
    }

    /** A kill between the two renames of a save leaves the previous checkpoint as ".old": put it back. */
    static void recoverInterruptedSave(Path ckpt) throws IOException {
        Path old = ckpt.resolveSibling(CHECKPOINT + ".old");
        if (!Files.isDirectory(ckpt) && Files.isDirectory(old)) {
            Files.move(old, ckpt, StandardCopyOption.ATOMIC_MOVE);
        }
        FileTrees.delete(ckpt.resolveSibling(CHECKPOINT + ".tmp"));
    }

    /** Exponential moving average for logging. */
    static final class Ema {
        private double v = Double.NaN;

        void add(double x) {
            v = Double.isNaN(v) ? x : 0.95 * v + 0.05 * x;
        }

        double value() {
            return v;
        }
    }
}
