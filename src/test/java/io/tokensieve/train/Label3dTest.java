package io.tokensieve.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.model.LlavaForConditionalGeneration;
import io.tokensieve.core.text.SieveTokenizer;
import io.tokensieve.core.text.WordLevelTokenizer;
import io.tokensieve.core.train.AuxPatchHead;
import io.tokensieve.core.train.TrainExample;
import io.tokensieve.core.train.TrainingForward;
import io.tokensieve.core.weights.ModelWeights;
import io.tokensieve.datasets.shapes.Object3d;
import io.tokensieve.datasets.shapes.PatchLabels;
import io.tokensieve.datasets.shapes.PatchXyz;
import io.tokensieve.datasets.shapes.PosedView;
import io.tokensieve.datasets.shapes.Scene3dExample;
import io.tokensieve.datasets.shapes.ShapesBench;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link TrainSettings#label3d}: patch labels for the views of 3D examples, and the head kind they train. */
class Label3dTest {

    @Test
    void eachViewIsLabelledWithTheColourAndShapeOfTheObjectItShows() throws Exception {
        WordLevelTokenizer wl = Trainer.tokenizer();
        try (SieveTokenizer tok = PointingTest.loaded(wl)) {
            TrainSettings s = TrainSettings.sieveTiny();
            ShapesTrainData off = PointingTest.data(s.withLabel3d(false), tok, wl);
            ShapesTrainData on = PointingTest.data(s.withLabel3d(true), tok, wl);
            int per = s.grid() * s.grid();
            int cell = ShapesBench.IMAGE_SIZE / s.grid();
            int labelled = 0;
            for (int i = 0; i < 8; i++) {
                Scene3dExample ex = ShapesBench.scene3d(1000, i, s.views());
                assertNull(off.convert(ex).patchLabels(), "no labels on 3D views without --label-3d");
                List<int[][]> views = on.convert(ex).patchLabels();
                assertEquals(s.views(), views.size());
                for (int v = 0; v < views.size(); v++) {
                    int[][] l = views.get(v);
                    assertEquals(Trainer.auxClasses(s.withLabel3d(true)).length, l.length);
                    PosedView view = ex.views().get(v);
                    for (int p = 0; p < per; p++) {
                        assertEquals(-1, l[1][p], "no 2D shape on a 3D view");
                        assertEquals(0, l[2][p], "no printed character on a 3D view");
                        assertEquals(l[0][p] == 0, l[3][p] == 0, "colour and 3D shape label the same cells");
                        if (l[0][p] == 0) {
                            continue;
                        }
                        labelled++;
                        // independent of the renderer's ids: enough of the cell's depth lands inside an object of the
                        // labelled colour and shape
                        int r = p / s.grid();
                        int c = p % s.grid();
                        int inside = 0;
                        for (int y = r * cell; y < (r + 1) * cell; y++) {
                            for (int x = c * cell; x < (c + 1) * cell; x++) {
                                int mm = view.depthMm()[y * ShapesBench.IMAGE_SIZE + x];
                                double[] w = mm > 0 ? PatchXyz.backProject(x, y, mm, view.camera().intrinsic(),
                                        view.camera().pose()) : null;
                                if (w != null && matches(ex, l[0][p], l[3][p], w)) {
                                    inside++;
                                }
                            }
                        }
                        assertTrue(inside >= 0.15 * cell * cell, ex.question() + ": view " + v + " cell " + p + " has "
                                + inside + " pixels on a " + PatchLabels.words()[0][l[0][p]] + " "
                                + PatchLabels.words3d()[l[3][p]]);
                    }
                }
                // 2D images of the same run: the 3D shape kind is left out
                int[][] flat = Trainer.patchLabels(ShapesBench.vqa(1000, i).scene(), s.withLabel3d(true));
                assertEquals(4, flat.length);
                for (int p = 0; p < per; p++) {
                    assertEquals(-1, flat[3][p]);
                }
            }
            assertTrue(labelled > 40, "objects own cells in most views: " + labelled);
        }
    }

    @Test
    void theThreeDShapeKindTrainsOnThreeDViewsAlone() throws Exception {
        TrainSettings s = TrainSettings.smoke(1).withLabel3d(true);
        WordLevelTokenizer wl = Trainer.tokenizer();
        LlavaConfig c = s.modelConfig(wl.size(), wl.id(WordLevelTokenizer.IMAGE), wl.id(WordLevelTokenizer.SEG),
                wl.id(WordLevelTokenizer.BOS), wl.id(WordLevelTokenizer.EOS), wl.id(WordLevelTokenizer.PAD));
        try (SieveTokenizer tok = PointingTest.loaded(wl); NDManager base = NDManager.newBaseManager()) {
            ShapesTrainData data = PointingTest.data(s, tok, wl);
            ModelWeights w = ModelWeights.random(c, 1, 0.02f, base);
            w.setTrainable(true);
            AuxPatchHead aux = Trainer.auxHead(s, base);
            assertEquals(4, aux.kinds());
            TrainingForward forward = Trainer.trainingForward(s, new LlavaForConditionalGeneration(c, w), aux, null, null, wl);
            List<TrainExample> threeD = List.of(data.convert(ShapesBench.scene3d(1000, 0, s.views())),
                    data.convert(ShapesBench.scene3d(1000, 1, s.views())));
            List<TrainExample> flat = List.of(data.convert(ShapesBench.vqa(1000, 0)));
            assertTrue(gradientNorm(forward, threeD, aux, base) > 0, "3D views train the 3D shape kind");
            assertEquals(0.0, gradientNorm(forward, flat, aux, base), "2D images leave it alone");
        }
    }

    /** Norm of the gradient of one batch's total loss on the 3D shape kind's weights. */
    private static double gradientNorm(TrainingForward forward, List<TrainExample> batch, AuxPatchHead aux, NDManager base) {
        NDArray weight = aux.weight(3);
        try (NDManager sub = base.newSubManager()) {
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(forward.forward(sub, batch).total());
            }
            double norm = weight.getGradient().square().sum().getFloat();
            weight.getGradient().subi(weight.getGradient()); // leave no gradient behind
            return Math.sqrt(norm);
        }
    }

    private static boolean matches(Scene3dExample ex, int colour, int shape3d, double[] w) {
        for (Object3d o : ex.scene().objects()) {
            if (o.colour().ordinal() + 1 == colour && o.shape().ordinal() + 1 == shape3d && PointingTest.within(o, w)) {
                return true;
            }
        }
        return false;
    }
}
