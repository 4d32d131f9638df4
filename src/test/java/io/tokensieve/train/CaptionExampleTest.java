package io.tokensieve.train;

import io.tokensieve.core.text.WordLevelTokenizer;
import io.tokensieve.datasets.shapes.PatchLabels;
import io.tokensieve.datasets.shapes.SceneObject;
import io.tokensieve.datasets.shapes.ShapesBench;
import io.tokensieve.datasets.shapes.ShapesVocabulary;
import io.tokensieve.datasets.shapes.VqaExample;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The training-only caption track and the patch-label words of the grounding loss, checked against the scene graph. */
class CaptionExampleTest {
    @Test
    void captionListsVisibleObjectsLeftToRightFromTheSceneGraph() {
        Set<String> vocab = Set.copyOf(ShapesVocabulary.words());
        int checked = 0;
        for (int i = 0; i < 40; i++) {
            VqaExample v = ShapesBench.vqa(1000, i * ShapesBench.VQA_QUESTIONS_PER_IMAGE);
            CaptionExample c = CaptionExample.of(v.image(), v.scene());
            // independent reading of the scene graph: visible objects by centre x
            List<SceneObject> objs = new ArrayList<>();
            for (SceneObject o : v.scene().objects()) {
                if (o.visible() >= CaptionExample.MIN_VISIBLE_PIXELS) {
                    objs.add(o);
                }
            }
            objs.sort((a, b) -> a.cx() != b.cx() ? Integer.compare(a.cx(), b.cx()) : Integer.compare(a.cy(), b.cy()));
            List<String> words = List.of(c.answer().split(" "));
            int w = 0;
            for (SceneObject o : objs) {
                assertEquals(o.colour().name().toLowerCase(Locale.ROOT), words.get(w++), c.answer());
                assertEquals(o.shape().name().toLowerCase(Locale.ROOT), words.get(w++), c.answer());
                if (o.glyph() != 0) {
                    assertEquals(String.valueOf(o.glyph()).toLowerCase(Locale.ROOT), words.get(w++), c.answer());
                }
            }
            assertEquals(words.size(), w, "no extra words: " + c.answer());
            for (String word : words) {
                assertTrue(vocab.contains(word), "'" + word + "' must be in the tokenizer's vocabulary");
            }
            assertTrue(c.prompt().contains("<image>") && c.prompt().contains(CaptionExample.QUESTION), c.prompt());
            checked += objs.size();
        }
        assertTrue(checked > 40, "the scenes must have objects");
    }

    @Test
    void shapeFirstCaptionNamesEachShapeBeforeItsColourUnderItsOwnQuestion() {
        Set<String> vocab = Set.copyOf(ShapesVocabulary.words());
        for (int i = 0; i < 20; i++) {
            VqaExample v = ShapesBench.vqa(1000, i * ShapesBench.VQA_QUESTIONS_PER_IMAGE);
            CaptionExample colourFirst = CaptionExample.of(v.image(), v.scene(), false);
            CaptionExample shapeFirst = CaptionExample.of(v.image(), v.scene(), true);
            String[] a = colourFirst.answer().split(" ");
            String[] b = shapeFirst.answer().split(" ");
            assertEquals(a.length, b.length, shapeFirst.answer());
            int w = 0;
            for (SceneObject o : CaptionExample.described(v.scene())) {
                assertEquals(o.shape().name().toLowerCase(Locale.ROOT), b[w], shapeFirst.answer());
                assertEquals(o.colour().name().toLowerCase(Locale.ROOT), b[w + 1], shapeFirst.answer());
                assertEquals(a[w], b[w + 1]);
                assertEquals(a[w + 1], b[w]);
                w += o.glyph() != 0 ? 3 : 2;
            }
            assertEquals(b.length, w, "no extra words: " + shapeFirst.answer());
            // the question tells the two orders apart, and uses only words the tokenizer knows
            assertTrue(shapeFirst.prompt().contains(CaptionExample.SHAPE_FIRST_QUESTION), shapeFirst.prompt());
            assertTrue(colourFirst.prompt().contains(CaptionExample.QUESTION), colourFirst.prompt());
            assertTrue(!colourFirst.prompt().contains(CaptionExample.SHAPE_FIRST_QUESTION), colourFirst.prompt());
            for (String word : CaptionExample.SHAPE_FIRST_QUESTION.toLowerCase(Locale.ROOT).split("[^a-z]+")) {
                assertTrue(vocab.contains(word), "'" + word + "' must be in the tokenizer's vocabulary");
            }
        }
    }

    @Test
    void everyPatchLabelClassHasAWordInTheVocabulary() {
        WordLevelTokenizer wl = Trainer.tokenizer();
        int[][] ids = Trainer.labelTokens(wl, TrainSettings.sieveTiny().withLabel3d(true));
        int[] classes = {PatchLabels.COLOURS, PatchLabels.SHAPES, PatchLabels.GLYPHS, PatchLabels.SHAPES_3D};
        assertEquals(classes.length, ids.length);
        for (int k = 0; k < ids.length; k++) {
            assertEquals(classes[k], ids[k].length, "kind " + k);
            assertEquals(-1, ids[k][0], "background has no word");
            for (int c = 1; c < ids[k].length; c++) {
                assertTrue(ids[k][c] >= 0, "kind " + k + " class " + c);
            }
        }
        assertEquals(wl.id("red"), ids[0][1], "class 1 of colours is the first colour");
    }
}
