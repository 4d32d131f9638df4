package io.tokensieve.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.model.ClipVisionModel;
import io.tokensieve.core.model.LlamaDecoderLayer;
import io.tokensieve.core.model.LlamaRotaryEmbedding;
import io.tokensieve.core.model.LlavaForConditionalGeneration;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The extra training losses of {@link TrainingForward}: grounding and pointing against plain-Java references over the
 * inference-path tensors, prompt loss by identity.
 */
class TrainingForwardTest {
    private final VlmModel vm = TestModels.tiny();
    private final LlavaForConditionalGeneration model = vm.model();
    private final LlavaConfig c = vm.config();
    private final long img = c.imageTokenIndex();

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
        int per = c.vision().numPatches();
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

    @Test
    void pointingLossMatchesTheAttentionOfTheInferenceLayers() {
        int layersTotal = c.text().numHiddenLayers();
        int[] layers = layersTotal > 1 ? new int[] {0, layersTotal - 1} : new int[] {0};
        int heads = Math.max(1, c.text().numAttentionHeads() / 2);
        // two examples of different lengths (padding), image at different offsets; targets on some answer tokens
        List<TrainExample> batch = List.of(
                new TrainExample(new long[] {1, img, 5}, new long[] {6, 2}, List.of(pixels(c, 5)), null, null, "vqa", null,
                        new int[][] {{0, 2, 5}, null}),
                new TrainExample(new long[] {1, 5, img, 6, 7}, new long[] {8, 9, 2}, List.of(pixels(c, 6)), null, null,
                        "vqa", null, new int[][] {{1}, {3, 4}, null}));
        try (NDManager m = NDManager.newBaseManager()) {
            TrainingForward.Losses l = new TrainingForward(model, 1f).withPointing(0.5f, layers, heads).forward(m, batch);
            double[] ref = referencePointing(m, model, c, batch, layers, heads);
            double sum = ref[0];
            int n = (int) ref[1];
            assertEquals(3 * layers.length * heads, n);
            assertEquals(sum / n, l.point().getFloat(), 1e-4, "pointing loss");
            assertEquals(l.lm().getFloat() + 0.5f * l.point().getFloat(), l.total().getFloat(), 1e-4, "total = lm + w * point");
            assertEquals(0f, new TrainingForward(model, 1f).forward(m, batch).point().getFloat(), "no pointing unless asked for");
        }
    }

    @Test
    void pointingGroupsShareTheFirstAnswerPositionEvenlyAndLeaveTheProbeAlone() {
        int layersTotal = c.text().numHiddenLayers();
        int[] layers = layersTotal > 1 ? new int[] {0, layersTotal - 1} : new int[] {0};
        int heads = Math.max(1, c.text().numAttentionHeads() / 2);
        int[][] groups = {{0, 2}, {5}, {TrainExample.FIRST_TOKEN}};
        TrainExample grouped = new TrainExample(new long[] {1, img, 5}, new long[] {6, 2}, List.of(pixels(c, 5)), null,
                null, "vqa", null, new int[][] {{0, 2, 5}, null}, null, null, groups);
        TrainExample plain = new TrainExample(new long[] {1, img, 5}, new long[] {6, 2}, List.of(pixels(c, 5)), null,
                null, "vqa", null, new int[][] {{0, 2, 5}, null});
        TrainExample other = new TrainExample(new long[] {1, 5, img, 6, 7}, new long[] {8, 9, 2}, List.of(pixels(c, 6)),
                null, null, "vqa", null, new int[][] {{1}, {3, 4}, null});
        try (NDManager m = NDManager.newBaseManager()) {
            // reference: per layer, the grouped position's mean over groups and heads of -log(group mass), one term
            // among the batch's pointing positions (the other example's two)
            List<float[]> probs = new ArrayList<>();
            int t = layerProbs(m, model, c, grouped, layers, probs);
            int q = grouped.promptIds().length - 1 + c.vision().numPatches() - 1; // predicts answer token 0
            double[] groupTerm = new double[layers.length];
            for (int li = 0; li < layers.length; li++) {
                for (int[] g : groups) {
                    for (int h = 0; h < heads; h++) {
                        double mass = 0;
                        for (int v : g) {
                            mass += probs.get(li)[(h * t + q) * t + (v == TrainExample.FIRST_TOKEN ? 0 : 1 + v)];
                        }
                        groupTerm[li] += -Math.log(mass + 1e-6) / heads / groups.length;
                    }
                }
            }
            double[] ref = referencePointing(m, model, c, List.of(other), layers, heads); // sum over layers, heads, rows
            double want = 0;
            for (double g : groupTerm) {
                want += (g + ref[0] / heads / layers.length) / 3;
            }
            want /= layers.length;
            float got = new TrainingForward(model, 1f).withPointing(1f, layers, heads).forward(m, List.of(grouped, other))
                    .point().getFloat();
            assertEquals(want, got, 1e-4, "grouped position as one term, its groups weighed alike");
            float alone = new TrainingForward(model, 1f).withPointing(1f, layers, heads).forward(m, List.of(grouped))
                    .point().getFloat();
            assertEquals(Arrays.stream(groupTerm).average().orElseThrow(), alone, 1e-4, "the grouped position alone");
            float unGrouped = new TrainingForward(model, 1f).withPointing(1f, layers, heads).forward(m, List.of(plain))
                    .point().getFloat();
            assertNotEquals(unGrouped, alone, 1e-4, "the groups replace the plain target");
            float[][][] withGroups = new TrainingForward(model, 1f).pointingMass(m, List.of(grouped));
            float[][][] without = new TrainingForward(model, 1f).pointingMass(m, List.of(plain));
            for (int li = 0; li < withGroups[0].length; li++) {
                assertArrayEquals(without[0][li], withGroups[0][li], 1e-6f, "the probe reads the plain target");
            }
        }
    }

