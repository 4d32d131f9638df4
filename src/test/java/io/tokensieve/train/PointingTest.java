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
import io.tokensieve.datasets.shapes.Object3d;
import io.tokensieve.datasets.shapes.PatchXyz;
import io.tokensieve.datasets.shapes.PosedView;
import io.tokensieve.datasets.shapes.Scene3dExample;
import io.tokensieve.datasets.shapes.SegExample;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
    void comparisonsPointTheTwoHalvesOfTheHeadsAtTheTwoObjectsInTheQuestionsOrder() {
        int compared = 0;
        int single = 0;
        for (int i = 0; i < 300; i++) {
            VqaExample v = ShapesBench.vqa(1000, i);
            int[][][] split = Pointing.forComparison(v.question(), v.scene(), GRID, 2);
            if (!v.family().equals("relative position")) {
                assertNull(split, "only comparisons split: " + v.question());
                single++;
                continue;
            }
            List<List<SceneObject>> named = Pointing.phrases(v.question(), v.scene());
            assertEquals(2, named.size(), v.question());
            SceneObject a = named.get(0).get(0);
            SceneObject b = named.get(1).get(0);
            assertEquals(1, named.get(0).size(), v.question());
            assertEquals(1, named.get(1).size(), v.question());
            String answer = v.answers().get(0);
            // the first phrase is the object the answer describes: "left" when it lies left of the second, etc.
            switch (answer) {
                case "left" -> assertTrue(a.cx() < b.cx(), v.question());
                case "right" -> assertTrue(a.cx() > b.cx(), v.question());
                case "above" -> assertTrue(a.cy() < b.cy(), v.question());
                case "below" -> assertTrue(a.cy() > b.cy(), v.question());
                default -> throw new AssertionError("unexpected answer " + answer);
            }
            if (split == null) { // only when an object owns no cell of the grid (hidden under others)
                assertTrue(Pointing.cells(v.scene(), List.of(a), GRID).length == 0
                        || Pointing.cells(v.scene(), List.of(b), GRID).length == 0, v.question());
                continue;
            }
            assertArrayEquals(Pointing.cells(v.scene(), List.of(a), GRID), split[0][0], v.question());
            assertArrayEquals(Pointing.cells(v.scene(), List.of(b), GRID), split[1][0], v.question());
            assertNull(split[0][1], "only the first answer token has a target");
            int[] union = Pointing.forQuestion(v.question(), v.scene(), GRID, 2)[0];
            assertEquals(union.length, java.util.stream.IntStream.concat(java.util.Arrays.stream(split[0][0]),
                    java.util.Arrays.stream(split[1][0])).distinct().count(), "the halves together are the shared target");
            compared++;
        }
        assertTrue(compared > 10 && single > 100, compared + " comparisons, " + single + " others");
    }

    @Test
    void comparisonReadoutsAreTheCellsOfTheTwoObjectsCentresInTheQuestionsOrder() {
        int compared = 0;
        int apart = 0;
        int cellPx = ShapesBench.IMAGE_SIZE / GRID;
        for (int i = 0; i < 300; i++) {
            VqaExample v = ShapesBench.vqa(1000, i);
            int[] r = Pointing.comparisonReadout(v.question(), v.scene(), GRID);
            if (!v.family().equals("relative position")) {
                assertNull(r, "only comparisons have read-out labels: " + v.question());
                continue;
            }
            assertEquals(Pointing.READOUT_KINDS, r.length);
            List<List<SceneObject>> named = Pointing.phrases(v.question(), v.scene());
            SceneObject[] ab = {named.get(0).get(0), named.get(1).get(0)};
            for (int o = 0; o < 2; o++) {
                int col = r[2 * o];
                int row = r[2 * o + 1];
                assertTrue(col * cellPx <= ab[o].cx() && ab[o].cx() < (col + 1) * cellPx, v.question() + " column " + col);
                assertTrue(row * cellPx <= ab[o].cy() && ab[o].cy() < (row + 1) * cellPx, v.question() + " row " + row);
            }
            // the labels order the objects as the answer does (or put both in one cell on the asked axis)
            String answer = v.answers().get(0);
            int axis = answer.equals("left") || answer.equals("right") ? 0 : 1;
            int sign = answer.equals("left") || answer.equals("above") ? -1 : 1;
            int diff = r[axis] - r[2 + axis];
            assertTrue(diff == 0 || Integer.signum(diff) == sign, v.question() + " -> " + answer + ": " + java.util.Arrays.toString(r));
            apart += diff != 0 ? 1 : 0;
            compared++;
        }
        assertTrue(compared > 10 && apart > compared / 2, compared + " comparisons, " + apart + " in different cells");
        SceneObject any = ShapesBench.vqa(1000, 0).scene().objects().get(0);
        assertNull(Pointing.comparisonReadout("Is the " + any.name() + " left of the " + any.name() + "?",
                ShapesBench.vqa(1000, 0).scene(), GRID), "an object compared with itself has no labels");
    }

    @Test
    void onlyARunWithAPositionReadoutGivesTrainingExamplesReadoutLabels() throws Exception {
        WordLevelTokenizer wl = Trainer.tokenizer();
        try (SieveTokenizer tok = loaded(wl)) {
            TrainSettings s = TrainSettings.sieveTiny().withNameReadout(0).withPositionShare(1.0); // no read-out at all
            int labelled = 0;
            for (int i = 0; i < 20; i++) {
                TrainExample off = data(s, tok, wl).example("vqa", i, new java.util.SplittableRandom(i));
                TrainExample on = data(s.withPositionReadout(4), tok, wl).example("vqa", i, new java.util.SplittableRandom(i));
                assertNull(off.readout(), "no read-out labels unless asked for");
                assertEquals(comparesPositions(tok, on), on.readout() != null, tok.decode(on.promptIds()));
                labelled += on.readout() != null ? 1 : 0;
            }
            assertTrue(labelled >= 15, labelled + " of 20");
        }
    }

    @Test
    void nameReadoutsAreTheColourShapeAndSizeEachOfTheFirstTwoPhrasesNames() {
        int c = io.tokensieve.datasets.shapes.Colour.RED.ordinal() + 1;
        int tri = io.tokensieve.datasets.shapes.Shape2d.TRIANGLE.ordinal() + 1;
        int small = io.tokensieve.datasets.shapes.Size.SMALL.ordinal() + 1;
        assertArrayEquals(new int[] {0, tri, small, -1, -1, -1}, Pointing.nameReadout("What colour is the small triangle?"));
        assertArrayEquals(new int[] {c, 0, 0, -1, -1, -1}, Pointing.nameReadout("What shape is the red object?"));
        assertArrayEquals(new int[] {0, tri, 0, -1, -1, -1}, Pointing.nameReadout("How many triangles are there?"));
        assertArrayEquals(new int[] {c, tri, 0, 0, tri, small},
                Pointing.nameReadout("Is the red triangle to the left or to the right of the small triangle?"));
        assertNull(Pointing.nameReadout("What is printed here?"), "no phrase, no labels");
        assertEquals(Pointing.NAME_KINDS, Pointing.NAME_CLASSES.length);
    }

    @Test
    void aNameReadoutLabelsEveryVqaAndPopeQuestionThatNamesAnObject() throws Exception {
        WordLevelTokenizer wl = Trainer.tokenizer();
        try (SieveTokenizer tok = loaded(wl)) {
            TrainSettings s = TrainSettings.sieveTiny(); // the preset reads out names after 2 layers
            assertEquals(2, s.nameReadout());
            int labelled = 0;
            for (int i = 0; i < 20; i++) {
                for (String track : new String[] {"vqa", "pope"}) {
                    TrainExample e = data(s, tok, wl).example(track, i, new java.util.SplittableRandom(i));
                    String q = tok.decode(e.promptIds());
                    int[] want = Pointing.nameReadout(q);
                    assertArrayEquals(want, e.readout(), q);
                    labelled += e.readout() != null ? 1 : 0;
                }
                assertNull(data(s, tok, wl).example("caption", i, new java.util.SplittableRandom(i)).readout(),
                        "captions name no object in their prompt");
            }
            assertTrue(labelled >= 30, labelled + " of 40");
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
    void aCountIsPointedAsOneGroupPerCountedObjectAndTheFirstToken() {
        int counts = 0;
        int zero = 0;
        for (int i = 0; i < 700; i++) {
            VqaExample v = ShapesBench.vqa(1000, i);
            if (!v.isCount()) {
                assertTrue(!v.family().equals("count"), v.question());
                continue;
            }
            counts++;
            int n = Integer.parseInt(v.answer());
            int[][] groups = Pointing.forCount(v.question(), v.scene(), GRID);
            if (groups == null) { // a counted object owns no cell: nothing to share evenly
                continue;
            }
            assertEquals(n + 1, groups.length, "one group per counted object and the first token: " + v.question());
            assertArrayEquals(new int[] {TrainExample.FIRST_TOKEN}, groups[n], v.question());
            java.util.Set<Integer> union = new java.util.TreeSet<>();
            for (int g = 0; g < n; g++) {
                assertTrue(groups[g].length > 0, v.question());
                for (int cell : groups[g]) {
                    union.add(cell);
                }
            }
            // together the objects' groups are the cells a plain pointing target names
            int[] plain = Pointing.forQuestion(v.question(), v.scene(), GRID, 1)[0];
            assertArrayEquals(plain == null ? new int[0] : plain, union.stream().mapToInt(Integer::intValue).toArray(),
                    v.question());
            zero += n == 0 ? 1 : 0;
        }
        assertTrue(counts > 50 && zero > 0, counts + " counts, " + zero + " of zero");
    }

    @Test
    void onlyARunWithCountSinksGivesCountQuestionsPointingGroups() throws Exception {
        WordLevelTokenizer wl = Trainer.tokenizer();
        try (SieveTokenizer tok = loaded(wl)) {
            TrainSettings s = TrainSettings.sieveTiny();
            int grouped = 0;
            for (int i = 0; i < 40; i++) {
                VqaExample v = ShapesBench.vqa(s.dataSeed(), i);
                TrainExample off = data(s, tok, wl).convert(v);
                TrainExample on = data(s.withPointCountSink(true), tok, wl).convert(v);
                assertNull(off.pointingGroups(), "no groups unless asked for");
                int[][] want = v.isCount() ? Pointing.forCount(v.question(), v.scene(), GRID) : null;
                assertEquals(want == null, on.pointingGroups() == null, v.question());
                if (want != null) {
                    assertArrayEquals(want, on.pointingGroups(), v.question());
                    grouped++;
                }
                assertArrayEquals(off.pointing(), on.pointing(), "the plain targets stay: " + v.question());
            }
            assertTrue(grouped >= 2, grouped + " of 40");
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
    void aPositionShareReplacesVqaExamplesByRelativePositionQuestions() throws Exception {
        WordLevelTokenizer wl = Trainer.tokenizer();
        try (SieveTokenizer tok = loaded(wl)) {
            TrainSettings s = TrainSettings.sieveTiny();
            int n = 60;
            int plain = 0;
            int all = 0;
            int half = 0;
            for (int i = 0; i < n; i++) {
                plain += comparesPositions(tok, data(s, tok, wl).example("vqa", i, new java.util.SplittableRandom(i))) ? 1 : 0;
                all += comparesPositions(tok, data(s.withPositionShare(1.0), tok, wl)
                        .example("vqa", i, new java.util.SplittableRandom(i))) ? 1 : 0;
                half += comparesPositions(tok, data(s.withPositionShare(0.5), tok, wl)
                        .example("vqa", i, new java.util.SplittableRandom(i))) ? 1 : 0;
            }
            assertTrue(plain <= n / 7 + 1, "one family in seven without the share, got " + plain);
            assertTrue(all >= n * 9 / 10, "share 1: (almost) every question compares positions, got " + all + " of " + n);
            assertTrue(half > plain + n / 5 && half < all, "share 0.5: " + half);
            assertThrows(IllegalArgumentException.class, () -> s.withPositionShare(1.5));
            assertThrows(IllegalArgumentException.class, () -> s.withPositionShare(Double.NaN));
        }
    }

    /** Whether the training example's prompt asks a relative-position question. */
    private static boolean comparesPositions(SieveTokenizer tok, TrainExample e) {
        String prompt = tok.decode(e.promptIds());
        return prompt.contains("left or") || prompt.contains("above or");
    }

    @Test
    void captionTokensPointAtTheObjectTheyDescribe() throws Exception {
        WordLevelTokenizer wl = Trainer.tokenizer();
        try (SieveTokenizer tok = loaded(wl)) {
            TrainSettings s = TrainSettings.sieveTiny();
            ShapesTrainData data = data(s, tok, wl);
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

    @Test
    void theSegPositionPointsAtTheReferredObjectOnlyWhenAskedTo() throws Exception {
        WordLevelTokenizer wl = Trainer.tokenizer();
        try (SieveTokenizer tok = loaded(wl)) {
            TrainSettings s = TrainSettings.sieveTiny();
            ShapesTrainData off = data(s.withPointSeg(false), tok, wl);
            ShapesTrainData on = data(s.withPointSeg(true), tok, wl);
            long segId = wl.id(WordLevelTokenizer.SEG);
            int pointed = 0;
            for (int i = 0; i < 40; i++) {
                SegExample ex = ShapesBench.seg(1000, i);
                assertNull(off.convert(ex).pointing(), "no targets without --point-seg");
                TrainExample e = on.convert(ex);
                long[] a = e.answerIds();
                int k = 1;
                while (a[k - 1] != segId) {
                    k++;
                }
                // independent of the cell owners: the ground-truth mask covers every pointed cell
                float[] cover = ShapesTrainData.coverage(ex.mask(), ShapesBench.IMAGE_SIZE, s.grid());
                for (int j = 0; j < a.length; j++) {
                    if (j != k) {
                        assertNull(e.pointing()[j], "only the position of [SEG] has a target");
                    } else if (e.pointing()[j] != null) {
                        pointed++;
                        for (int cell : e.pointing()[j]) {
                            assertTrue(cover[cell] > 0, ex.expression() + ": cell " + cell + " outside the mask");
                        }
                        // and the cells the mask mostly covers, unless another object is drawn over them
                        int[] owner = PatchLabels.objects(ex.scene(), s.grid());
                        for (int c = 0; c < cover.length; c++) {
                            if (cover[c] > 0.5 && owner[c] == ex.targetId()) {
                                int cell = c;
                                assertTrue(java.util.Arrays.stream(e.pointing()[j]).anyMatch(x -> x == cell), ex.expression());
                            }
                        }
                    }
                }
            }
            assertTrue(pointed > 30, "most referred objects own cells: " + pointed);
        }
    }

    @Test
    void aReasoningSentencePointsHalfOfTheHeadsAtTheObjectItNamesOnlyWhenAskedTo() throws Exception {
        WordLevelTokenizer wl = Trainer.tokenizer();
        try (SieveTokenizer tok = loaded(wl)) {
            TrainSettings s = TrainSettings.sieveTiny().withPointSeg(true);
            ShapesTrainData plain = data(s.withPointSegAnchor(false), tok, wl);
            ShapesTrainData anchored = data(s.withPointSegAnchor(true), tok, wl);
            int split = 0;
            for (int i = 0; i < 80; i++) {
                SegExample ex = ShapesBench.seg(1000, i);
                TrainExample without = plain.convert(ex);
                TrainExample with = anchored.convert(ex);
                assertNull(without.pointingSecond(), "no second targets without --point-seg-anchor");
                // the first half of the heads keeps the target either way
                assertEquals(java.util.Arrays.deepToString(without.pointing()), java.util.Arrays.deepToString(with.pointing()),
                        ex.expression());
                if (ex.anchorId() < 0) {
                    assertNull(with.pointingSecond(), ex.expression() + " names no other object");
                    continue;
                }
                if (with.pointingSecond() == null) {
                    continue; // target or anchor owns no cell
                }
                split++;
                // independent of the cell owners: the anchor's pixels cover every cell of the second targets
                boolean[] anchorMask = new boolean[ex.scene().idMap().length];
                for (int p = 0; p < anchorMask.length; p++) {
                    anchorMask[p] = ex.scene().idMap()[p] == ex.anchorId();
                }
                float[] cover = ShapesTrainData.coverage(anchorMask, ShapesBench.IMAGE_SIZE, s.grid());
                for (int k = 0; k < with.pointing().length; k++) {
                    assertEquals(with.pointing()[k] == null, with.pointingSecond()[k] == null, "same positions");
                    if (with.pointingSecond()[k] != null) {
                        for (int cell : with.pointingSecond()[k]) {
                            assertTrue(cover[cell] > 0, ex.expression() + ": cell " + cell + " outside the anchor");
                        }
                    }
                }
            }
            assertTrue(split >= 15, "sentences with an anchor point at it: " + split);
        }
    }

    @Test
    void threeDAnswersPointAtTheirObjectsInEveryView() throws Exception {
        WordLevelTokenizer wl = Trainer.tokenizer();
        try (SieveTokenizer tok = loaded(wl)) {
            TrainSettings s = TrainSettings.sieveTiny();
            ShapesTrainData off = data(s, tok, wl);
            ShapesTrainData on = data(s.withPoint3d(true), tok, wl);
            int per = s.grid() * s.grid();
            int cell = ShapesBench.IMAGE_SIZE / s.grid();
            int pointed = 0;
            for (int i = 0; i < 12; i++) {
                Scene3dExample ex = ShapesBench.scene3d(1000, i, s.views());
                assertNull(off.convert(ex).pointing(), "no targets without --point-3d");
                TrainExample e = on.convert(ex);
                for (int j = 1; j < e.pointing().length; j++) {
                    assertNull(e.pointing()[j], "only the first answer token has a target");
                }
                int[] t = e.pointing()[0];
                if (t == null) {
                    continue;
                }
                pointed++;
                for (int slot : t) {
                    assertTrue(slot >= 0 && slot < s.views() * per, "slot " + slot);
                    PosedView v = ex.views().get(slot / per);
                    int r = (slot % per) / s.grid();
                    int c = (slot % per) % s.grid();
                    // independent of the renderer's ids: the cell's depth lands inside one of the answer's objects
                    int inside = 0;
                    for (int y = r * cell; y < (r + 1) * cell; y++) {
                        for (int x = c * cell; x < (c + 1) * cell; x++) {
                            int mm = v.depthMm()[y * ShapesBench.IMAGE_SIZE + x];
                            double[] w = mm > 0 ? PatchXyz.backProject(x, y, mm, v.camera().intrinsic(), v.camera().pose()) : null;
                            if (w != null && ex.objectIds().stream().anyMatch(id -> within(ex.scene().object(id), w))) {
                                inside++;
                            }
                        }
                    }
                    assertTrue(inside >= 0.15 * cell * cell, ex.question() + ": slot " + slot + " has " + inside + " pixels on its objects");
                }
            }
            assertTrue(pointed >= 8, "most 3D questions have objects in view: " + pointed);
        }
    }

    /** Whether a world point lies in (or on) the object's bounding cylinder, with 2 cm of tolerance. */
    static boolean within(Object3d o, double[] p) {
        double tol = 0.02;
        double r = Math.hypot(p[0] - o.x(), p[1] - o.y());
        return r <= o.radius() * Math.sqrt(2) + tol && p[2] >= o.z0() - tol && p[2] <= o.top() + tol;
    }

    /** The training tokenizer, saved as tokenizer.json and loaded back as training loads it. */
    static SieveTokenizer loaded(WordLevelTokenizer wl) throws Exception {
        Path dir = Files.createTempDirectory("tok");
        try {
            wl.save(dir);
            return SieveTokenizer.load(dir);
        } finally {
            io.tokensieve.core.util.FileTrees.delete(dir);
        }
    }

    static ShapesTrainData data(TrainSettings s, SieveTokenizer tok, WordLevelTokenizer wl) {
        return new ShapesTrainData(s, tok, new ClipImageProcessor(PreprocessorConfig.clip(s.imageSize())),
                PromptTemplate.LLAVA15, wl.id(WordLevelTokenizer.EOS));
    }
}
