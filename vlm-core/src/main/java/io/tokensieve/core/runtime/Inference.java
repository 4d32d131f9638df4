package io.tokensieve.core.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.model.ClipVisionModel;
import io.tokensieve.core.model.KvCache;
import io.tokensieve.core.model.LlamaDecoderLayer;
import io.tokensieve.core.model.LlamaModel;
import io.tokensieve.core.model.LlamaRotaryEmbedding;
import io.tokensieve.core.model.LlavaForConditionalGeneration;
import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.ImageSpan;
import io.tokensieve.core.prune.KeptRows;
import io.tokensieve.core.prune.ModelShape;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.prune.ResolvedBudget;
import io.tokensieve.core.prune.SequenceLayout;
import io.tokensieve.core.prune.TokenOrigin;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Runs one batch through the model and applies pruning decisions at every hook: the core's side of the
 * pruner SPI. Vision tower -> VISION steps -> projector -> PROJECTED steps -> decoder layers with
 * BEFORE_LAYER(k) steps -> logits -> decoding with per-layer KV caches. Sequences of a batch are right-padded
 * and masked, so every sample keeps its own kept set. One NDManager per batch, a sub-manager per layer and
 * per step; nothing is attached to the weights' manager.
 */
final class Inference {
    private static final float MASKED = -1e9f;

    private final VlmModel vm;
    private final LlavaForConditionalGeneration model;
    private final LlavaConfig cfg;
    private final ModelShape shape;
    private final int layers;

    private NDManager batch;
    private List<NDArray> visionHidden;
    private int visionDepth;
    private final Map<Integer, NDArray> retained = new HashMap<>();
    private KvCache[] caches;

    Inference(VlmModel vm) {
        this.vm = vm;
        this.model = vm.model();
        this.cfg = vm.config();
        this.shape = vm.shape();
        this.layers = cfg.text().numHiddenLayers();
    }

    ModelShape shape() {
        return shape;
    }

    LlavaForConditionalGeneration model() {
        return model;
    }

    NDArray visionHidden(int index) {
        if (index < 0 || index >= visionHidden.size()) {
            throw new PruneException("vision hidden state " + index + " is not available (0.." + (visionHidden.size() - 1)
                    + " were computed)");
        }
        return visionHidden.get(index);
    }

    int visionDepth() {
        return visionDepth;
    }

    NDArray retainedAttention(int layer) {
        NDArray a = retained.get(layer);
        if (a == null) {
            throw new IllegalStateException("attention of layer " + layer + " was not retained");
        }
        return a;
    }

    KvCache cache(int layer) {
        return caches[layer];
    }

    List<GenerationResult> run(List<VlmRequest> requests, GenerationConfig gen) {
        if (requests.isEmpty()) {
            return List.of();
        }
        try (NDManager m = NDManager.newBaseManager(vm.device())) {
            this.batch = m;
            return runBatch(requests, gen);
        } finally {
            batch = null;
            visionHidden = null;
            retained.clear();
            caches = null;
        }
    }

