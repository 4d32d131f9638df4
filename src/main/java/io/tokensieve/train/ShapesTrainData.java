package io.tokensieve.train;

import io.tokensieve.core.image.ClipImageProcessor;
import io.tokensieve.core.image.RgbImage;
import io.tokensieve.core.text.PromptTemplate;
import io.tokensieve.core.text.SieveTokenizer;
import io.tokensieve.core.text.WordLevelTokenizer;
import io.tokensieve.core.train.TrainExample;
import io.tokensieve.datasets.shapes.IclExample;
import io.tokensieve.datasets.shapes.PatchLabels;
import io.tokensieve.datasets.shapes.PatchXyz;
import io.tokensieve.datasets.shapes.PopeExample;
import io.tokensieve.datasets.shapes.VqaExample;
import io.tokensieve.datasets.shapes.PopeVariant;
import io.tokensieve.datasets.shapes.PosedView;
import io.tokensieve.datasets.shapes.Scene3dExample;
import io.tokensieve.datasets.shapes.SegExample;
import io.tokensieve.datasets.shapes.ShapesBench;
import io.tokensieve.datasets.shapes.ShapesExample;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Training batches generated on the fly from ShapesBench: a pure function of (settings, step), so a run
 * resumed after a kill sees exactly the batches it would have seen. Prompts, images and answers go through
 * the same template, tokenizer and image preprocessing as evaluation.
 */
public final class ShapesTrainData implements AutoCloseable {
    private final TrainSettings settings;
    private final SieveTokenizer tokenizer;
    private final ClipImageProcessor processor;
    private final PromptTemplate template;
    private final long eos;

    public ShapesTrainData(TrainSettings settings, SieveTokenizer tokenizer, ClipImageProcessor processor,
                           PromptTemplate template, long eos) {
        this.settings = settings;
        this.tokenizer = tokenizer;
        this.processor = processor;
        this.template = template;
        this.eos = eos;
    }

    /** Closes the tokenizer it was given. */
    @Override
    public void close() {
        tokenizer.close();
    }

    /** The batch of training step {@code step}. */
    public List<TrainExample> batch(int step) {
        List<TrainExample> out = new ArrayList<>();
        for (ShapesExample ex : examples(step)) {
            out.add(convert(ex));
        }
        return out;
    }

    /** The generated examples of step {@code step} (pure Java; safe on any thread). */
    public List<ShapesExample> examples(int step) {
        return examples(step, 0);
    }

    /** The generated examples of step {@code step} when {@code timeFraction} of the time budget is spent ({@link TrainSettings#mixtureAt(int, double)}). */
    public List<ShapesExample> examples(int step, double timeFraction) {
        List<ShapesExample> out = new ArrayList<>();
        Map<String, Double> mix = settings.mixtureAt(step, timeFraction);
        String[] tracks = mix.keySet().toArray(new String[0]);
        double sum = mix.values().stream().mapToDouble(Double::doubleValue).sum();
        double[] cumulative = new double[tracks.length];
        double acc = 0;
        for (int t = 0; t < tracks.length; t++) {
            acc += mix.get(tracks[t]) / sum;
            cumulative[t] = acc;
        }
        for (int i = 0; i < settings.batchSize(); i++) {
            long slot = (long) step * settings.batchSize() + i;
            SplittableRandom r = new SplittableRandom(settings.dataSeed() * 1_000_003L + slot);
            double u = r.nextDouble();
            int t = 0;
            while (t < tracks.length - 1 && u > cumulative[t]) {
                t++;
            }
            out.add(generate(tracks[t], (int) slot, r));
        }
        return out;
    }

    /** Example {@code index} of a track (index is unique per slot, so no example repeats). */
    public TrainExample example(String track, int index, SplittableRandom r) {
        return convert(generate(track, index, r));
    }

