package io.tokensieve.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.model.ClipVisionModel;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The DJL runtime against the plain-Java reference, stage by stage, on a tiny random checkpoint. */
class ReferenceForwardTest {
    static final double TOL = 1e-4;

    @TempDir
    Path tmp;

    @Test
    void visionFeaturesProjectorAndLogitsMatchTheReference() {
        VlmModel m = TestModels.tiny();
        ReferenceLlava ref = new ReferenceLlava(TestModels.tinyCheckpoint());
        VisualInput a = m.image(TestModels.rgbPng(tmp, "a.png", 150, 120, 1));
        VisualInput b = m.image(TestModels.rgbPng(tmp, "b.png", 90, 130, 2));

        // vision features at the feature layer, CLS dropped
        double[][] refFeat = ref.features(a.pixels().chw());
        try (NDManager mgr = NDManager.newBaseManager()) {
            int s = m.config().vision().imageSize();
            NDArray px = mgr.create(a.pixels().chw(), new Shape(1, 3, s, s));
            List<NDArray> hs = m.model().visionTower().hiddenStates(px, m.config().resolvedFeatureLayers()[0]);
            NDArray feat = ClipVisionModel.select(hs, m.config().resolvedFeatureLayers()).get("0, 1:, :");
            assertClose(refFeat, feat.toFloatArray(), "vision features");
            // projector output
            NDArray proj = m.model().multiModalProjector().forward(feat);
            assertClose(ref.project(refFeat), proj.toFloatArray(), "projector output");
        }

        // logits of the first generated position, two images in one prompt
        long[] ids = m.promptIds("what color is the square ?", 2);
        GenerationResult r = m.generate(List.of(VlmRequest.of(ids, List.of(a, b), null)), GenerationConfig.greedy(1)).get(0);
        double[] refLogits = ref.lastLogits(ids, new float[][] {a.pixels().chw(), b.pixels().chw()});
        double[][] want = {refLogits};
        assertClose(want, r.firstTokenLogits(), "logits");
    }

    static void assertClose(double[][] want, float[] got, String what) {
        int n = 0;
        double maxErr = 0;
        for (double[] row : want) {
            for (double v : row) {
                maxErr = Math.max(maxErr, Math.abs(v - got[n]) / Math.max(1, Math.abs(v)));
                n++;
            }
        }
        assertEquals(n, got.length, what + ": element count");
        if (maxErr > TOL) {
            throw new AssertionError(what + ": max relative error " + maxErr + " > " + TOL);
        }
    }
}
