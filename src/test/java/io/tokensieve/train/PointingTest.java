package io.tokensieve.train;

import io.tokensieve.core.image.ClipImageProcessor;
import io.tokensieve.core.config.PreprocessorConfig;
import io.tokensieve.core.text.PromptTemplate;
import io.tokensieve.core.text.SieveTokenizer;
import io.tokensieve.core.text.WordLevelTokenizer;
import io.tokensieve.core.train.TrainExample;
import io.tokensieve.datasets.shapes.PatchLabels;
import io.tokensieve.datasets.shapes.PopeExample;
import io.tokensieve.datasets.shapes.PopeVariant;
import io.tokensieve.datasets.shapes.SceneObject;
import io.tokensieve.datasets.shapes.ShapesBench;
import io.tokensieve.datasets.shapes.VqaExample;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Attention targets of the pointing loss, checked against the answers the generator computed from the scene graph. */
class PointingTest {
    private static final int GRID = 8;

    @Test
    void questionsPointAtTheObjectsTheirAnswersAreAbout() {
        int[] seen = new int[5];
        for (int i = 0; i < 300; i++) {
            VqaExample v = ShapesBench.vqa(1000, i);
            List<SceneObject> r = Pointing.referred(v.question(), v.scene());
            String answer = v.answers().get(0);
            switch (v.family()) {
                case "colour" -> {
                    assertEquals(1, r.size(), v.question());
                    assertEquals(answer, r.get(0).colour().word(), v.question());
                    seen[0]++;
                }
                case "shape" -> {
                    assertEquals(1, r.size(), v.question());
                    assertEquals(answer, r.get(0).shape().word(), v.question());
                    seen[1]++;
                }
                case "count" -> {
                    assertEquals(Integer.parseInt(answer), r.size(), v.question());
                    seen[2]++;
                }
                case "exist" -> {
                    assertEquals(answer.equals("yes"), !r.isEmpty(), v.question());
                    seen[3]++;
                }
                case "reading" -> {
                    assertEquals(1, r.size(), v.question());
                    assertEquals(answer, String.valueOf(r.get(0).glyph()).toLowerCase(Locale.ROOT), v.question());
                    seen[4]++;
                }
                default -> { }
            }
        }
        for (int s : seen) {
            assertTrue(s > 5, "every checked family must occur: " + java.util.Arrays.toString(seen));
        }
    }

    @Test
    void popeProbesPointAtTheProbedObjectOrNowhere() {
        int yes = 0;
        for (int i = 0; i < 60; i++) {
            PopeExample p = ShapesBench.pope(1000, i, PopeVariant.values()[i % PopeVariant.values().length]);
            List<SceneObject> r = Pointing.referred(p.question(), p.scene());
            assertEquals(p.label().equals("yes"), !r.isEmpty(), p.question());
            for (SceneObject o : r) {
                assertEquals(p.colour(), o.colour());
                assertEquals(p.shape(), o.shape());
            }
            int[][] t = Pointing.forQuestion(p.question(), p.scene(), GRID, 2);
            if (p.label().equals("yes") && t[0] != null) {
                yes++;
            } else {
                assertTrue(t[0] == null || p.label().equals("yes"), "a 'no' probe points nowhere");
            }
            assertNull(t[1], "only the first answer token has a target");
        }
        assertTrue(yes > 10, "'yes' probes must point at visible objects");
    }

    @Test
    void absentObjectsPointAtTheFirstTokenOnlyWhenAskedTo() {
        int absent = 0;
        for (int i = 0; i < 60; i++) {
            PopeExample p = ShapesBench.pope(1000, i, PopeVariant.values()[i % PopeVariant.values().length]);
            int[][] plain = Pointing.forQuestion(p.question(), p.scene(), GRID, 2);
            int[][] sink = Pointing.forQuestion(p.question(), p.scene(), GRID, 2, true);
            if (p.label().equals("no")) {
                absent++;
                assertNull(plain[0], p.question());
                assertArrayEquals(new int[] {io.tokensieve.core.train.TrainExample.FIRST_TOKEN}, sink[0], p.question());
            } else {
                assertArrayEquals(plain[0], sink[0], "present objects keep their patches: " + p.question());
            }
            assertNull(sink[1], "only the first answer token has a target");
        }
        assertTrue(absent > 10, "'no' probes must occur");
        // a count of zero names no present object either
        int zero = 0;
        for (int i = 0; i < 400 && zero < 3; i++) {
            VqaExample v = ShapesBench.vqa(1000, i);
            if (v.family().equals("count") && v.answer().equals("0")) {
                zero++;
                assertArrayEquals(new int[] {io.tokensieve.core.train.TrainExample.FIRST_TOKEN},
                        Pointing.forQuestion(v.question(), v.scene(), GRID, 2, true)[0], v.question());
            }
        }
    }

    @Test
    void cellsAreTheObjectsPatchesByTheirLabels() {
        for (int i = 0; i < 40; i++) {
            VqaExample v = ShapesBench.vqa(1000, i * ShapesBench.VQA_QUESTIONS_PER_IMAGE);
            int[][] labels = PatchLabels.of(v.scene(), GRID);
            for (SceneObject o : v.scene().objects()) {
                for (int cell : Pointing.cells(v.scene(), List.of(o), GRID)) {
                    boolean body = labels[0][cell] == o.colour().ordinal() + 1 && labels[1][cell] == o.shape().ordinal() + 1;
                    boolean glyph = o.hasGlyph() && cell == PatchLabels.glyphCell(o, GRID);
                    assertTrue(body || glyph, "cell " + cell + " of " + o);
                }
            }
        }
    }

    @Test
    void captionTokensPointAtTheObjectTheyDescribe() throws Exception {
        WordLevelTokenizer wl = Trainer.tokenizer();
        Path dir = Files.createTempDirectory("tok");
        wl.save(dir);
        try (SieveTokenizer tok = SieveTokenizer.load(dir)) {
            TrainSettings s = TrainSettings.sieveTiny();
            ShapesTrainData data = new ShapesTrainData(s, tok, new ClipImageProcessor(PreprocessorConfig.clip(s.imageSize())),
                    PromptTemplate.LLAVA15, wl.id(WordLevelTokenizer.EOS));
            VqaExample v = ShapesBench.vqa(1000, 3 * ShapesBench.VQA_QUESTIONS_PER_IMAGE);
            for (boolean shapeFirst : new boolean[] {false, true}) {
                CaptionExample c = CaptionExample.of(v.image(), v.scene(), shapeFirst);
                TrainExample e = data.convert(c);
                int[][] p = e.pointing();
                assertEquals(e.answerIds().length, p.length);
                int k = 0;
                for (SceneObject o : CaptionExample.described(v.scene())) {
                    int words = CaptionExample.words(o, shapeFirst).split(" ").length;
                    for (int w = 0; w < words; w++, k++) {
                        int[] want = Pointing.cells(v.scene(), List.of(o), s.grid());
                        assertArrayEquals(want.length == 0 ? null : want, p[k], "token " + k + " of '" + c.answer() + "'");
                    }
                }
                assertEquals(e.answerIds().length - 1, k, "every caption word has a target, EOS none");
                assertNull(p[k]);
            }

            TrainExample q = data.convert(v);
            int[] asked = Pointing.cells(v.scene(), Pointing.referred(v.question(), v.scene()), s.grid());
            assertArrayEquals(asked.length == 0 ? null : asked, q.pointing()[0], v.question());
        }
    }
}