    @Test
    void secondTargetsAreScoredOnTheSecondHalfOfThePointedHeads() {
        int[] layers = {0};
        int heads = c.text().numAttentionHeads();
        assertTrue(heads >= 2, "the tiny model has heads to split");
        int[][] first = {{0, 2}, null};
        int[][] second = {{5, 6, 7}, null};
        List<TrainExample> split = List.of(new TrainExample(new long[] {1, img, 5}, new long[] {6, 2},
                List.of(pixels(c, 5)), null, null, "vqa", null, first, second));
        List<TrainExample> shared = List.of(new TrainExample(new long[] {1, img, 5}, new long[] {6, 2},
                List.of(pixels(c, 5)), null, null, "vqa", null, first));
        try (NDManager m = NDManager.newBaseManager()) {
            float got = new TrainingForward(model, 1f).withPointing(1f, layers, heads).forward(m, split).point().getFloat();
            double[] ref = referencePointing(m, model, c, split, layers, heads);
            assertEquals(layers.length * heads, (int) ref[1]);
            assertEquals(ref[0] / ref[1], got, 1e-4, "second half of the heads scored on the second targets");
            float sharedLoss = new TrainingForward(model, 1f).withPointing(1f, layers, heads).forward(m, shared).point()
                    .getFloat();
            assertNotEquals(sharedLoss, got, 1e-4, "the second targets change the loss");
            // the probe reports the mass on both things together, for every head
            float[][][] mass = new TrainingForward(model, 1f).pointingMass(m, split);
            List<float[]> probs = new ArrayList<>();
            int t = layerProbs(m, model, c, split.get(0), new int[] {0}, probs);
            int q = split.get(0).promptIds().length - 1 + c.vision().numPatches() - 1;
            int visStart = 1;
            for (int h = 0; h < heads; h++) {
                double want = 0;
                for (int v : new int[] {0, 2, 5, 6, 7}) {
                    want += probs.get(0)[(h * t + q) * t + visStart + v];
                }
                assertEquals(want, mass[0][0][h], 1e-4, "probe mass of head " + h);
            }
        }
    }

    @Test
    void unpointedSecondTargetsAreScoredOnTheHeadsAfterThePointedOnesForTheirTrackOnly() {
        int[] layers = {0};
        int heads = c.text().numAttentionHeads() / 2;
        assertTrue(heads >= 1, "the tiny model has heads after the pointed ones");
        int[][] first = {{0, 2}, null};
        int[][] second = {{5, 6, 7}, null};
        TrainExample seg = new TrainExample(new long[] {1, img, 5}, new long[] {6, 2}, List.of(pixels(c, 5)), null, null,
                "seg", null, first, second);
        TrainExample vqa = new TrainExample(new long[] {1, img, 5}, new long[] {6, 2}, List.of(pixels(c, 5)), null, null,
                "vqa", null, first, second);
        try (NDManager m = NDManager.newBaseManager()) {
            List<float[]> probs = new ArrayList<>();
            int t = layerProbs(m, model, c, seg, layers, probs);
            int q = seg.promptIds().length - 1 + c.vision().numPatches() - 1; // the position predicting answer token 0
            double pointed = 0;
            double other = 0;
            for (int h = 0; h < 2 * heads; h++) {
                double mass = 0;
                for (int v : h < heads ? first[0] : second[0]) {
                    mass += probs.get(0)[(h * t + q) * t + 1 + v];
                }
                if (h < heads) {
                    pointed += -Math.log(mass + 1e-6) / heads;
                } else {
                    other += -Math.log(mass + 1e-6) / heads;
                }
            }
            float got = new TrainingForward(model, 1f).withPointing(1f, layers, heads).withUnpointedSecondTargets("seg")
                    .forward(m, List.of(seg)).point().getFloat();
            assertEquals(pointed + other, got, 1e-4, "every pointed head on the first targets, the next ones on the second");
            // another track keeps the split of the pointed heads
            float split = new TrainingForward(model, 1f).withPointing(1f, layers, heads).withUnpointedSecondTargets("seg")
                    .forward(m, List.of(vqa)).point().getFloat();
            double[] ref = referencePointing(m, model, c, List.of(vqa), layers, heads);
            assertEquals(ref[0] / ref[1], split, 1e-4, "a vqa example splits the pointed heads as before");
            // both in one batch: each row weighs alike, the seg row's unpointed term added to its own
            float both = new TrainingForward(model, 1f).withPointing(1f, layers, heads).withUnpointedSecondTargets("seg")
                    .forward(m, List.of(seg, vqa)).point().getFloat();
            assertEquals((pointed + other + ref[0] / ref[1]) / 2, both, 1e-4, "rows weighed alike");
        }
    }

    /**
     * Plain-Java pointing loss of a batch: each example alone, assembled as inference does, -log of the summed
     * probabilities per pointed head; heads from {@link TrainingForward#secondFrom} on use the second targets where an
     * answer token has them. Returns {sum, count}.
     */
    @Test
    void aQuestionsPointingPositionsWeighAsManyCaptionPositionsAsAsked() {
        int layersTotal = c.text().numHiddenLayers();
        int[] layers = layersTotal > 1 ? new int[] {0, layersTotal - 1} : new int[] {0};
        int heads = Math.max(1, c.text().numAttentionHeads() / 2);
        TrainExample caption = new TrainExample(new long[] {1, img, 5}, new long[] {6, 7, 2}, List.of(pixels(c, 5)), null,
                null, TrainingForward.CAPTION_TRACK, null, new int[][] {{0, 2, 5}, {1}, null});
        TrainExample question = new TrainExample(new long[] {1, 5, img, 6, 7}, new long[] {8, 9, 2}, List.of(pixels(c, 6)),
                null, null, "vqa", null, new int[][] {{3, 4}, null, null});
        List<TrainExample> batch = List.of(caption, question);
        try (NDManager m = NDManager.newBaseManager()) {
            double[] cap = referencePointing(m, model, c, List.of(caption), layers, heads);
            double[] que = referencePointing(m, model, c, List.of(question), layers, heads);
            int perRow = layers.length * heads;
            assertEquals(2 * perRow, (int) cap[1]);
            assertEquals(perRow, (int) que[1]);
            for (float w : new float[] {1f, 4f, 0.5f}) {
                float got = new TrainingForward(model, 1f).withPointing(1f, layers, heads).withQuestionPointWeight(w)
                        .forward(m, batch).point().getFloat();
                double want = (cap[0] + w * que[0]) / perRow / (2 + w);
                assertEquals(want, got, 1e-4, "question rows at weight " + w);
            }
            float plain = new TrainingForward(model, 1f).withPointing(1f, layers, heads).forward(m, batch).point().getFloat();
            assertEquals((cap[0] + que[0]) / (3 * perRow), plain, 1e-4, "by default every position alike");
            for (float bad : new float[] {0f, -1f, Float.NaN, Float.POSITIVE_INFINITY}) {
                assertTrue(assertThrowsMessage(() -> new TrainingForward(model, 1f).withQuestionPointWeight(bad))
                        .contains("pointing weight must be finite and above 0"));
            }
        }
    }