    private List<GenerationResult> runBatch(List<VlmRequest> requests, GenerationConfig gen) {
        long t0 = System.nanoTime();
        List<SampleState> samples = plan(requests);
        int bsz = samples.size();

        // ---- vision tower over every image of the batch ----
        long tv = System.nanoTime();
        encodeImages(samples);
        double visionMs = ms(tv);

        // ---- VISION steps, projector, PROJECTED steps ----
        double pruneMs = 0;
        long tp = System.nanoTime();
        pruneMs += runPreLlmSteps(samples, HookPoint.VISION);
        long tproj = System.nanoTime();
        for (SampleState s : samples) {
            s.liveRows = model.project(batch, s.liveRows, cellsOf(s, s.live)); // [n, D]
        }
        double projectorMs = ms(tproj);
        pruneMs += runPreLlmSteps(samples, HookPoint.PROJECTED);

        // ---- decoder prefill ----
        long tpre = System.nanoTime();
        for (SampleState s : samples) {
            buildInitialSequence(s);
        }
        caches = new KvCache[layers];
        Set<Integer> retain = new HashSet<>();
        for (SampleState s : samples) {
            for (PruneStep st : s.steps) {
                retain.addAll(st.attentionLayers());
            }
        }
        NDArray h = padHidden(samples, null);
        double prefillPruneMs = 0;
        try (NDManager prefill = batch.newSubManager()) {
            LayoutCache lc = new LayoutCache(prefill);
            for (int l = 0; l < layers; l++) {
                long ts = System.nanoTime();
                boolean changed = false;
                for (SampleState s : samples) {
                    while (s.hasStepAt(HookPoint.beforeLayer(l))) {
                        changed |= runLayerStep(s, h);
                    }
                }
                if (changed) {
                    NDArray prev = h;
                    h = padHidden(samples, h);
                    prev.close();
                }
                prefillPruneMs += (System.nanoTime() - ts) / 1e6;
                for (SampleState s : samples) {
                    s.layoutAt[l] = s.seq;
                    s.visualPerLayer[l] = s.seq.visualCount();
                }
                caches[l] = new KvCache();
                h = runLayer(l, h, lc.mask(samples), lc.rope(samples), retain.contains(l));
            }
        }
        for (SampleState s : samples) {
            if (s.nextStep < s.steps.size()) {
                PruneStep st = s.steps.get(s.nextStep);
                throw new PruneException("pruner " + s.prunerLabel() + " step " + st.name() + " at " + st.hook()
                        + " never ran: the model has " + layers + " decoder layers");
            }
            checkBudget(s);
        }
        pruneMs += prefillPruneMs;
        double prefillMs = ms(tpre) - prefillPruneMs;

        // ---- first token ----
        NDArray lastHidden = gatherLast(samples, h); // [B, D]
        NDArray normed = model.languageModel().norm().forward(lastHidden);
        float[][] logits = toRows(model.logits(normed), bsz); // [B][V]
        float[][] maskLogits = new float[bsz][];
        NDArray[] segHidden = findPrefillSeg(samples, h);
        h.close();
        long[] kvBytes = kvBytesPerSample(samples);

        List<Random> rngs = new ArrayList<>();
        for (int b = 0; b < bsz; b++) {
            rngs.add(new Random(gen.seed()));
        }
        List<List<Long>> out = new ArrayList<>();
        boolean[] done = new boolean[bsz];
        long[] next = new long[bsz];
        List<List<GenerationResult.TokenLogprob>> top5 = new ArrayList<>();
        for (int b = 0; b < bsz; b++) {
            out.add(new ArrayList<>());
            top5.add(topK(logits[b], 5));
        }
        double ttftMs;
        double decodeMs = 0;
        int decodeSteps = 0;
        if (gen.maxNewTokens() == 0) {
            ttftMs = ms(t0);
        } else {
            for (int b = 0; b < bsz; b++) {
                next[b] = sample(logits[b], gen, rngs.get(b));
                out.get(b).add(next[b]);
                done[b] = vm.eosIds().contains(next[b]) || gen.maxNewTokens() == 1;
            }
            ttftMs = ms(t0);
            long td = System.nanoTime();
            for (int step = 0; step < gen.maxNewTokens() - 1 && !allDone(done, next, samples, segHidden); step++) {
                DecodeOutput d = decodeStep(samples, next, step);
                for (int b = 0; b < bsz; b++) {
                    if (segHidden[b] == null && next[b] == vm.segTokenId() && vm.segTokenId() >= 0) {
                        segHidden[b] = d.normedRows[b];
                    }
                    if (done[b]) {
                        continue;
                    }
                    next[b] = sample(d.logits[b], gen, rngs.get(b));
                    out.get(b).add(next[b]);
                    done[b] = vm.eosIds().contains(next[b]) || out.get(b).size() >= gen.maxNewTokens();
                }
                decodeSteps++;
            }
            decodeMs = ms(td);
        }
        int[] maskGrid = null;
        for (int b = 0; b < bsz; b++) {
            if (segHidden[b] != null && model.segHead() != null && !samples.get(b).spans.isEmpty()) {
                maskLogits[b] = maskFor(samples.get(b), segHidden[b]);
                int c = model.segHead().cellsPerSide();
                maskGrid = new int[] {c, c};
            }
        }
        Timings timings = new Timings(visionMs, projectorMs, pruneMs, prefillMs, ttftMs, decodeMs, decodeSteps);
        List<GenerationResult> results = new ArrayList<>();
        for (int b = 0; b < bsz; b++) {
            SampleState s = samples.get(b);
            long[] ids = out.get(b).stream().mapToLong(Long::longValue).toArray();
            results.add(new GenerationResult(vm.decode(ids), ids, top5.get(b), logits[b], s.prompt.size(),
                    s.visualTotal, s.visualPerLayer.clone(), lengths(s), List.copyOf(s.traces), kvBytes[b], maskLogits[b],
                    maskLogits[b] == null ? null : maskGrid, timings));
        }
        return results;
    }

    // ------------------------------------------------------------------ planning

