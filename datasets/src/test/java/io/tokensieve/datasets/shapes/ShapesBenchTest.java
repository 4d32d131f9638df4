package io.tokensieve.datasets.shapes;

import io.tokensieve.core.image.RgbImage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Answers, masks and labels recomputed from the scene graphs by an independent reader ({@link Oracle2d}). */
class ShapesBenchTest {
    private static final long SEED = 11;
    private static final int SIZE = ShapesBench.IMAGE_SIZE;

    @Test
    void vqaAnswersFollowFromTheSceneGraph() {
        Map<String, Integer> families = new TreeMap<>();
        int yes = 0;
        int yesNo = 0;
        for (int i = 0; i < 420; i++) {
            VqaExample ex = ShapesBench.vqa(SEED, i);
            String expected = Oracle2d.vqaAnswer(ex.scene(), ex.question());
            assertEquals(expected, ex.answer(), ex.question());
            assertEquals(10, ex.answers().size());
            assertTrue(ex.answers().stream().allMatch(expected::equals));
            String type = switch (ex.family()) {
                case "exist" -> "yes/no";
                case "count" -> "number";
                case "reading" -> Character.isDigit(expected.charAt(0)) ? "number" : "other";
                default -> "other";
            };
            assertEquals(type, ex.answerType(), ex.question());
            if (ex.answerType().equals("yes/no")) {
                yesNo++;
                yes += expected.equals("yes") ? 1 : 0;
            }
            families.merge(ex.family(), 1, Integer::sum);
            assertEquals(ex.imageId() * 1000 + i % 3, ex.questionId());
        }
        assertEquals(Set.copyOf(VqaQuestions.FAMILIES), families.keySet());
        for (int n : families.values()) {
            assertTrue(n >= 45, "families should be near-balanced: " + families);
        }
        assertTrue(Math.abs(2 * yes - yesNo) <= 2, "yes/no balance " + yes + "/" + yesNo);
    }