    private static double[] referencePointing(NDManager m, LlavaForConditionalGeneration model, LlavaConfig c,
                                              List<TrainExample> batch, int[] layers, int heads) {
        long img = c.imageTokenIndex();
        double sum = 0;
        int n = 0;
        for (TrainExample e : batch) {
            List<float[]> probs = new ArrayList<>(); // per layer, [H * T * T]
            int t = layerProbs(m, model, c, e, layers, probs);
            int visStart = Arrays.stream(e.promptIds()).boxed().toList().indexOf(img);
            int promptSlots = e.promptIds().length - 1 + c.vision().numPatches();
            for (int k = 0; k < e.answerIds().length; k++) {
                if (e.pointing()[k] == null) {
                    continue;
                }
                int q = promptSlots - 1 + k; // the position predicting answer token k
                for (float[] p : probs) {
                    for (int head = 0; head < heads; head++) {
                        int[] target = e.pointingSecond() != null && e.pointingSecond()[k] != null
                                && head >= TrainingForward.secondFrom(heads) ? e.pointingSecond()[k] : e.pointing()[k];
                        double mass = 0;
                        for (int v : target) {
                            mass += p[(head * t + q) * t + visStart + v];
                        }
                        sum += -Math.log(mass + 1e-6);
                        n++;
                    }
                }
            }
        }
        return new double[] {sum, n};
    }

    @Test
    void pointingMassIsTheAttentionOfEveryLayerAndHeadOnTheFirstTargetIncludingTheFirstToken() {
        int layersTotal = c.text().numHiddenLayers();
        int[] all = java.util.stream.IntStream.range(0, layersTotal).toArray();
        int h = c.text().numAttentionHeads();
        // the first example's first target is on its second answer token; the third example has none
        List<TrainExample> batch = List.of(
                new TrainExample(new long[] {1, img, 5}, new long[] {6, 7, 2}, List.of(pixels(c, 5)), null, null, "vqa", null,
                        new int[][] {null, {0, 2, 5}, {1}}),
                new TrainExample(new long[] {1, 5, img, 6, 7}, new long[] {8, 2}, List.of(pixels(c, 6)), null, null,
                        "vqa", null, new int[][] {{1, 3}, null}),
                new TrainExample(new long[] {1, img, 6}, new long[] {9, 2}, List.of(pixels(c, 7)), null, null, "vqa", null, null),
                new TrainExample(new long[] {1, 5, img, 6}, new long[] {9, 2}, List.of(pixels(c, 8)), null, null, "vqa", null,
                        new int[][] {{TrainExample.FIRST_TOKEN}, null}),
                // two images (as 3D views): targets numbered across them, image * patches + patch
                new TrainExample(new long[] {1, img, 5, img, 6}, new long[] {9, 2}, List.of(pixels(c, 9), pixels(c, 10)),
                        null, null, "3d", null, new int[][] {{1, c.vision().numPatches() + 2}, null}));
        try (NDManager m = NDManager.newBaseManager()) {
            float[][][] got = new TrainingForward(model, 1f).pointingMass(m, batch);
            assertEquals(5, got.length);
            assertEquals(null, got[2], "no targets, no row");
            for (int i : new int[] {0, 1, 3, 4}) {
                TrainExample e = batch.get(i);
                List<float[]> probs = new ArrayList<>();
                int t = layerProbs(m, model, c, e, all, probs);
                int[] visual = visualSlots(e, img, c.vision().numPatches());
                int promptSlots = e.promptIds().length + e.images().size() * (c.vision().numPatches() - 1);
                int k = e.pointing()[0] != null ? 0 : 1;
                int q = promptSlots - 1 + k;
                assertEquals(layersTotal, got[i].length);
                for (int l = 0; l < layersTotal; l++) {
                    assertEquals(h, got[i][l].length);
                    for (int head = 0; head < h; head++) {
                        double mass = 0;
                        for (int v : e.pointing()[k]) {
                            mass += probs.get(l)[(head * t + q) * t + (v == TrainExample.FIRST_TOKEN ? 0 : visual[v])];
                        }
                        assertEquals(mass, got[i][l][head], 1e-5, "example " + i + " layer " + l + " head " + head);
                    }
                }
            }
        }
    }