    private List<SampleState> plan(List<VlmRequest> requests) {
        List<SampleState> samples = new ArrayList<>();
        int imageOffset = 0;
        long imageId = vm.imageTokenId();
        for (int b = 0; b < requests.size(); b++) {
            VlmRequest r = requests.get(b);
            int placeholders = 0;
            for (long id : r.inputIds()) {
                if (id == imageId) {
                    placeholders++;
                }
            }
            if (placeholders != r.images().size()) {
                throw new IllegalArgumentException("prompt has " + placeholders + " image placeholder(s) but "
                        + r.images().size() + " image(s) were given");
            }
            for (VisualInput v : r.images()) {
                vm.check(v);
            }
            int perImage = cfg.tokensPerImage();
            int grid = cfg.vision().gridSize();
            List<ImageSpan> spans = new ArrayList<>();
            List<TokenOrigin> origins = new ArrayList<>();
            List<Integer> seqIdx = new ArrayList<>();
            List<Integer> vis = new ArrayList<>();
            List<Long> tok = new ArrayList<>();
            List<Long> textIds = new ArrayList<>();
            List<Integer> textSeq = new ArrayList<>();
            long[] all = concat(r.inputIds(), r.answerPrefix());
            int image = 0;
            for (long id : all) {
                if (id == imageId) {
                    VisualInput vin = r.images().get(image);
                    if (vin.xyz() != null && vin.xyz().length != cfg.vision().numPatches()) {
                        throw new IllegalArgumentException(vin.name() + ": " + vin.xyz().length + " xyz origins for "
                                + cfg.vision().numPatches() + " patches");
                    }
                    spans.add(new ImageSpan(image, origins.size(), perImage, grid, grid, seqIdx.size(), vin.xyz() != null));
                    for (int p = 0; p < perImage; p++) {
                        int patch = cfg.dropsCls() ? p : p - 1;
                        if (patch < 0) {
                            origins.add(new TokenOrigin(image, -1, -1, Float.NaN, Float.NaN, Float.NaN));
                        } else if (vin.xyz() != null) {
                            float[] x = vin.xyz()[patch];
                            origins.add(new TokenOrigin(image, patch / grid, patch % grid, x[0], x[1], x[2]));
                        } else {
                            origins.add(TokenOrigin.patch(image, patch / grid, patch % grid));
                        }
                        vis.add(origins.size() - 1);
                        seqIdx.add(seqIdx.size());
                        tok.add(imageId);
                    }
                    image++;
                } else {
                    textIds.add(id);
                    textSeq.add(seqIdx.size());
                    vis.add(-1);
                    seqIdx.add(seqIdx.size());
                    tok.add(id);
                }
            }
            if (seqIdx.size() > cfg.text().maxPositionEmbeddings()) {
                throw new IllegalArgumentException("prompt of " + seqIdx.size() + " tokens (images expanded) is longer than "
                        + "the model's " + cfg.text().maxPositionEmbeddings() + " positions");
            }
            int[] si = seqIdx.stream().mapToInt(Integer::intValue).toArray();
            long[] pos = Arrays.stream(si).asLongStream().toArray();
            SequenceLayout prompt = new SequenceLayout(si, vis.stream().mapToInt(Integer::intValue).toArray(),
                    tok.stream().mapToLong(Long::longValue).toArray(), pos, origins.size());
            int[] perImageCounts = spans.stream().mapToInt(ImageSpan::count).toArray();
            ResolvedBudget budget;
            List<PruneStep> steps = List.of();
            if (r.pruner() != null) {
                try {
                    budget = r.pruner().budget().resolve(perImageCounts);
                } catch (PruneException e) {
                    throw new PruneException("pruner " + r.pruner().id() + ": " + e.getMessage());
                }
                steps = r.pruner().pruner().schedule(shape, spans, budget);
                checkSchedule(r.pruner().id(), steps);
            } else {
                budget = io.tokensieve.core.prune.Budget.ALL.resolve(perImageCounts);
            }
            samples.add(new SampleState(b, r, steps, spans, origins.toArray(new TokenOrigin[0]), imageOffset, prompt,
                    textIds.stream().mapToLong(Long::longValue).toArray(),
                    textSeq.stream().mapToInt(Integer::intValue).toArray(), budget, layers));
            imageOffset += r.images().size();
        }
        return samples;
    }

    private void checkSchedule(String id, List<PruneStep> steps) {
        for (int i = 0; i < steps.size(); i++) {
            PruneStep st = steps.get(i);
            if (st.hook().isLayer() && st.hook().layer() >= layers) {
                throw new PruneException("pruner " + id + " step " + st.name() + " at " + st.hook() + " is past the last "
                        + "of the model's " + layers + " decoder layers");
            }
            if (i > 0 && st.hook().compareTo(steps.get(i - 1).hook()) < 0) {
                throw new PruneException("pruner " + id + ": steps are not in hook order (" + steps.get(i - 1).hook()
                        + " before " + st.hook() + ")");
            }
        }
    }

