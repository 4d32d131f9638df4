package io.tokensieve.datasets.shapes;

import io.tokensieve.core.image.RgbImage;

import java.util.ArrayList;
import java.util.List;

/**
 * ShapesBench: seeded procedural examples of the five tracks, generated in memory. Every method is a pure
 * function of its arguments (no disk, no global state, same result on every machine), and the file writers
 * ({@link ShapesWriter}) call exactly these methods, so files and memory agree.
 *
 * <p>Splits are disjoint seeds: the trainer uses seeds 1000 and up, tests and benchmarks 11, 12, ...; the CLI's
 * {@code --seed} picks one. Within a seed, {@code index} runs 0..n-1.
 *
 * <pre>{@code
 * VqaExample ex = ShapesBench.vqa(1000, 42);
 * float[] pixels = ShapesBench.chw(ex.image());   // [3, 224, 224], 0..255
 * String target = ex.answer();                    // "3"
 * }</pre>
 */
public final class ShapesBench {
    /** Image side in pixels. */
    public static final int IMAGE_SIZE = 224;
    /** Patch side of the vision tower in pixels. */
    public static final int PATCH = 14;
    /** Patches per image side (16, so 256 visual tokens per image). */
    public static final int GRID = IMAGE_SIZE / PATCH;
    /** VQAv2 images carry three questions each: example i asks about image i / 3. */
    public static final int VQA_QUESTIONS_PER_IMAGE = 3;
    /** Smallest centre offset (px) along the asked axis of a relative-position question ("left/right", "above/below"). */
    public static final int POSITION_MARGIN = 20;
    /** POPE images carry six probes each (yes, no, yes, no, yes, no). */
    public static final int POPE_QUESTIONS_PER_IMAGE = PopeQuestions.PER_IMAGE;
    /** ScanQA scenes carry four questions each. */
    public static final int SCANQA_QUESTIONS_PER_SCENE = 4;
    public static final int DEFAULT_SHOTS = 2;
    public static final int DEFAULT_VIEWS = 3;
    public static final int MAX_SHOTS = 8;
    public static final int MAX_VIEWS = 12;
    /** Default split names of the written files. */
    public static final String VQA_SPLIT = "val2014";
    public static final String SEG_SPLIT = "val";
    public static final String SCANQA_SPLIT = "val";

    private static final long SCENE = 1;
    private static final long QUESTION = 2;
    private static final long POSITIVES = 3;
    private static final long NEGATIVES = 10;
    private static final long VIEWS = 20;
    private static final long QUERY_IMAGE = 99;
    private static final long DEMO_IMAGE = 100;
    /** Fewest pixels an object must show in at least one view of a 3D scene. */
    static final int MIN_VISIBLE_PIXELS = 40;

    private ShapesBench() {}

    /**
     * The {@code n}-th VQA example of {@code seed} whose question is first asked from {@code family} (a question
     * family name, e.g. "relative position"); a scene that family does not fit gets the next family's question, as in
     * {@link #vqa(long, int)}, which this is at index {@code n * families + family's place}.
     */
    public static VqaExample vqaOfFamily(long seed, int n, String family) {
        int slot = VqaQuestions.FAMILIES.indexOf(family);
        if (slot < 0) {
            throw new IllegalArgumentException("unknown VQA family '" + family + "'; known: " + VqaQuestions.FAMILIES);
        }
        checkIndex(n);
        return vqa(seed, Math.multiplyExact(n, VqaQuestions.FAMILIES.size()) + slot);
    }

    /** Name of the relative-position question family ({@link VqaExample#family()}). */
    public static final String RELATIVE_POSITION = VqaQuestions.POSITION;

    /** Name of the colour question family ("What colour is the triangle?"). */
    public static final String COLOUR = VqaQuestions.COLOUR;

    /** Name of the shape question family ("What shape is the red object?"). */
    public static final String SHAPE = VqaQuestions.SHAPE;