    @Test
    void aFamilysExamplesAreItsSlotOfThePlainStream() {
        int asked = 0;
        for (int n = 0; n < 30; n++) {
            VqaExample v = ShapesBench.vqaOfFamily(SEED, n, ShapesBench.RELATIVE_POSITION);
            VqaExample same = ShapesBench.vqa(SEED, n * 7 + 5); // relative position is the sixth of seven families
            assertEquals(same.questionId(), v.questionId());
            assertEquals(same.question(), v.question());
            asked += v.family().equals(ShapesBench.RELATIVE_POSITION) ? 1 : 0;
        }
        assertTrue(asked >= 27, "most scenes fit a relative-position question, got " + asked + " of 30");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ShapesBench.vqaOfFamily(SEED, 0, "colours"));
        assertTrue(e.getMessage().contains("unknown VQA family 'colours'"), e.getMessage());
    }

    @Test
    void sceneGraphsMatchTheirRenders() {
        for (int img = 0; img < 40; img++) {
            VqaExample ex = ShapesBench.vqa(SEED, img * 3);
            Scene2d scene = ex.scene();
            assertTrue(scene.objects().size() >= 2 && scene.objects().size() <= 8);
            Set<String> kinds = new HashSet<>();
            int[] visible = new int[scene.objects().size()];
            for (int id : scene.idMap()) {
                if (id >= 0) {
                    visible[id]++;
                }
            }
            boolean[] touched = new boolean[ShapesBench.GRID * ShapesBench.GRID];
            for (int p = 0; p < scene.idMap().length; p++) {
                if (scene.idMap()[p] >= 0) {
                    touched[(p / SIZE / ShapesBench.PATCH) * ShapesBench.GRID + (p % SIZE) / ShapesBench.PATCH] = true;
                }
            }
            int covered = 0;
            for (boolean t : touched) {
                covered += t ? 1 : 0;
            }
            assertTrue(covered < touched.length / 2, "objects must cover a minority of patches: " + covered);
            for (SceneObject o : scene.objects()) {
                assertTrue(kinds.add(o.name()), "duplicate " + o.name());
                assertEquals(o.outline().pixelIndices(SIZE, SIZE).length, o.area());
                assertEquals(visible[o.id()], o.visible(), "visible pixels of " + o.name());
                assertTrue(o.visible() >= SceneSampler2d.MIN_VISIBLE * o.area(), o.name() + " is hidden");
                assertTrue(o.radius() >= o.size().minRadius() && o.radius() <= o.size().maxRadius());
                checkObjectPixels(ex.image(), scene, o);
            }
        }
    }

    /** Object pixels carry the object's colour; printed characters are ink inside their object. */
    private static void checkObjectPixels(RgbImage img, Scene2d scene, SceneObject o) {
        Set<Integer> ink = new HashSet<>();
        if (o.hasGlyph()) {
            int[] glyph = Renderer2d.glyphInk(o);
            assertTrue(glyph.length >= 10, "glyph pixels present");
            float inkValue = Renderer2d.ink(o.colour());
            for (int p : glyph) {
                ink.add(p);
                assertEquals(o.id(), scene.idMap()[p], "glyph of " + o.name() + " is covered or outside it");
                for (int c = 0; c < 3; c++) {
                    assertTrue(Math.abs(img.data()[p * 3 + c] - inkValue) <= Texture.NOISE + 1, "ink pixel");
                }
            }
        }
        int[] rgb = {o.colour().r(), o.colour().g(), o.colour().b()};
        for (int p = 0; p < scene.idMap().length; p++) {
            if (scene.idMap()[p] != o.id() || ink.contains(p)) {
                continue;
            }
            for (int c = 0; c < 3; c++) {
                float v = img.data()[p * 3 + c];
                boolean clamped = v == 0 || v == 255;
                assertTrue(clamped || Math.abs(v - rgb[c]) <= 12 + Texture.NOISE + 1,
                        o.name() + " pixel " + p + " channel " + c + " = " + v);
            }
        }
    }

    @Test
    void popeLabelsAreBalancedAndNegativesFollowTheirRule() {
        int n = 60;
        for (PopeVariant v : PopeVariant.values()) {
            int yes = 0;
            for (int i = 0; i < n; i++) {
                PopeExample ex = ShapesBench.pope(SEED, i, v);
                boolean present = ex.scene().find(ex.colour(), ex.shape()) != null;
                assertEquals(present ? "yes" : "no", ex.label(), ex.question());
                String noun = ex.colour().word() + " " + ex.shape().word();
                assertTrue(ex.question().endsWith(noun + " in the image?"), ex.question());
                yes += present ? 1 : 0;
                assertEquals(i % 2 == 0, present, "probes alternate yes/no");
                if (!present) {
                    checkNegativeRule(ex, v);
                } else {
                    assertEquals(ex.question(), ShapesBench.pope(SEED, i, PopeVariant.RANDOM).question(),
                            "yes-probes are shared by the variants");
                }
            }
            assertEquals(n / 2, yes, v + " must be balanced");
        }
    }

    private static void checkNegativeRule(PopeExample ex, PopeVariant v) {
        Scene2d scene = ex.scene();
        List<PopeQuestions.Probe> chosen = new ArrayList<>();
        int first = (ex.questionId() - 1) / 6 * 6;
        for (int k = 1; k < 6; k += 2) {
            PopeExample other = ShapesBench.pope(SEED, first + k, v);
            chosen.add(new PopeQuestions.Probe(other.colour(), other.shape(), false));
        }
        assertEquals(3, new HashSet<>(chosen).size(), "three different negatives per image");
        PopeQuestions.Probe mine = new PopeQuestions.Probe(ex.colour(), ex.shape(), false);
        for (Colour c : Colour.values()) {
            for (Shape2d s : Shape2d.values()) {
                PopeQuestions.Probe other = new PopeQuestions.Probe(c, s, false);
                if (scene.find(c, s) != null || chosen.contains(other)) {
                    continue;
                }
                if (v == PopeVariant.POPULAR) {
                    assertTrue(c.prior() * s.prior() <= ex.colour().prior() * ex.shape().prior() + 1e-12,
                            "popular negative " + ex.question() + " beaten by " + c + " " + s);
                }
                if (v == PopeVariant.ADVERSARIAL) {
                    assertTrue(PopeQuestions.shared(scene, other) <= PopeQuestions.shared(scene, mine));
                }
            }
        }
        if (v == PopeVariant.ADVERSARIAL) {
            boolean shares = scene.objects().stream()
                    .anyMatch(o -> o.colour() == ex.colour() || o.shape() == ex.shape());
            assertTrue(shares, "adversarial negative shares nothing: " + ex.question());
        }
    }

    @Test
    void segMasksAreTheVisibleTargetAndExpressionsAreUnique() {
        int sentences = 0;
        for (int i = 0; i < 120; i++) {
            SegExample ex = ShapesBench.seg(SEED, i);
            Scene2d scene = ex.scene();
            SceneObject target = Oracle2d.segTarget(scene, ex.expression());
            assertEquals(target.id(), ex.targetId(), ex.expression());
            assertEquals(ex.expression().endsWith("?"), ex.isSentence());
            sentences += ex.isSentence() ? 1 : 0;
            assertArrayEquals(ex.target().rasterise(SIZE, SIZE), ex.mask());
            int on = 0;
            for (int p = 0; p < ex.mask().length; p++) {
                assertEquals(ex.mask()[p], scene.idMap()[p] == target.id(), "mask pixel " + p + " of " + ex.id());
                on += ex.mask()[p] ? 1 : 0;
            }
            assertTrue(on > 50, "mask is not empty");
        }
        assertEquals(60, sentences, "odd indices ask sentences");
    }

    @Test
    void reasoningSentencesKnowTheObjectTheyNameAsAnchor() {
        int anchored = 0;
        for (int i = 0; i < 160; i++) {
            SegExample ex = ShapesBench.seg(SEED, i);
            SceneObject anchor = Oracle2d.segAnchor(ex.scene(), ex.expression());
            assertEquals(anchor == null ? -1 : anchor.id(), ex.anchorId(), ex.expression());
            assertNotEquals(ex.targetId(), ex.anchorId(), ex.expression());
            anchored += anchor != null ? 1 : 0;
        }
        assertTrue(anchored >= 30, "sentences with an anchor: " + anchored + " of 80");
    }

    @Test
    void inContextAttributeIsImpliedOnlyByTheDemos() {
        Set<String> instructions = new HashSet<>();
        Set<String> questions = new HashSet<>();
        Map<String, Integer> attributes = new TreeMap<>();
        for (int i = 0; i < 40; i++) {
            IclExample ex = ShapesBench.icl(SEED, i, 3);
            assertEquals(3, ex.demos().size());
            assertEquals(4, ex.images().size());
            instructions.add(ex.instruction());
            questions.add(ex.question());
            attributes.merge(ex.attribute(), 1, Integer::sum);
            for (IclExample.Demo d : ex.demos()) {
                questions.add(d.question());
                assertEquals(expectedIcl(ex.attribute(), d.scene()), d.answer());
            }
            assertEquals(List.of(expectedIcl(ex.attribute(), ex.queryScene())), ex.answers());
            assertTrue(ex.prompt().endsWith("Short answer:"));
            assertEquals(4, ex.prompt().split("<image>", -1).length - 1);
        }
        assertEquals(1, instructions.size());
        assertEquals(1, questions.size());
        assertEquals(Map.of("colour", 10, "count", 10, "shape", 10, "size", 10), attributes);
    }

    private static String expectedIcl(String attribute, Scene2d s) {
        SceneObject first = s.objects().get(0);
        for (SceneObject o : s.objects()) {
            assertEquals(first.name(), o.name(), "one kind per in-context image");
            assertEquals(first.size(), o.size());
        }
        assertTrue(s.objects().size() <= IclTasks.MAX_COPIES);
        return switch (attribute) {
            case "colour" -> first.colour().word();
            case "shape" -> first.shape().word();
            case "count" -> Integer.toString(s.objects().size());
            case "size" -> first.size().word();
            default -> throw new AssertionError(attribute);
        };
    }

    /** Every candidate text of every generator over many scenes (no rendering), plus whole prompts. */
    @Test
    void everyGeneratedWordIsInTheVocabulary() {
        Set<String> vocab = new HashSet<>(ShapesVocabulary.words());
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            Scene2d scene = SceneSampler2d.sample(SceneSpec.VQA, new Rng(i));
            Rng rng = new Rng(-i);
            for (String family : VqaQuestions.FAMILIES) {
                for (boolean yes : new boolean[] {true, false}) {
                    VqaQuestions.Question q = VqaQuestions.family(scene, family, yes, rng);
                    if (q != null) {
                        texts.add(q.text() + " " + q.answer());
                    }
                }
            }
            SegExpressions.referring(scene).forEach(e -> texts.add(e.text()));
            SegExpressions.reasoning(scene).forEach(e -> texts.add(e.text()));
            PopeQuestions.absent(scene).forEach(p -> texts.add(p.question()));
            Scene3d s3 = SceneSampler3d.sample(new Rng(i));
            for (String family : ScanQaQuestions.FAMILIES) {
                ScanQaQuestions.Question q = ScanQaQuestions.family(s3, family, rng);
                if (q != null) {
                    texts.add(q.text() + " " + String.join(" ", q.answers()));
                }
            }
            Scene2d icl = IclTasks.scene(rng);
            IclTasks.ATTRIBUTES.forEach(a -> texts.add(IclTasks.answer(a, icl)));
        }
        for (Track t : Track.values()) {
            for (int i = 0; i < 4; i++) {
                ShapesExample ex = ShapesBench.example(t, SEED, i);
                texts.add(ex.prompt().replace("<image>", " ") + " " + String.join(" ", ex.answers()).replace("[SEG]", " "));
            }
        }
        texts.addAll(ShapesPrompts.WRAPPERS);
        Set<String> used = new HashSet<>();
        for (String text : texts) {
            for (String w : ShapesVocabulary.split(text)) {
                assertTrue(vocab.contains(w), "'" + w + "' of '" + text + "' is not in the vocabulary");
                used.add(w);
            }
        }
        assertEquals(ShapesVocabulary.words().stream().sorted().distinct().toList(), ShapesVocabulary.words());
        assertTrue(used.size() > 0.9 * vocab.size(), "the vocabulary should not be mostly unused words: "
                + used.size() + " of " + vocab.size());
    }

    @Test
    void generatorIsAPureFunctionOfTrackSeedAndIndex() {
        VqaExample a = ShapesBench.vqa(1000, 5);
        VqaExample b = ShapesBench.vqa(1000, 5);
        assertArrayEquals(a.image().data(), b.image().data());
        assertEquals(a.question(), b.question());
        assertNotEquals(a.question() + a.scene().objects(), ShapesBench.vqa(1001, 5).question()
                + ShapesBench.vqa(1001, 5).scene().objects(), "another seed gives another scene");
        Scene3dExample c = ShapesBench.scene3d(1000, 2, 2);
        Scene3dExample d = ShapesBench.scene3d(1000, 2, 2);
        assertArrayEquals(c.views().get(1).depthMm(), d.views().get(1).depthMm());
        assertArrayEquals(c.views().get(1).colour().data(), d.views().get(1).colour().data());
        float[] chw = ShapesBench.chw(a.image());
        assertEquals(a.image().get(7, 3, 2), chw[2 * SIZE * SIZE + 3 * SIZE + 7]);
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> ShapesBench.vqa(1, -1));
        assertThrows(IllegalArgumentException.class, () -> ShapesBench.icl(1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> ShapesBench.scene3d(1, 0, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Track.parse("videos"));
        assertTrue(e.getMessage().contains("vqa, pope, seg, icl, 3d"), e.getMessage());
        assertEquals(Track.THREE_D, Track.parse("3D"));
    }
}