    // ------------------------------------------------------------------ vision

    private void encodeImages(List<SampleState> samples) {
        List<float[]> chw = new ArrayList<>();
        for (SampleState s : samples) {
            for (VisualInput v : s.request.images()) {
                chw.add(v.pixels().chw());
            }
        }
        int[] featureLayers = cfg.resolvedFeatureLayers();
        int upTo = Arrays.stream(featureLayers).max().orElse(0);
        visionDepth = upTo;
        int dv = cfg.vision().hiddenSize();
        if (chw.isEmpty()) {
            visionHidden = List.of();
            for (SampleState s : samples) {
                s.features = batch.zeros(new Shape(0, (long) dv * featureLayers.length));
                s.liveRows = s.features;
            }
            return;
        }
        int size = cfg.vision().imageSize();
        int c = cfg.vision().numChannels();
        float[] flat = new float[chw.size() * c * size * size];
        for (int i = 0; i < chw.size(); i++) {
            System.arraycopy(chw.get(i), 0, flat, i * c * size * size, c * size * size);
        }
        NDArray pixels = batch.create(flat, new Shape(chw.size(), c, size, size)); // [I, C, H, W]
        visionHidden = model.visionTower().hiddenStates(pixels, upTo); // each [I, 1+n, Dv]
        NDArray feats = ClipVisionModel.select(visionHidden, featureLayers); // [I, 1+n, Dv']
        if (cfg.dropsCls()) {
            feats = feats.get(":, 1:, :"); // [I, n, Dv']
        }
        for (SampleState s : samples) {
            int n = s.request.images().size();
            if (n == 0) {
                s.features = batch.zeros(new Shape(0, feats.getShape().get(2)));
            } else {
                NDArray f = feats.get(new NDIndex("{}:{}", s.imageOffset, s.imageOffset + n)); // [n_img, t, Dv']
                f = addPositions(s, f); // the extras' 3D / 2D position embeddings
                s.features = f.reshape(-1, f.getShape().get(2)); // [N, Dv']
            }
            s.liveRows = s.features;
        }
    }

    private NDArray addPositions(SampleState s, NDArray f) {
        List<float[][]> xyz = s.request.images().stream().map(VisualInput::xyz).toList();
        return model.addPositionEmbeddings(batch, f, xyz, !cfg.dropsCls());
    }

    NDArray projectedAll(SampleState s) {
        if (s.projectedAll == null) {
            s.projectedAll = model.project(batch, s.features, cellsOf(s, null)); // [N, D]
        }
        return s.projectedAll;
    }

    /** The patch cells of a sample's feature rows ({@code index}, or all in order when null) for the projector. */
    private int[] cellsOf(SampleState s, int[] index) {
        int nImg = s.request.images().size();
        if (!cfg.extras().positionEmbedding2dAfterProjector() || nImg == 0) {
            return null;
        }
        int per = (int) (s.features.getShape().get(0) / nImg);
        List<float[][]> xyz = s.request.images().stream().map(VisualInput::xyz).toList();
        return LlavaForConditionalGeneration.cells(index, nImg, per, !cfg.dropsCls(), xyz);
    }

    // ------------------------------------------------------------------ pre-LLM steps

    private double runPreLlmSteps(List<SampleState> samples, HookPoint hook) {
        long t = System.nanoTime();
        for (SampleState s : samples) {
            while (s.hasStepAt(hook)) {
                PruneStep step = s.steps.get(s.nextStep);
                try (NDManager mgr = batch.newSubManager()) {
                    StepContext ctx = new StepContext(this, s, step, s.nextStep, mgr, null);
                    PruneDecision d = decide(s, ctx);
                    int[] kept = validate(s, step, d, s.live);
                    NDArray rows = rowsFor(s, step, d, kept, hook);
                    s.traces.add(trace(step, s.live, kept, d));
                    s.live = kept;
                    s.liveRows = rows;
                }
                s.nextStep++;
            }
        }
        return ms(t);
    }

    /** The live representation rows for {@code kept} after a pre-LLM step (in the batch manager). */
    private NDArray rowsFor(SampleState s, PruneStep step, PruneDecision d, int[] kept, HookPoint hook) {
        boolean vision = hook.kind() == HookPoint.Kind.VISION;
        Map<Integer, Integer> liveRow = new HashMap<>();
        for (int i = 0; i < s.live.length; i++) {
            liveRow.put(s.live[i], i);
        }
        int[] current = Arrays.stream(kept).map(v -> liveRow.getOrDefault(v, -1)).toArray();
        Map<Integer, Integer> repl = replacementRows(s, step, d, vision ? s.features.getShape().get(1)
                : cfg.text().hiddenSize());
        return KeptRows.assemble(s.liveRows, kept, current, repl, d.replacements(),
                () -> vision ? s.features : projectedAll(s), batch, true);
    }