    @Test
    void lengthGroupsChangeNoLossAttentionMassOrHiddenStateOnlyThePadding() {
        int per = c.vision().numPatches();
        int d = (int) c.text().hiddenSize();
        // three short one-image examples and one long two-image example with a long prompt: grouping splits them
        long[] longPrompt = new long[300];
        Arrays.fill(longPrompt, 7);
        longPrompt[0] = 1;
        longPrompt[1] = img;
        longPrompt[150] = img;
        int[][] labels = new int[2][per];
        for (int p = 0; p < per; p += 2) {
            labels[0][p] = 1 + (p / 2) % 2;
        }
        List<TrainExample> batch = List.of(
                new TrainExample(new long[] {1, img, 5}, new long[] {6, 2}, List.of(pixels(c, 5)), null, null, "vqa",
                        List.<int[][]>of(labels), new int[][] {{0, 2}, null}, null, new int[] {2, 4}),
                new TrainExample(longPrompt, new long[] {8, 9, 2}, List.of(pixels(c, 6), pixels(c, 7)), null, null, "3d",
                        null, new int[][] {{1, per + 2}, {3}, null}, new int[][] {{per + 1}, null, null}, new int[] {1, 1}),
                new TrainExample(new long[] {1, 5, img, 6, 7}, new long[] {8, 2}, List.of(pixels(c, 8)), null, null, "vqa",
                        null, new int[][] {{TrainExample.FIRST_TOKEN}, null}, null, new int[] {0, 3}),
                new TrainExample(new long[] {1, img, 6}, new long[] {9, 2}, List.of(pixels(c, 9)), null, null, "vqa",
                        List.<int[][]>of(labels)));
        int[] lens = batch.stream().mapToInt(e -> e.promptIds().length + e.answerIds().length
                + e.images().size() * (per - 1)).toArray();
        RowLayout grouped = RowLayout.grouped(lens);
        assertTrue(grouped.groups() > 1, "the batch is split: " + grouped.groups() + " group(s)");
        assertTrue(grouped.rows() < RowLayout.single(lens).rows(), "and pads less");
        int layers = c.text().numHiddenLayers();
        int[] pointed = java.util.stream.IntStream.range(0, layers).toArray();
        int heads = Math.max(2, c.text().numAttentionHeads() / 2);
        int[][] tokens = {{-1, 5, 6}};
        try (NDManager m = NDManager.newBaseManager()) {
            AuxPatchHead head = new AuxPatchHead(m, "readout", d, new int[] {3, 5}, 11);
            int[] lookupKinds = new int[2 * layers];
            Arrays.fill(lookupKinds, 3);
            AuxPatchHead queries = new AuxPatchHead(m, "lookup", c.text().headDim(), lookupKinds, 12);
            TrainingForward.Losses[] l = new TrainingForward.Losses[2];
            float[][][][] mass = new float[2][][][];
            float[][][][] hidden = new float[2][][][];
            for (int k = 0; k < 2; k++) {
                TrainingForward f = new TrainingForward(model, 1f).withLengthGroups(k == 0).withGrounding(tokens, 0.5f)
                        .withPromptLoss(0.5f).withPointing(1f, pointed, heads).withReadout(head, 1, 0.5f)
                        .withKeyLookup(queries, 0.5f).withValuePosition(0.5f);
                l[k] = f.forward(m, batch);
                mass[k] = f.pointingMass(m, batch);
                hidden[k] = f.answerHidden(m, batch);
            }
            String[] names = {"total", "lm", "prompt", "ground", "point", "readout", "lookup", "value"};
            TrainingForward.Losses g = l[0];
            TrainingForward.Losses u = l[1];
            NDArray[][] pairs = {{g.total(), u.total()}, {g.lm(), u.lm()}, {g.prompt(), u.prompt()},
                    {g.ground(), u.ground()}, {g.point(), u.point()}, {g.readout(), u.readout()}, {g.lookup(), u.lookup()},
                    {g.value(), u.value()}};
            for (int k = 0; k < pairs.length; k++) {
                assertTrue(pairs[k][1].getFloat() != 0f, names[k] + " is exercised");
                assertEquals(pairs[k][1].getFloat(), pairs[k][0].getFloat(), 1e-5, names[k] + " loss");
            }
            assertEquals(u.answerTokens(), g.answerTokens());
            for (int i = 0; i < batch.size(); i++) {
                assertEquals(mass[1][i] == null, mass[0][i] == null, "example " + i + " pointed");
                for (int li = 0; mass[1][i] != null && li < layers; li++) {
                    for (int h = 0; h < mass[1][i][li].length; h++) {
                        assertEquals(mass[1][i][li][h], mass[0][i][li][h], 1e-5, "mass " + i + "/" + li + "/" + h);
                    }
                }
                for (int stage = 0; stage <= layers; stage++) {
                    for (int k = 0; k < d; k++) {
                        assertEquals(hidden[1][i][stage][k], hidden[0][i][stage][k], 1e-4,
                                "hidden " + i + " stage " + stage + " [" + k + "]");
                    }
                }
            }
        }
    }