    /** The VQAv2 question {@code index} (image {@code index / 3}). */
    public static VqaExample vqa(long seed, int index) {
        checkIndex(index);
        int imageIndex = index / VQA_QUESTIONS_PER_IMAGE;
        Scene2d scene = SceneSampler2d.sample(SceneSpec.VQA, Rng.of(Track.VQA, seed, imageIndex, SCENE));
        VqaQuestions.Question q = VqaQuestions.ask(scene, index, Rng.of(Track.VQA, seed, index, QUESTION));
        int imageId = imageIndex + 1;
        int questionId = imageId * 1000 + index % VQA_QUESTIONS_PER_IMAGE;
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            answers.add(q.answer());
        }
        return new VqaExample(imageId, questionId, Renderer2d.render(scene), q.text(), q.family(), q.answerType(),
                answers, scene);
    }

    /** The POPE probe {@code index} of one variant's file (image {@code index / 6}; even slots yes, odd no). */
    public static PopeExample pope(long seed, int index, PopeVariant variant) {
        checkIndex(index);
        int imageIndex = index / POPE_QUESTIONS_PER_IMAGE;
        Scene2d scene = SceneSampler2d.sample(SceneSpec.POPE, Rng.of(Track.POPE, seed, imageIndex, SCENE));
        List<PopeQuestions.Probe> probes = PopeQuestions.probes(scene, variant,
                Rng.of(Track.POPE, seed, imageIndex, POSITIVES),
                Rng.of(Track.POPE, seed, imageIndex, NEGATIVES + variant.ordinal()));
        PopeQuestions.Probe p = probes.get(index % POPE_QUESTIONS_PER_IMAGE);
        return new PopeExample(index + 1, popeImageFile(imageIndex), Renderer2d.render(scene), p.question(),
                p.present() ? "yes" : "no", variant, p.colour(), p.shape(), scene);
    }

    /** POPE "image" field of an image index: {@code COCO_val2014_<12 digits>.png}. */
    public static String popeImageFile(int imageIndex) {
        return String.format("COCO_val2014_%012d.png", imageIndex + 1);
    }

    /** The ReasonSeg sample {@code index}: odd indices ask reasoning sentences, even ones referring phrases. */
    public static SegExample seg(long seed, int index) {
        checkIndex(index);
        Rng sceneRng = Rng.of(Track.SEG, seed, index, SCENE);
        Rng textRng = Rng.of(Track.SEG, seed, index, QUESTION);
        while (true) {
            Scene2d scene = SceneSampler2d.sample(SceneSpec.SEG, sceneRng);
            SegExpressions.Expression e = SegExpressions.make(scene, index % 2 == 1, textRng);
            if (e == null) {
                continue;
            }
            SceneObject target = scene.object(e.targetId());
            int size = IMAGE_SIZE;
            return new SegExample(String.format("shapes_%06d", index), Renderer2d.render(scene), e.text(),
                    e.isSentence(), target.outline(), target.outline().rasterise(size, size), target.id(), e.anchorId(), scene);
        }
    }

    /** The in-context episode {@code index} with {@code shots} demos; attribute {@code index mod 4}. */
    public static IclExample icl(long seed, int index, int shots) {
        checkIndex(index);
        if (shots < 1 || shots > MAX_SHOTS) {
            throw new IllegalArgumentException("shots must be 1.." + MAX_SHOTS + ", got " + shots);
        }
        String attribute = IclTasks.ATTRIBUTES.get(index % IclTasks.ATTRIBUTES.size());
        List<IclExample.Demo> demos = new ArrayList<>();
        for (int k = 0; k < shots; k++) {
            Scene2d s = IclTasks.scene(Rng.of(Track.ICL, seed, index, DEMO_IMAGE + k));
            demos.add(new IclExample.Demo(Renderer2d.render(s), IclTasks.QUESTION, IclTasks.answer(attribute, s), s));
        }
        Scene2d query = IclTasks.scene(Rng.of(Track.ICL, seed, index, QUERY_IMAGE));
        return new IclExample(String.format("icl_%06d", index), IclTasks.INSTRUCTION, demos, Renderer2d.render(query),
                query, IclTasks.QUESTION, attribute, List.of(IclTasks.answer(attribute, query)));
    }

    /** The ScanQA question {@code index} (scene {@code index / 4}) over {@code views} rendered views. */
    public static Scene3dExample scene3d(long seed, int index, int views, String split) {
        checkIndex(index);
        return scene3d(posedScene(seed, index / SCANQA_QUESTIONS_PER_SCENE, views), index, split);
    }

    /**
     * The question {@code index} over its already rendered scene, so that the four questions of a scene can
     * share one render (the file writer does this). {@code posed} must be scene {@code index / 4}.
     */
    public static Scene3dExample scene3d(Posed posed, int index, String split) {
        checkIndex(index);
        int sceneIndex = index / SCANQA_QUESTIONS_PER_SCENE;
        if (sceneIndex != posed.sceneIndex()) {
            throw new IllegalArgumentException("question " + index + " belongs to scene " + sceneIndex
                    + ", not to scene " + posed.sceneIndex());
        }
        long seed = posed.seed();
        ScanQaQuestions.Question q = ScanQaQuestions.ask(posed.scene(), index % ScanQaQuestions.FAMILIES.size(),
                Rng.of(Track.THREE_D, seed, index, QUESTION));
        String sceneId = sceneId(sceneIndex);
        List<String> names = new ArrayList<>();
        for (int id : q.objectIds()) {
            names.add(posed.scene().object(id).name());
        }
        return new Scene3dExample(split + "-" + sceneId + "-" + index % SCANQA_QUESTIONS_PER_SCENE, sceneId,
                posed.views(), q.text(), q.family(), q.answers(), q.objectIds(), names, posed.scene());
    }

    /** {@link #scene3d(long, int, int, String)} with the default split name. */
    public static Scene3dExample scene3d(long seed, int index, int views) {
        return scene3d(seed, index, views, SCANQA_SPLIT);
    }

    /** {@code scene%04d_00}. */
    public static String sceneId(int sceneIndex) {
        return String.format("scene%04d_00", sceneIndex);
    }

    /**
     * A 3D scene with its rendered views: what the ScanQA writer stores once per scene.
     *
     * @param seed generator seed
     * @param sceneIndex scene number ({@code scene%04d_00})
     * @param scene the scene graph
     * @param views the posed views, frame 0, 20, 40, ...
     */
    public record Posed(long seed, int sceneIndex, Scene3d scene, List<PosedView> views) {
        public Posed {
            views = List.copyOf(views);
        }
    }

    /** Scene {@code sceneIndex} and its views; resampled until every object shows in some view. */
    public static Posed posedScene(long seed, int sceneIndex, int views) {
        checkIndex(sceneIndex);
        if (views < 1 || views > MAX_VIEWS) {
            throw new IllegalArgumentException("views must be 1.." + MAX_VIEWS + ", got " + views);
        }
        Rng rng = Rng.of(Track.THREE_D, seed, sceneIndex, SCENE);
        while (true) {
            Scene3d scene = SceneSampler3d.sample(rng);
            int[] seen = new int[scene.objects().size()];
            List<PosedView> out = new ArrayList<>();
            double start = rng.uniform(0, 2 * StrictMath.PI);
            for (int k = 0; k < views; k++) {
                double az = start + 2 * StrictMath.PI * k / views + rng.uniform(-0.15, 0.15);
                double dist = rng.uniform(2.9, 3.4);
                double[] eye = {dist * StrictMath.cos(az), dist * StrictMath.sin(az), rng.uniform(1.8, 2.3)};
                double[] target = {rng.uniform(-0.15, 0.15), rng.uniform(-0.15, 0.15), 0.25};
                Camera cam = Camera.lookAt(eye, target);
                RayCaster.Rendered r = RayCaster.render(scene, cam, Rng.of(Track.THREE_D, seed, sceneIndex, VIEWS + k));
                int[] here = new int[seen.length];
                for (int id : r.ids()) {
                    if (id >= 0) {
                        here[id]++;
                    }
                }
                for (int i = 0; i < seen.length; i++) {
                    seen[i] = Math.max(seen[i], here[i]);
                }
                float[][] xyz = PatchXyz.compute(r.depthMm(), IMAGE_SIZE, PATCH, cam.intrinsic(), cam.pose());
                out.add(new PosedView(k * 20, r.colour(), r.depthMm(), cam, xyz, r.ids()));
            }
            if (allVisible(seen)) {
                return new Posed(seed, sceneIndex, scene, out);
            }
        }
    }

    /** Every object shows at least {@link #MIN_VISIBLE_PIXELS} pixels in its best view. */
    private static boolean allVisible(int[] seen) {
        for (int s : seen) {
            if (s < MIN_VISIBLE_PIXELS) {
                return false;
            }
        }
        return true;
    }

    /** The example {@code index} of a track with default settings (POPE random, 2 shots, 3 views). */
    public static ShapesExample example(Track track, long seed, int index) {
        return switch (track) {
            case VQA -> vqa(seed, index);
            case POPE -> pope(seed, index, PopeVariant.RANDOM);
            case SEG -> seg(seed, index);
            case ICL -> icl(seed, index, DEFAULT_SHOTS);
            case THREE_D -> scene3d(seed, index, DEFAULT_VIEWS);
        };
    }

    /** Channel-first copy {@code [3, H, W]} of an image, values 0..255 (normalisation is the processor's job). */
    public static float[] chw(RgbImage img) {
        int hw = img.width() * img.height();
        float[] out = new float[3 * hw];
        float[] d = img.data();
        for (int i = 0; i < hw; i++) {
            out[i] = d[i * 3];
            out[hw + i] = d[i * 3 + 1];
            out[2 * hw + i] = d[i * 3 + 2];
        }
        return out;
    }

    private static void checkIndex(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("example index must be >= 0, got " + index);
        }
    }
}