    // ------------------------------------------------------------------ sequences

    /** The layer-0 sequence implied by the current live set (positions per the pruner's policy). */
    SequenceLayout plannedLayout(SampleState s) {
        return layoutOf(s, s.live, positionPolicy(s));
    }

    private SequenceLayout layoutOf(SampleState s, int[] liveVisual, PositionPolicy policy) {
        return s.prompt.keeping(liveVisual, policy);
    }

    private PositionPolicy positionPolicy(SampleState s) {
        return s.pruner == null ? PositionPolicy.KEEP : s.pruner.positions();
    }

    private void buildInitialSequence(SampleState s) {
        s.seq = layoutOf(s, s.live, positionPolicy(s));
        long[] ids = s.textIds;
        textEmbeddings(s);
        // rows: text embeddings then live visual embeddings, gathered into slot order
        Map<Integer, Integer> textRow = new HashMap<>();
        for (int i = 0; i < s.textSeq.length; i++) {
            textRow.put(s.textSeq[i], i);
        }
        Map<Integer, Integer> visRow = new HashMap<>();
        for (int i = 0; i < s.live.length; i++) {
            visRow.put(s.live[i], i);
        }
        long[] gather = new long[s.seq.size()];
        for (int slot = 0; slot < s.seq.size(); slot++) {
            gather[slot] = s.seq.isVisual(slot) ? ids.length + visRow.get(s.seq.visualIndex(slot))
                    : textRow.get(s.seq.seqIndex(slot));
        }
        NDArray all = s.textEmb.concat(s.liveRows, 0); // [Tt + n, D]
        s.liveRows = all.get(new NDIndex("{}", batch.create(gather))); // [T, D] in slot order
    }

    /** The input embeddings of the prompt's text tokens [Tt, D], computed once (pre-LLM steps may ask first). */
    NDArray textEmbeddings(SampleState s) {
        if (s.textEmb == null) {
            long[] ids = s.textIds;
            s.textEmb = ids.length == 0 ? batch.zeros(new Shape(0, cfg.text().hiddenSize()))
                    : model.languageModel().embed(batch.create(ids)); // [Tt, D]
        }
        return s.textEmb;
    }

    long segTokenId() {
        return vm.segTokenId();
    }

    /** Right-pads every sample's rows into [B, T, D]; takes rows from {@code prev} for unchanged samples. */
    private NDArray padHidden(List<SampleState> samples, NDArray prev) {
        int tmax = samples.stream().mapToInt(s -> s.seq.size()).max().orElse(0);
        if (samples.size() == 1) {
            NDArray r = samples.get(0).liveRows;
            samples.get(0).liveRows = null;
            return r.expandDims(0);
        }
        List<NDArray> rows = new ArrayList<>();
        long d = cfg.text().hiddenSize();
        for (SampleState s : samples) {
            NDArray r = s.liveRows;
            if (r == null) {
                r = prev.get(new NDIndex("{}, :{}", s.index, s.seq.size()));
            }
            if (r.getShape().get(0) < tmax) {
                r = r.concat(batch.zeros(new Shape(tmax - r.getShape().get(0), d)), 0);
            }
            rows.add(r.expandDims(0));
            s.liveRows = null;
        }
        return NDArrays.concat(new NDList(rows.toArray(new NDArray[0])), 0); // [B, T, D]
    }

    /** Runs one pruning step at a layer boundary; returns whether the sample's sequence changed. */
    private boolean runLayerStep(SampleState s, NDArray h) {
        PruneStep step = s.steps.get(s.nextStep);
        int[] before = s.seq.liveVisual();
        boolean changed;
        try (NDManager mgr = batch.newSubManager()) {
            StepContext ctx = new StepContext(this, s, step, s.nextStep, mgr, h);
            PruneDecision d = decide(s, ctx);
            int[] kept = validate(s, step, d, before);
            s.traces.add(trace(step, before, kept, d));
            Map<Integer, Integer> repl = replacementRows(s, step, d, cfg.text().hiddenSize());
            changed = !Arrays.equals(kept, before) || !repl.isEmpty();
            if (changed) {
                applyLayerDecision(s, h, kept, d, repl);
            }
        }
        s.nextStep++;
        return changed;
    }