    @Test
    void keyLookupLossIsAPlainJavaSoftmaxOfRotatedQueriesOverTheInferenceLayersKeys() {
        int layersTotal = c.text().numHiddenLayers();
        assertTrue(layersTotal >= 2, "the reference reads the states after the layer before");
        int[] layers = java.util.stream.IntStream.range(1, layersTotal).toArray();
        int heads = c.text().numAttentionHeads(); // every head pointed: every key-value head looked up
        int kv = c.text().numKeyValueHeads();
        int hd = c.text().headDim();
        int per = c.vision().numPatches();
        int[] classes = {4, 3};
        Random r = new Random(3);
        int[][][] labels = new int[2][2][per];
        for (int[][] l : labels) {
            for (int kind = 0; kind < 2; kind++) {
                for (int p = 0; p < per; p++) {
                    l[kind][p] = r.nextInt(3) == 0 ? 0 : r.nextInt(classes[kind]); // some background, some classes absent
                }
            }
        }
        // two labelled examples at different offsets and lengths; one image without labels adds nothing
        List<TrainExample> batch = List.of(
                new TrainExample(new long[] {1, img, 5}, new long[] {6, 2}, List.of(pixels(c, 5)), null, null, "vqa",
                        List.<int[][]>of(labels[0])),
                new TrainExample(new long[] {1, 5, 7, img, 6, 7}, new long[] {8, 9, 2}, List.of(pixels(c, 6)), null, null,
                        "vqa", List.<int[][]>of(labels[1])),
                new TrainExample(new long[] {1, img, 7, 7}, new long[] {6, 2}, List.of(pixels(c, 7)), null, null, "vqa"));
        float[] invFreq = model.languageModel().rotary().inverseFrequencies();
        try (NDManager m = NDManager.newBaseManager()) {
            int[] kinds = new int[2 * layers.length];
            for (int p = 0; p < layers.length; p++) {
                kinds[2 * p] = classes[0];
                kinds[2 * p + 1] = classes[1];
            }
            AuxPatchHead queries = new AuxPatchHead(m, "lookup", hd, kinds, 13);
            // a larger scale than the head's initialisation, so the softmax is far from uniform
            queries.parameters().values().forEach(x -> x.muli(40));
            TrainingForward.Losses l = new TrainingForward(model, 1f).withPointing(1f, layers, heads)
                    .withKeyLookup(queries, 0.5f).forward(m, batch);
            double want = 0;
            for (int p = 0; p < layers.length; p++) {
                LlamaDecoderLayer layer = model.languageModel().layers().get(layers[p]);
                double sum = 0;
                int terms = 0;
                for (int i = 0; i < 2; i++) {
                    TrainExample e = batch.get(i);
                    NDArray x = layerInput(m, e, layers[p]); // [1, t, D]
                    int t = (int) x.getShape().get(1);
                    long[][] pos = new long[1][t];
                    for (int q = 0; q < t; q++) {
                        pos[0][q] = q;
                    }
                    float[] keys = layer.selfAttn().keys(layer.inputLayernorm().forward(x),
                            model.languageModel().rotary().forPositions(m, pos)).toFloatArray(); // [1, kv, t, hd]
                    int[] visual = visualSlots(e, img, per);
                    int answerPos = e.promptIds().length + per - 2; // predicts the first answer token
                    for (int kind = 0; kind < 2; kind++) {
                        float[] w = queries.weight(2 * p + kind).toFloatArray(); // [C, hd]
                        for (int cl = 1; cl < classes[kind]; cl++) {
                            int value = cl;
                            if (Arrays.stream(labels[i][kind]).noneMatch(v -> v == value)) {
                                continue;
                            }
                            double[] q = new double[hd];
                            int half = hd / 2;
                            for (int k = 0; k < half; k++) {
                                double a = answerPos * (double) invFreq[k];
                                double x1 = w[cl * hd + k];
                                double x2 = w[cl * hd + k + half];
                                q[k] = x1 * Math.cos(a) - x2 * Math.sin(a);
                                q[k + half] = x2 * Math.cos(a) + x1 * Math.sin(a);
                            }
                            for (int head = 0; head < kv; head++) {
                                double[] s = new double[per];
                                double max = Double.NEGATIVE_INFINITY;
                                for (int j = 0; j < per; j++) {
                                    int base = (head * t + visual[j]) * hd;
                                    for (int k = 0; k < hd; k++) {
                                        s[j] += q[k] * keys[base + k] / Math.sqrt(hd);
                                    }
                                    max = Math.max(max, s[j]);
                                }
                                double z = 0;
                                double mass = 0;
                                for (int j = 0; j < per; j++) {
                                    z += Math.exp(s[j] - max);
                                    mass += labels[i][kind][j] == cl ? Math.exp(s[j] - max) : 0;
                                }
                                sum += -Math.log(mass / z + 1e-6);
                                terms++;
                            }
                        }
                    }
                }
                want += sum / terms / layers.length;
            }
            assertEquals(want, l.lookup().getFloat(), 1e-4, "key-lookup loss");
            assertEquals(l.lm().getFloat() + l.point().getFloat() + 0.5f * l.lookup().getFloat(), l.total().getFloat(), 1e-4,
                    "total = lm + point + w * lookup");
            assertEquals(0f, new TrainingForward(model, 1f).withPointing(1f, layers, heads).forward(m, batch).lookup()
                    .getFloat(), "none unless asked for");
        }
    }