    private ShapesExample generate(String track, int index, SplittableRandom r) {
        long seed = settings.dataSeed();
        ShapesExample ex = switch (track) {
            case "vqa" -> settings.positionShare() > 0 && r.nextDouble() < settings.positionShare()
                    ? ShapesBench.vqaOfFamily(seed + TrainSettings.POSITION_SEED_OFFSET, index, ShapesBench.RELATIVE_POSITION)
                    : ShapesBench.vqa(seed, index);
            case "caption" -> {
                VqaExample v = ShapesBench.vqa(seed, index * ShapesBench.VQA_QUESTIONS_PER_IMAGE);
                yield CaptionExample.of(v.image(), v.scene(), r.nextDouble() < settings.shapeFirstCaptions());
            }
            case "pope" -> ShapesBench.pope(seed, index, PopeVariant.values()[r.nextInt(PopeVariant.values().length)]);
            case "seg" -> ShapesBench.seg(seed, index);
            case "icl" -> ShapesBench.icl(seed, index, settings.shots());
            case "3d" -> ShapesBench.scene3d(seed, index, settings.views());
            default -> throw new IllegalArgumentException("unknown track " + track);
        };
        return ex;
    }

    public TrainExample convert(ShapesExample ex) {
        List<float[]> images = new ArrayList<>();
        for (RgbImage img : ex.images()) {
            images.add(processor.preprocess(quantised(img)).chw());
        }
        long[] prompt = tokenizer.encode(template.render(ex.prompt()));
        String answer = ex.answer();
        long[] plain = tokenizer.encodePlain(answer);
        long[] target = java.util.Arrays.copyOf(plain, plain.length + 1);
        target[plain.length] = eos;
        float[] seg = null;
        List<float[][]> xyz = null;
        if (ex instanceof SegExample s) {
            seg = coverage(s.mask(), ShapesBench.IMAGE_SIZE, settings.imageSize() / TrainSettings.SEG_CELL);
        } else if (ex instanceof Scene3dExample s) {
            xyz = new ArrayList<>();
            for (PosedView v : s.views()) {
                xyz.add(xyz(v, settings.grid()));
            }
        } else if (ex instanceof IclExample) {
            xyz = null;
        }
        int[][][] split = settings.pointSplit() && ex instanceof VqaExample v
                ? Pointing.forComparison(v.question(), v.scene(), settings.grid(), target.length)
                : settings.pointSeg() && settings.pointSegAnchor() && ex instanceof SegExample s && s.anchorId() >= 0
                ? Pointing.forSegmentation(s.scene(), s.targetId(), s.anchorId(), settings.grid(), plain,
                tokenizer.tokenId(WordLevelTokenizer.SEG), target.length) : null;
        int[][] pointing = split != null ? split[0] : pointing(ex, plain, target.length);
        int[][] second = split != null ? split[1] : null;
        int[] readout = settings.positionReadout() > 0 && ex instanceof VqaExample v
                ? Pointing.comparisonReadout(v.question(), v.scene(), settings.grid())
                : settings.nameReadout() > 0 && ex instanceof VqaExample v ? Pointing.nameReadout(v.question())
                : settings.nameReadout() > 0 && ex instanceof io.tokensieve.datasets.shapes.PopeExample p
                ? Pointing.nameReadout(p.question()) : null;
        int[][] groups = settings.pointCountSink() && settings.pointWeight() > 0 && ex instanceof VqaExample v
                && v.isCount() ? Pointing.forCount(v.question(), v.scene(), settings.grid())
                : null;
        return new TrainExample(prompt, target, images, xyz, seg, ex.track().name().toLowerCase(java.util.Locale.ROOT),
                patchLabels(ex), pointing, second, readout, groups);
    }