    private void applyLayerDecision(SampleState s, NDArray h, int[] kept, PruneDecision d, Map<Integer, Integer> repl) {
        SequenceLayout old = s.seq;
        SequenceLayout next = layoutOf(s, kept, positionPolicy(s));
        NDArray cur = h.get(new NDIndex("{}, :{}", s.index, old.size())); // [T, D]
        int[] visual = new int[next.size()];
        int[] current = new int[next.size()];
        for (int slot = 0; slot < next.size(); slot++) {
            visual[slot] = next.visualIndex(slot);
            current[slot] = old.slotOfSeqIndex(next.seqIndex(slot));
        }
        s.liveRows = KeptRows.assemble(cur, visual, current, repl, d.replacements(), () -> projectedAll(s), batch,
                false); // [T', D]
        s.seq = next;
    }

    // ------------------------------------------------------------------ decisions

    private PruneDecision decide(SampleState s, StepContext ctx) {
        PruneDecision d;
        try {
            d = s.pruner.pruner().decide(ctx);
        } catch (PruneException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new PruneException("pruner " + s.prunerLabel() + " step " + ctx.step().name() + " at " + ctx.hook()
                    + " failed: " + e);
        }
        if (d == null) {
            throw new PruneException("pruner " + s.prunerLabel() + " step " + ctx.step().name() + " returned no decision");
        }
        return d;
    }

    /** Checks a decision; returns the kept indices. */
    private int[] validate(SampleState s, PruneStep step, PruneDecision d, int[] live) {
        String where = "pruner " + s.prunerLabel() + " step " + step.name() + " at " + step.hook();
        int[] kept = d.validate(where, live, s.visualTotal, step.reactivates());
        int total = s.budget.total();
        if (s.pruner.convention() == BudgetConvention.ENTERING_LLM && !step.hook().isLayer()
                && s.nextStep == lastPreLlmStep(s) && kept.length != Math.min(total, s.visualTotal)) {
            throw new PruneException(where + ": kept " + kept.length + " visual tokens entering the LLM; the budget "
                    + s.budget.budget().label() + " asks for " + total);
        }
        return kept;
    }

    private static int lastPreLlmStep(SampleState s) {
        int last = -1;
        for (int i = 0; i < s.steps.size(); i++) {
            if (!s.steps.get(i).hook().isLayer()) {
                last = i;
            }
        }
        return last;
    }

    /** Maps replaced original index -> row in the decision's replacement array (validated). */
    private Map<Integer, Integer> replacementRows(SampleState s, PruneStep step, PruneDecision d, long width) {
        return KeptRows.replacementSlots(d, "pruner " + s.prunerLabel() + " step " + step.name() + " at " + step.hook(),
                width);
    }

    private void checkBudget(SampleState s) {
        if (s.pruner == null || s.visualTotal == 0) {
            return;
        }
        int target = Math.min(s.budget.total(), s.visualTotal);
        String who = "pruner " + s.prunerLabel() + " (" + s.pruner.spec() + ")";
        switch (s.pruner.convention()) {
            case ENTERING_LLM -> {
                if (s.visualPerLayer[0] != target) {
                    throw new PruneException(who + ": " + s.visualPerLayer[0] + " visual tokens entered the LLM, budget "
                            + s.budget.budget().label() + " is " + target);
                }
            }
            case FINAL -> {
                int last = s.visualPerLayer[layers - 1];
                if (last != target) {
                    throw new PruneException(who + ": " + last + " visual tokens after the last step, budget "
                            + s.budget.budget().label() + " is " + target);
                }
            }
            case LAYER_AVERAGE -> {
                double avg = Arrays.stream(s.visualPerLayer).average().orElse(0);
                if (Math.abs(avg - target) > 1.0 + 1e-9) {
                    throw new PruneException(who + ": equivalent average of " + String.format("%.2f", avg)
                            + " visual tokens per layer, budget " + s.budget.budget().label() + " is " + target);
                }
            }
        }
    }

    private static StepTrace trace(PruneStep step, int[] before, int[] kept, PruneDecision d) {
        Set<Integer> b = new HashSet<>();
        for (int v : before) {
            b.add(v);
        }
        int[] re = Arrays.stream(kept).filter(v -> !b.contains(v)).toArray();
        return new StepTrace(step.hook().toString(), step.name(), before.length, kept, re, d.scores());
    }

    // ------------------------------------------------------------------ layers

    /** Masks and RoPE tables for the current layouts, rebuilt only when a layout changes. */
    private final class LayoutCache {
        private final NDManager mgr;
        private List<SequenceLayout> key;
        private NDArray mask;
        private LlamaRotaryEmbedding.Rope rope;

        LayoutCache(NDManager mgr) {
            this.mgr = mgr;
        }