    @Test
    void valuePositionLossIsAPlainJavaSquaredErrorOfTheInferenceLayersValuesInThePointedKeyValueHeads() {
        int layersTotal = c.text().numHiddenLayers();
        assertTrue(layersTotal >= 2, "the reference reads the states after the layer before");
        int[] layers = java.util.stream.IntStream.range(1, layersTotal).toArray();
        int kv = c.text().numKeyValueHeads();
        assertTrue(kv >= 2, "a key-value head the pointed heads do not read shows it is left out");
        int heads = c.text().numAttentionHeads() / kv; // the first key-value head's query heads only
        int hd = c.text().headDim();
        int per = c.vision().numPatches();
        int grid = (int) Math.round(Math.sqrt(per));
        // two examples with an image at different offsets and lengths; one without an image adds nothing
        List<TrainExample> batch = List.of(
                new TrainExample(new long[] {1, img, 5}, new long[] {6, 2}, List.of(pixels(c, 5)), null, null, "vqa"),
                new TrainExample(new long[] {1, 5, 7, img, 6, 7}, new long[] {8, 9, 2}, List.of(pixels(c, 6)), null, null,
                        "vqa"),
                new TrainExample(new long[] {1, 7, 7}, new long[] {6, 2}, List.of(), null, null, "vqa"));
        try (NDManager m = NDManager.newBaseManager()) {
            TrainingForward.Losses l = new TrainingForward(model, 1f).withPointing(1f, layers, heads)
                    .withValuePosition(0.5f).forward(m, batch);
            double want = 0;
            for (int layerIndex : layers) {
                LlamaDecoderLayer layer = model.languageModel().layers().get(layerIndex);
                double sum = 0;
                int terms = 0;
                for (int i = 0; i < 2; i++) {
                    TrainExample e = batch.get(i);
                    NDArray x = layerInput(m, e, layerIndex); // [1, t, D]
                    int t = (int) x.getShape().get(1);
                    float[] v = layer.selfAttn().values(layer.inputLayernorm().forward(x)).toFloatArray(); // [1, kv, t, hd]
                    int[] visual = visualSlots(e, img, per);
                    for (int p = 0; p < per; p++) {
                        double[] cell = {2.0 * (p % grid) / (grid - 1) - 1, 2.0 * (p / grid) / (grid - 1) - 1};
                        for (int k = 0; k < 2; k++) {
                            double got = v[(0 * t + visual[p]) * hd + hd - 2 + k]; // key-value head 0
                            sum += (got - cell[k]) * (got - cell[k]);
                            terms++;
                        }
                    }
                }
                want += sum / terms / layers.length;
            }
            assertTrue(want > 0.01, "the reference is not trivially zero: " + want);
            assertEquals(want, l.value().getFloat(), 1e-4, "value-position loss");
            assertEquals(l.lm().getFloat() + l.point().getFloat() + 0.5f * l.value().getFloat(), l.total().getFloat(), 1e-4,
                    "total = lm + point + w * value");
            assertEquals(0f, new TrainingForward(model, 1f).withPointing(1f, layers, heads).forward(m, batch).value()
                    .getFloat(), "none unless asked for");
            IllegalStateException noPointing = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> new TrainingForward(model, 1f).withValuePosition(1f));
            assertTrue(noPointing.getMessage().contains("pointed layers"), noPointing.getMessage());
        }
    }

    @Test
    void aStepLeavesNothingInTheManagersOfTheParameters() {
        // an array joins the manager of its op's first operand: one that starts from a parameter would live as long as
        // the parameters and keep its step's autograd graph (with the key-lookup loss, a full-recipe run's resident memory
        // grew by about 22 MB per step until the process died)
        int hd = c.text().headDim();
        int d = (int) c.text().hiddenSize();
        int per = c.vision().numPatches();
        int[][] labels = new int[2][per];
        for (int p = 0; p < per; p++) {
            labels[0][p] = p % 4;
            labels[1][p] = p % 3;
        }
        List<TrainExample> batch = List.of(
                new TrainExample(new long[] {1, img, 5}, new long[] {6, 2}, List.of(pixels(c, 5)), null, null, "vqa",
                        List.<int[][]>of(labels), null, null, new int[] {2, 1}),
                new TrainExample(new long[] {1, 5, img, 6, 7}, new long[] {8, 9, 2}, List.of(pixels(c, 6)), null, null,
                        "vqa", List.<int[][]>of(labels), null, null, new int[] {1, 0}));
        NDManager weights = model.languageModel().embedTokens().getManager();
        try (NDManager heads = NDManager.newBaseManager()) {
            AuxPatchHead queries = new AuxPatchHead(heads, "lookup", hd, new int[] {4, 3}, 13);
            AuxPatchHead readout = new AuxPatchHead(heads, "readout", d, new int[] {3, 2}, 11);
            TrainingForward f = new TrainingForward(model, 1f).withPointing(1f, new int[] {1}, c.text().numAttentionHeads())
                    .withKeyLookup(queries, 0.5f).withReadout(readout, 1, 0.5f);
            int before = weights.getManagedArrays().size();
            int headsBefore = heads.getManagedArrays().size();
            for (int step = 0; step < 2; step++) {
                try (NDManager sub = heads.newSubManager()) {
                    TrainingForward.Losses l = f.forward(sub, batch);
                    assertTrue(l.lookup().getFloat() > 0 && l.readout().getFloat() > 0, "both losses ran");
                }
                assertEquals(before, weights.getManagedArrays().size(), "arrays left with the model's weights after step " + step);
                assertEquals(headsBefore, heads.getManagedArrays().size(), "arrays left with the heads after step " + step);
            }
        }
    }

    @Test
    void keyLookupReadsTheKeyHeadsOfThePointedHeadsAndRefusesQueriesThatDoNotFit() {
        assertEquals(1, TrainingForward.pointedKvHeads(4, 8, 2));
        assertEquals(2, TrainingForward.pointedKvHeads(5, 8, 2));
        assertEquals(1, TrainingForward.pointedKvHeads(1, 8, 2));
        assertEquals(8, TrainingForward.pointedKvHeads(8, 8, 8));
        int hd = c.text().headDim();
        try (NDManager m = NDManager.newBaseManager()) {
            AuxPatchHead two = new AuxPatchHead(m, "lookup", hd, new int[] {4, 3}, 1);
            assertTrue(assertThrowsMessage(() -> new TrainingForward(model, 1f).withKeyLookup(two, 1f))
                    .contains("withPointing first"));
            assertTrue(assertThrowsMessage(() -> new TrainingForward(model, 1f).withPointing(1f, new int[] {0, 1}, 1)
                    .withKeyLookup(two, 1f)).contains("need 4"));
            AuxPatchHead wide = new AuxPatchHead(m, "lookup", hd + 2, new int[] {4, 3}, 1);
            assertTrue(assertThrowsMessage(() -> new TrainingForward(model, 1f).withPointing(1f, new int[] {0}, 1)
                    .withKeyLookup(wide, 1f)).contains("wide"));
        }
    }

    private static String assertThrowsMessage(org.junit.jupiter.api.function.Executable call) {
        return org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class, call).getMessage();
    }

    @Test
    void readoutLossIsAPlainJavaCrossEntropyOfTheHiddenStateAfterTheFirstLayers() {
        int d = (int) c.text().hiddenSize();
        int layersRead = c.text().numHiddenLayers(); // the tiny model's last layer; 1 below
        int[] classes = {3, 5};
        // two examples with labels (one kind left out of the second), one without: padding and offsets differ
        List<TrainExample> batch = List.of(
                new TrainExample(new long[] {1, img, 5}, new long[] {6, 2}, List.of(pixels(c, 5)), null, null, "vqa", null,
                        null, null, new int[] {2, 4}),
                new TrainExample(new long[] {1, 5, img, 6, 7}, new long[] {8, 9, 2}, List.of(pixels(c, 6)), null, null,
                        "vqa", null, null, null, new int[] {-1, 1}),
                new TrainExample(new long[] {1, img, 7, 7}, new long[] {6, 2}, List.of(pixels(c, 7)), null, null, "vqa"));
        try (NDManager m = NDManager.newBaseManager()) {
            for (int layers : new int[] {1, layersRead}) {
                AuxPatchHead head = new AuxPatchHead(m, "readout", d, classes, 11);
                TrainingForward.Losses l = new TrainingForward(model, 1f).withReadout(head, layers, 0.5f).forward(m, batch);
                double[] want = new double[classes.length];
                int[] count = new int[classes.length];
                for (TrainExample e : batch.subList(0, 2)) {
                    List<float[]> hidden = new ArrayList<>();
                    int t = layerProbs(m, model, c, e, new int[0], new ArrayList<>(), hidden);
                    int q = e.promptIds().length - 1 + c.vision().numPatches() - 1; // predicts the first answer token
                    double[] x = new double[d];
                    double ms = 0;
                    for (int k = 0; k < d; k++) {
                        x[k] = hidden.get(layers - 1)[q * d + k];
                        ms += x[k] * x[k] / d;
                    }
                    assertEquals(t * d, hidden.get(layers - 1).length);
                    for (int kind = 0; kind < classes.length; kind++) {
                        int label = e.readout()[kind];
                        if (label < 0) {
                            continue;
                        }
                        float[] w = head.parameters().get("readout." + kind + ".weight").toFloatArray(); // [C, D]
                        float[] bias = head.parameters().get("readout." + kind + ".bias").toFloatArray();
                        double[] logit = new double[classes[kind]];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int cl = 0; cl < logit.length; cl++) {
                            logit[cl] = bias[cl];
                            for (int k = 0; k < d; k++) {
                                logit[cl] += w[cl * d + k] * x[k] / Math.sqrt(ms + 1e-6);
                            }
                            max = Math.max(max, logit[cl]);
                        }
                        double z = 0;
                        for (double v : logit) {
                            z += Math.exp(v - max);
                        }
                        want[kind] += -(logit[label] - max - Math.log(z));
                        count[kind]++;
                    }
                }
                assertEquals(want[0] / count[0] + want[1] / count[1], l.readout().getFloat(), 1e-4,
                        "read-out loss after " + layers + " layers");
                assertEquals(l.lm().getFloat() + 0.5f * l.readout().getFloat(), l.total().getFloat(), 1e-4,
                        "total = lm + w * readout");
            }
            assertEquals(0f, new TrainingForward(model, 1f).forward(m, batch).readout().getFloat(), "none unless asked for");
        }
    }

    @Test
    void answerHiddenIsTheInferencePathsStateAtTheAnswerPositionBeforeAndAfterEveryLayer() {
        int d = (int) c.text().hiddenSize();
        int layers = c.text().numHiddenLayers();
        List<TrainExample> batch = List.of(
                new TrainExample(new long[] {1, img, 5}, new long[] {6, 2}, List.of(pixels(c, 5)), null, null, "vqa"),
                new TrainExample(new long[] {1, 5, img, 6, 7}, new long[] {8, 9, 2}, List.of(pixels(c, 6)), null, null,
                        "vqa"));
        try (NDManager m = NDManager.newBaseManager()) {
            float[][][] got = new TrainingForward(model, 1f).answerHidden(m, batch);
            for (int i = 0; i < batch.size(); i++) {
                TrainExample e = batch.get(i);
                assertEquals(layers + 1, got[i].length, "the embedding and every layer");
                List<float[]> hidden = new ArrayList<>();
                layerProbs(m, model, c, e, new int[0], new ArrayList<>(), hidden);
                int q = e.promptIds().length - 1 + c.vision().numPatches() - 1;
                float[] embedded = model.languageModel().embed(m.create(new long[] {e.promptIds()[e.promptIds().length - 1]}))
                        .toFloatArray(); // the last prompt token is text in both examples
                for (int k = 0; k < d; k++) {
                    assertEquals(embedded[k], got[i][0][k], 1e-5, "embedding, example " + i);
                    for (int l = 1; l <= layers; l++) {
                        assertEquals(hidden.get(l - 1)[q * d + k], got[i][l][k], 1e-4, "after layer " + l + ", example " + i);
                    }
                }
            }
        }
    }

    @Test
    void visualHiddenIsTheInferencePathsStateAtTheFirstImagesSlotsBeforeAndAfterEveryLayer() {
        int d = (int) c.text().hiddenSize();
        int per = c.vision().numPatches();
        int size = c.vision().imageSize();
        int layers = c.text().numHiddenLayers();
        // the image at different offsets, a second image (left out), and an example without an image
        List<TrainExample> batch = List.of(
                new TrainExample(new long[] {1, img, 5}, new long[] {6, 2}, List.of(pixels(c, 5)), null, null, "vqa"),
                new TrainExample(new long[] {1, 5, 6, img, 7, img}, new long[] {8, 9, 2}, List.of(pixels(c, 6),
                        pixels(c, 7)), null, null, "3d"),
                new TrainExample(new long[] {1, 5, 6}, new long[] {8, 2}, List.of(), null, null, "vqa"));
        try (NDManager m = NDManager.newBaseManager()) {
            float[][][] got = new TrainingForward(model, 1f).visualHidden(m, batch);
            assertEquals(null, got[2], "no image, nothing kept");
            for (int i = 0; i < 2; i++) {
                TrainExample e = batch.get(i);
                assertEquals(layers + 1, got[i].length, "the projected tokens and every layer");
                List<float[]> hidden = new ArrayList<>();
                layerProbs(m, model, c, e, new int[0], new ArrayList<>(), hidden);
                int[] fl = c.resolvedFeatureLayers();
                float[] projected = model.multiModalProjector().forward(ClipVisionModel.select(model.visionTower()
                        .hiddenStates(m.create(e.images().get(0), new Shape(1, 3, size, size)),
                                Arrays.stream(fl).max().orElse(0)), fl).get(":, 1:, :")).toFloatArray(); // [N * D]
                int[] slots = visualSlots(e, img, per);
                assertEquals(per * d, got[i][0].length);
                for (int p = 0; p < per; p++) {
                    for (int k = 0; k < d; k++) {
                        assertEquals(projected[p * d + k], got[i][0][p * d + k], 1e-5, "token " + p + ", example " + i);
                        for (int l = 1; l <= layers; l++) {
                            assertEquals(hidden.get(l - 1)[slots[p] * d + k], got[i][l][p * d + k], 1e-4,
                                    "patch " + p + " after layer " + l + ", example " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void readoutRefusesLayerCountsTheModelDoesNotHaveAndLabelsOfAnotherWidth() {
        int layers = c.text().numHiddenLayers();
        try (NDManager m = NDManager.newBaseManager()) {
            AuxPatchHead head = new AuxPatchHead(m, "readout", (int) c.text().hiddenSize(), new int[] {3, 3}, 1);
            TrainingForward f = new TrainingForward(vm.model(), 1f);
            assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> f.withReadout(head, 0, 1f)).getMessage().contains("decoder layers"));
            assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> f.withReadout(head, layers + 1, 1f)).getMessage().contains("decoder layers"));
            TrainExample three = new TrainExample(new long[] {1, c.imageTokenIndex(), 5}, new long[] {6, 2},
                    List.of(pixels(c, 5)), null, null, "vqa", null, null, null, new int[] {0, 1, 2});
            assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> f.withReadout(head, 1, 1f).forward(m, List.of(three))).getMessage().contains("3 kinds"));
        }
    }

    @Test
    void pointingRefusesLayersAndHeadsTheModelDoesNotHave() {
        TrainingForward f = new TrainingForward(vm.model(), 1f);
        int layers = vm.config().text().numHiddenLayers();
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> f.withPointing(1f, new int[] {layers}, 1)).getMessage().contains("not a decoder layer"));
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> f.withPointing(1f, new int[] {0}, 0)).getMessage().contains("pointing heads"));
    }

    /** Sequence position of each visual token of an example, numbered across its images. */
    /** Example {@code e}'s input states to decoder layer {@code layer} (at least 1) on the inference path: [1, T, D]. */
    private NDArray layerInput(NDManager m, TrainExample e, int layer) {
        List<float[]> hidden = new ArrayList<>();
        int t = layerProbs(m, model, c, e, new int[0], new ArrayList<>(), hidden);
        return m.create(hidden.get(layer - 1), new Shape(1, t, c.text().hiddenSize()));
    }

    private static int[] visualSlots(TrainExample e, long img, int per) {
        List<Integer> out = new ArrayList<>();
        int slot = 0;
        for (long id : e.promptIds()) {
            if (id == img) {
                for (int p = 0; p < per; p++) {
                    out.add(slot++);
                }
            } else {
                slot++;
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Attention probabilities of the given layers for one example, embedded and masked as at inference; returns T. */
    private static int layerProbs(NDManager m, LlavaForConditionalGeneration model, LlavaConfig c, TrainExample e, int[] layers,
                                  List<float[]> out) {
        return layerProbs(m, model, c, e, layers, out, new ArrayList<>());
    }

    /** As above, also collecting every layer's output hidden states ({@code [T * D]} each) in {@code hidden}. */
    private static int layerProbs(NDManager m, LlavaForConditionalGeneration model, LlavaConfig c, TrainExample e, int[] layers,
                                  List<float[]> out, List<float[]> hidden) {
        int size = c.vision().imageSize();
        int per = c.vision().numPatches();
        long d = c.text().hiddenSize();
        int[] fl = c.resolvedFeatureLayers();
        List<NDArray> vis = new ArrayList<>();
        for (float[] image : e.images()) {
            NDArray f = ClipVisionModel.select(model.visionTower().hiddenStates(m.create(image,
                    new Shape(1, 3, size, size)), Arrays.stream(fl).max().orElse(0)), fl).get(":, 1:, :");
            vis.add(model.multiModalProjector().forward(f).reshape(per, d));
        }
        List<NDArray> rows = new ArrayList<>();
        int image = 0;
        long[] seq = new long[e.promptIds().length + e.answerIds().length];
        System.arraycopy(e.promptIds(), 0, seq, 0, e.promptIds().length);
        System.arraycopy(e.answerIds(), 0, seq, e.promptIds().length, e.answerIds().length);
        for (long id : seq) {
            if (id == c.imageTokenIndex()) {
                rows.add(vis.get(image++));
            } else {
                rows.add(model.languageModel().embed(m.create(new long[] {id})).reshape(1, d));
            }
        }
        NDArray h = NDArrays.concat(new NDList(rows.toArray(new NDArray[0])), 0);
        int t = (int) h.getShape().get(0);
        h = h.reshape(1, t, d);
        float[] mask = new float[t * t];
        long[][] pos = new long[1][t];
        for (int q = 0; q < t; q++) {
            pos[0][q] = q;
            for (int k = q + 1; k < t; k++) {
                mask[q * t + k] = -1e9f;
            }
        }
        LlamaRotaryEmbedding.Rope rope = model.languageModel().rotary().forPositions(m, pos);
        NDArray mk = m.create(mask, new Shape(1, 1, t, t));
        List<LlamaDecoderLayer> all = model.languageModel().layers();
        for (int li = 0; li < all.size(); li++) {
            LlamaDecoderLayer.Output o = all.get(li).forward(h, rope, mk, null);
            h = o.hidden();
            hidden.add(h.toFloatArray());
            int layer = li;
            if (Arrays.stream(layers).anyMatch(x -> x == layer)) {
                out.add(o.probs().toFloatArray());
            }
        }
        return t;
    }
}
