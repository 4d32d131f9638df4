package io.tokensieve.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.model.ClipVisionModel;
import io.tokensieve.core.model.LlavaForConditionalGeneration;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The extra training losses of {@link TrainingForward}: grounding against a plain-Java reference, prompt loss by identity. */
class TrainingForwardTest {
    private static float[] pixels(LlavaConfig c, long seed) {
        int s = c.vision().imageSize();
        float[] px = new float[3 * s * s];
        Random r = new Random(seed);
        for (int i = 0; i < px.length; i++) {
            px[i] = (float) r.nextGaussian();
        }
        return px;
    }

    @Test
    void groundingLossMatchesAPlainJavaReference() {
        VlmModel vm = TestModels.tiny();
        LlavaForConditionalGeneration model = vm.model();
        LlavaConfig c = vm.config();
        int per = c.vision().numPatches();
        long img = c.imageTokenIndex();
        // two label kinds; kind 0 labels every third patch with class 1 or 2, kind 1 labels patch 0 with class 1
        int[][] labels = new int[2][per];
        for (int p = 0; p < per; p += 3) {
            labels[0][p] = 1 + (p / 3) % 2;
        }
        labels[1][0] = 1;
        int[][] tokens = {{-1, 5, 6}, {-1, 7}};
        float[] px = pixels(c, 3);
        TrainExample e = new TrainExample(new long[] {1, img, 5}, new long[] {6, 2}, List.of(px), null, null, "vqa",
                List.<int[][]>of(labels));
        try (NDManager m = NDManager.newBaseManager()) {
            float got = new TrainingForward(model, 1f).withGrounding(tokens, 1f).forward(m, List.of(e)).ground().getFloat();

            // reference: projected tokens and embedding table as plain arrays, cosine logits, softmax cross-entropy
            int size = c.vision().imageSize();
            int[] fl = c.resolvedFeatureLayers();
            NDArray f = ClipVisionModel.select(model.visionTower().hiddenStates(m.create(px, new Shape(1, 3, size, size)),
                    Arrays.stream(fl).max().orElse(0)), fl).get(":, 1:, :");
            float[] vis = model.multiModalProjector().forward(f).toFloatArray(); // [N * D]
            float[] table = model.languageModel().embedTokens().toFloatArray(); // [V * D]
            int d = (int) c.text().hiddenSize();
            int vocab = table.length / d;
            double sum = 0;
            int n = 0;
            for (int kind = 0; kind < 2; kind++) {
                for (int p = 0; p < per; p++) {
                    int tok = tokens[kind][labels[kind][p]];
                    if (tok < 0) {
                        continue;
                    }
                    double[] logit = new double[vocab];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int v = 0; v < vocab; v++) {
                        double dot = 0;
                        double nv = 0;
                        double ne = 0;
                        for (int k = 0; k < d; k++) {
                            double a = vis[p * d + k];
                            double b = table[v * d + k];
                            dot += a * b;
                            nv += a * a;
                            ne += b * b;
                        }
                        logit[v] = TrainingForward.GROUND_SCALE * dot / Math.sqrt(nv) / Math.sqrt(ne);
                        max = Math.max(max, logit[v]);
                    }
                    double z = 0;
                    for (double x : logit) {
                        z += Math.exp(x - max);
                    }
                    sum += -(logit[tok] - max - Math.log(z));
                    n++;
                }
            }
            assertTrue(n > 2, "the example must label some patches");
            assertEquals(sum / n, got, 1e-3, "grounding loss");
        }
    }

    @Test
    void promptLossEqualsTheAnswerLossOfTheSameTokens() {
        VlmModel vm = TestModels.tiny();
        LlavaForConditionalGeneration model = vm.model();
        long img = vm.config().imageTokenIndex();
        float[] px = pixels(vm.config(), 4);
        // prompt [bos, <image>, 5, 6, 7] with answer [8]: the prompt loss covers 5, 6, 7 (predicted from the last
        // visual token, then text); so does the answer loss of prompt [bos, <image>] with answer [5, 6, 7]
        TrainExample withPrompt = new TrainExample(new long[] {1, img, 5, 6, 7}, new long[] {8}, List.of(px), null, null,
                "vqa", null);
        TrainExample asAnswer = new TrainExample(new long[] {1, img}, new long[] {5, 6, 7}, List.of(px), null, null, "vqa",
                null);
        try (NDManager m = NDManager.newBaseManager()) {
            TrainingForward.Losses l = new TrainingForward(model, 1f).withPromptLoss(0.5f).forward(m, List.of(withPrompt));
            float reference = new TrainingForward(model, 1f).forward(m, List.of(asAnswer)).lm().getFloat();
            assertEquals(reference, l.prompt().getFloat(), 1e-4, "prompt loss");
            assertEquals(l.lm().getFloat() + 0.5f * l.prompt().getFloat(), l.total().getFloat(), 1e-4, "total = lm + w * prompt");
            TrainingForward.Losses none = new TrainingForward(model, 1f).forward(m, List.of(withPrompt));
            assertEquals(0f, none.prompt().getFloat(), "no prompt loss unless asked for");
            assertEquals(none.lm().getFloat(), none.total().getFloat(), 1e-6);
        }
    }
}