        private void refresh(List<SampleState> samples) {
            List<SequenceLayout> k = samples.stream().map(s -> s.seq).toList();
            if (key != null && sameIdentity(k, key)) {
                return;
            }
            key = k;
            int t = k.stream().mapToInt(SequenceLayout::size).max().orElse(0);
            float[] m = new float[k.size() * t * t];
            long[][] pos = new long[k.size()][t];
            for (int b = 0; b < k.size(); b++) {
                int tb = k.get(b).size();
                for (int i = 0; i < t; i++) {
                    for (int j = 0; j < t; j++) {
                        m[(b * t + i) * t + j] = (j <= i && j < tb) ? 0f : MASKED;
                    }
                    pos[b][i] = i < tb ? k.get(b).position(i) : 0;
                }
            }
            mask = mgr.create(m, new Shape(k.size(), 1, t, t));
            rope = model.languageModel().rotary().forPositions(mgr, pos);
        }

        NDArray mask(List<SampleState> samples) {
            refresh(samples);
            return mask;
        }

        LlamaRotaryEmbedding.Rope rope(List<SampleState> samples) {
            refresh(samples);
            return rope;
        }
    }

    private static boolean sameIdentity(List<SequenceLayout> a, List<SequenceLayout> b) {
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) != b.get(i)) {
                return false;
            }
        }
        return true;
    }

    private NDArray runLayer(int l, NDArray h, NDArray mask, LlamaRotaryEmbedding.Rope rope, boolean keepProbs) {
        LlamaDecoderLayer layer = model.languageModel().layer(l);
        try (NDManager sub = batch.newSubManager()) {
            h.attach(sub);
            LlamaDecoderLayer.Output o = layer.forward(h, rope, mask, caches[l]); // [B, T, D]
            o.hidden().attach(batch);
            caches[l].keys().attach(batch);
            caches[l].values().attach(batch);
            if (keepProbs) {
                o.probs().attach(batch);
                retained.put(l, o.probs());
            }
            return o.hidden();
        }
    }

    private NDArray gatherLast(List<SampleState> samples, NDArray h) {
        List<NDArray> rows = new ArrayList<>();
        for (SampleState s : samples) {
            rows.add(h.get(new NDIndex("{}, {}", s.index, s.seq.size() - 1)).expandDims(0));
        }
        return rows.size() == 1 ? rows.get(0) : NDArrays.concat(new NDList(rows.toArray(new NDArray[0])), 0);
    }

    private NDArray[] findPrefillSeg(List<SampleState> samples, NDArray h) {
        NDArray[] out = new NDArray[samples.size()];
        long seg = vm.segTokenId();
        if (seg < 0) {
            return out;
        }
        for (SampleState s : samples) {
            for (int slot = s.seq.size() - 1; slot >= 0; slot--) {
                if (!s.seq.isVisual(slot) && s.seq.tokenId(slot) == seg) {
                    NDArray row = h.get(new NDIndex("{}, {}", s.index, slot)).expandDims(0);
                    out[s.index] = model.languageModel().norm().forward(row); // [1, D]
                    break;
                }
            }
        }
        return out;
    }

    private float[] maskFor(SampleState s, NDArray segHidden) {
        // image 0 in full: its patch features (feature layer, CLS dropped, before any pruning) and its pixels
        NDArray f = visionHidden.get(cfg.resolvedFeatureLayers()[0]).get(new NDIndex("{}, 1:, :", s.imageOffset));
        int size = cfg.vision().imageSize();
        NDArray px = batch.create(s.request.images().get(0).pixels().chw(), new Shape(1, 3, size, size));
        return model.segHead().forward(segHidden, f.expandDims(0), px).toFloatArray(); // [C*C]
    }

    private int[] lengths(SampleState s) {
        int[] n = new int[layers];
        for (int l = 0; l < layers; l++) {
            n[l] = s.layoutAt[l].size();
        }
        return n;
    }

    private long[] kvBytesPerSample(List<SampleState> samples) {
        long per = 2L * cfg.text().numKeyValueHeads() * cfg.text().headDim() * 4;
        long[] out = new long[samples.size()];
        for (SampleState s : samples) {
            long sum = 0;
            for (int l = 0; l < layers; l++) {
                sum += (long) s.layoutAt[l].size() * per;
            }
            out[s.index] = sum;
        }
        return out;
    }

    // ------------------------------------------------------------------ decoding

    private record DecodeOutput(float[][] logits, NDArray[] normedRows) {}

    private boolean allDone(boolean[] done, long[] next, List<SampleState> samples, NDArray[] segHidden) {
        for (int b = 0; b < done.length; b++) {
            if (!done[b]) {
                return false;
            }
            // a [SEG] just produced needs one more step to read its hidden state
            if (vm.segTokenId() >= 0 && next[b] == vm.segTokenId() && segHidden[b] == null) {
                return false;
            }
        }
        return true;
    }

    private DecodeOutput decodeStep(List<SampleState> samples, long[] next, int step) {
        int bsz = samples.size();
        try (NDManager mgr = batch.newSubManager()) {
            NDArray ids = mgr.create(next).reshape(bsz, 1);
            NDArray h = model.languageModel().embed(ids); // [B, 1, D]
            LlamaModel lm = model.languageModel();
            for (int l = 0; l < layers; l++) {
                long[][] pos = new long[bsz][1];
                float[] m = null;
                long cached = caches[l].length();
                if (bsz > 1) {
                    m = new float[(int) (bsz * (cached + 1))];
                }
                for (SampleState s : samples) {
                    int tb = s.layoutAt[l].size();
                    pos[s.index][0] = positionPolicy(s) == PositionPolicy.KEEP ? s.prompt.size() + step : tb + step;
                    if (m != null) {
                        int tmax = (int) (cached - step);
                        for (int j = 0; j <= cached; j++) {
                            boolean valid = j < tb || j >= tmax;
                            m[(int) (s.index * (cached + 1) + j)] = valid ? 0f : MASKED;
                        }
                    }
                }
                NDArray mask = m == null ? null : mgr.create(m, new Shape(bsz, 1, 1, cached + 1));
                LlamaRotaryEmbedding.Rope rope = lm.rotary().forPositions(mgr, pos);
                NDArray oldK = caches[l].keys();
                NDArray oldV = caches[l].values();
                h = lm.layer(l).forward(h, rope, mask, caches[l]).hidden(); // [B, 1, D]
                caches[l].keys().attach(batch);
                caches[l].values().attach(batch);
                oldK.close();
                oldV.close();
            }
            NDArray normed = lm.norm().forward(h.reshape(bsz, -1)); // [B, D]
            float[][] logits = toRows(model.logits(normed), bsz);
            NDArray[] rows = new NDArray[bsz];
            for (int b = 0; b < bsz; b++) {
                if (next[b] == vm.segTokenId()) {
                    rows[b] = normed.get(new NDIndex("{}:{}", b, b + 1));
                    rows[b].attach(batch);
                }
            }
            return new DecodeOutput(logits, rows);
        }
    }

    private static float[][] toRows(NDArray logits, int bsz) {
        float[] flat = logits.toFloatArray();
        int v = flat.length / bsz;
        float[][] out = new float[bsz][];
        for (int b = 0; b < bsz; b++) {
            out[b] = Arrays.copyOfRange(flat, b * v, (b + 1) * v);
        }
        return out;
    }

    private static List<GenerationResult.TokenLogprob> topK(float[] logits, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (float f : logits) {
            max = Math.max(max, f);
        }
        double sum = 0;
        for (float f : logits) {
            sum += Math.exp(f - max);
        }
        double lse = max + Math.log(sum);
        Integer[] idx = new Integer[logits.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : Integer.compare(a, b));
        List<GenerationResult.TokenLogprob> out = new ArrayList<>();
        for (int i = 0; i < Math.min(k, idx.length); i++) {
            out.add(new GenerationResult.TokenLogprob(idx[i], logits[idx[i]] - lse));
        }
        return out;
    }

    /** Greedy (lowest id wins ties) or temperature + top-p sampling. */
    static long sample(float[] logits, GenerationConfig gen, Random rng) {
        if (gen.greedy()) {
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                if (logits[i] > logits[best]) {
                    best = i;
                }
            }
            return best;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float f : logits) {
            max = Math.max(max, f);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp((logits[i] - max) / gen.temperature());
            sum += p[i];
        }
        Integer[] idx = new Integer[p.length];
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        double cum = 0;
        int cut = 0;
        while (cut < idx.length) {
            cum += p[idx[cut]];
            cut++;
            if (cum >= gen.topP()) {
                break;
            }
        }
        double r = rng.nextDouble() * cum;
        double acc = 0;
        for (int i = 0; i < cut; i++) {
            acc += p[idx[i]];
            if (r < acc) {
                return idx[i];
            }
        }
        return idx[cut - 1];
    }

    private static boolean isIdentity(int[] gather, int rows) {
        if (gather.length != rows) {
            return false;
        }
        for (int i = 0; i < gather.length; i++) {
            if (gather[i] != i) {
                return false;
            }
        }
        return true;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static double ms(long t) {
        return (System.nanoTime() - t) / 1e6;
    }
}