    /** Attention targets of the answer tokens (see {@link Pointing}); null for tracks without them. */
    private int[][] pointing(ShapesExample ex, long[] answer, int answerTokens) {
        int grid = settings.grid();
        if (ex instanceof CaptionExample c) {
            List<io.tokensieve.datasets.shapes.SceneObject> objs = CaptionExample.described(c.scene());
            int[] tokens = new int[objs.size()];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = tokenizer.encodePlain(CaptionExample.words(objs.get(i), c.shapeFirst())).length;
            }
            return Pointing.forCaption(objs, tokens, c.scene(), grid, answerTokens);
        } else if (ex instanceof VqaExample v) {
            return Pointing.forQuestion(v.question(), v.scene(), grid, answerTokens, settings.pointAbsent());
        } else if (ex instanceof PopeExample p) {
            return Pointing.forQuestion(p.question(), p.scene(), grid, answerTokens, settings.pointAbsent());
        } else if (ex instanceof SegExample s && settings.pointSeg()) {
            return Pointing.forSegmentation(s.scene(), s.targetId(), grid, answer, tokenizer.tokenId(WordLevelTokenizer.SEG),
                    answerTokens);
        } else if (ex instanceof Scene3dExample s && settings.point3d()) {
            List<int[]> owners = new ArrayList<>();
            for (PosedView v : s.views()) {
                owners.add(PatchLabels.objects(v.objectIds(), s.scene().objects().size(), grid));
            }
            return Pointing.forViews(owners, s.objectIds(), answerTokens);
        }
        return null;
    }

    /** The xyz origin of each patch of a view on a {@code grid x grid} patch grid, {@code [grid^2][3]}. */
    static float[][] xyz(PosedView v, int grid) {
        int patchPx = ShapesBench.IMAGE_SIZE / grid;
        return patchPx == ShapesBench.PATCH ? v.patchXyz()
                : PatchXyz.compute(v.depthMm(), ShapesBench.IMAGE_SIZE, patchPx, v.camera().intrinsic(), v.camera().pose());
    }

    /**
     * Per-image patch labels from the scene graphs of 2D examples, and of 3D views with {@link TrainSettings#label3d}
     * (null for them without it).
     */
    private List<int[][]> patchLabels(ShapesExample ex) {
        List<int[][]> out = new ArrayList<>();
        if (ex instanceof VqaExample v) {
            out.add(Trainer.patchLabels(v.scene(), settings));
        } else if (ex instanceof CaptionExample c) {
            out.add(Trainer.patchLabels(c.scene(), settings));
        } else if (ex instanceof PopeExample p) {
            out.add(Trainer.patchLabels(p.scene(), settings));
        } else if (ex instanceof SegExample s) {
            out.add(Trainer.patchLabels(s.scene(), settings));
        } else if (ex instanceof IclExample ic) {
            for (IclExample.Demo d : ic.demos()) {
                out.add(Trainer.patchLabels(d.scene(), settings));
            }
            out.add(Trainer.patchLabels(ic.queryScene(), settings));
        } else if (ex instanceof Scene3dExample t && settings.label3d()) {
            for (PosedView v : t.views()) {
                out.add(Trainer.viewLabels(v, t.scene(), settings));
            }
        } else {
            return null;
        }
        return out;
    }

    /** The pixels exactly as the PNG writer stores them (rounded, clamped to 0..255). */
    static RgbImage quantised(RgbImage img) {
        float[] d = img.data().clone();
        for (int i = 0; i < d.length; i++) {
            d[i] = Math.max(0, Math.min(255, Math.round(d[i])));
        }
        return new RgbImage(img.width(), img.height(), d);
    }

    /** Fraction of each grid cell covered by the mask, raster order. */
    static float[] coverage(boolean[] mask, int size, int grid) {
        float[] out = new float[grid * grid];
        int cell = size / grid;
        for (int y = 0; y < grid * cell; y++) {
            for (int x = 0; x < grid * cell; x++) {
                if (mask[y * size + x]) {
                    out[(y / cell) * grid + x / cell] += 1f;
                }
            }
        }
        for (int i = 0; i < out.length; i++) {
            out[i] /= cell * cell;
        }
        return out;
    }
}
