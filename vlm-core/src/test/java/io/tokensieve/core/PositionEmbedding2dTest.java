package io.tokensieve.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.config.SieveExtras;
import io.tokensieve.core.model.LlavaForConditionalGeneration;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.RandomCheckpoint;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import io.tokensieve.core.testing.TestPruners;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;
import ai.djl.Device;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The 2D position embedding extra: its table row {@code r * grid + c} is added to the vision feature of the patch in
 * row r, column c of every image without xyz origins, and to nothing else (CLS rows, multi-view images), or, placed
 * after the projector, to that patch's projected token wherever pruning leaves it; checked against plain float
 * arithmetic and end to end through saved checkpoints.
 */
class PositionEmbedding2dTest {
    @TempDir
    Path tmp;

    private static float[] randoms(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @Test
    void eachPatchGetsItsCellsRowAndNothingElseChanges() {
        LlavaConfig c = RandomCheckpoint.tinyConfig(40, 4, new SieveExtras(-1, 0, 0, false, 0, true));
        int patches = c.vision().numPatches();
        int dv = c.vision().hiddenSize();
        assertEquals(64, patches);
        try (NDManager m = NDManager.newBaseManager();
                ModelWeights w = ModelWeights.random(c, 3, 0.1f, NDManager.newBaseManager())) {
            LlavaForConditionalGeneration model = new LlavaForConditionalGeneration(c, w);
            float[] table = w.get(CheckpointKeys.pos2d()).toFloatArray(); // [patches * Dv]
            assertEquals(patches * dv, table.length);

            // two images with the CLS row first; the second has xyz origins (the 3D embedding's, which this model lacks)
            int per = patches + 1;
            float[] f = randoms(2 * per * dv, 7);
            float[] out = model.addPositionEmbeddings(m, m.create(f, new Shape(2, per, dv)),
                    Arrays.asList(null, new float[patches][3]), true).toFloatArray();
            for (int i = 0; i < 2; i++) {
                for (int t = 0; t < per; t++) {
                    for (int k = 0; k < dv; k++) {
                        int at = (i * per + t) * dv + k;
                        float want = i == 0 && t > 0 ? f[at] + table[(t - 1) * dv + k] : f[at];
                        assertEquals(want, out[at], 1e-6f, "image " + i + " row " + t + " dim " + k);
                    }
                }
            }
            // without CLS rows, and with no origins given at all
            float[] g = randoms(patches * dv, 8);
            float[] got = model.addPositionEmbeddings(m, m.create(g, new Shape(1, patches, dv)), null, false).toFloatArray();
            for (int j = 0; j < g.length; j++) {
                assertEquals(g[j] + table[j], got[j], 1e-6f, "element " + j);
            }
            NDArray wrong = m.zeros(new Shape(1, patches - 1, dv));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.addPositionEmbeddings(m, wrong, null, false));
            assertTrue(e.getMessage().contains("63 rows per image for 64 patches"), e.getMessage());
        }
    }

    @Test
    void aSavedTableChangesSingleImageAnswersAndLeavesMultiViewOnesAlone() throws Exception {
        // same seed: the table is drawn last, so every other weight is the same in both checkpoints
        Path with = tmp.resolve("with");
        Path without = tmp.resolve("without");
        RandomCheckpoint.write(with, 21, true, true);
        RandomCheckpoint.write(without, 21, true, false);
        try (VlmModel a = VlmModel.load(with, Device.cpu()); VlmModel b = VlmModel.load(without, Device.cpu())) {
            assertTrue(a.config().extras().positionEmbedding2d());
            assertFalse(b.config().extras().positionEmbedding2d());
            VisualInput img = a.image(TestModels.rgbPng(tmp, "a.png", 60, 40, 5));
            float[][] xyz = new float[64][];
            for (int i = 0; i < 64; i++) {
                xyz[i] = new float[] {i % 8, i / 8, 2f};
            }
            VisualInput view = new VisualInput("view", img.pixels(), xyz);
            long[] ids = a.promptIds("what colour is the square ?", 1);
            assertFalse(Arrays.equals(first(a, ids, img), first(b, ids, img)), "single image: the table is added");
            assertArrayEquals(first(b, ids, view), first(a, ids, view), "multi-view image: only the 3D embedding");
        }
    }

    @Test
    void cellsFollowEachRowsOriginalPlace() {
        List<float[][]> xyz = Arrays.asList(null, new float[4][3], null);
        // three images of 1 CLS row + 4 patches; the second has xyz origins
        assertArrayEquals(new int[] {-1, 0, 3, -1, -1, -1, 0, 3},
                LlavaForConditionalGeneration.cells(new int[] {0, 1, 4, 5, 6, 9, 11, 14}, 3, 5, true, xyz));
        assertArrayEquals(new int[] {0, 1, 2, 3, 0, 1, 2, 3}, LlavaForConditionalGeneration.cells(null, 2, 4, false, null));
    }

    @Test
    void afterTheProjectorEachTokenGetsItsCellsRowAtTheDecodersWidth() {
        LlavaConfig c = RandomCheckpoint.tinyConfig(40, 4, new SieveExtras(-1, 0, 0, false, 0, true, true));
        int patches = c.vision().numPatches();
        int dv = c.vision().hiddenSize();
        int d = c.text().hiddenSize();
        assertTrue(d != dv, "the tiny model's widths differ, so the table's width is checked");
        try (NDManager m = NDManager.newBaseManager();
                ModelWeights w = ModelWeights.random(c, 3, 0.1f, NDManager.newBaseManager())) {
            LlavaForConditionalGeneration model = new LlavaForConditionalGeneration(c, w);
            float[] table = w.get(CheckpointKeys.pos2d()).toFloatArray(); // [patches * D]
            assertEquals(patches * d, table.length);
            float[] f = randoms(patches * dv, 9);
            NDArray feats = m.create(f, new Shape(1, patches, dv));
            assertArrayEquals(f, model.addPositionEmbeddings(m, feats, null, false).toFloatArray(),
                    "nothing is added before the projector");
            int[] cells = {5, -1, 63, 0}; // rows of a pruned sequence: their own cells, one without (xyz or CLS)
            NDArray rows = m.create(Arrays.copyOf(f, cells.length * dv), new Shape(cells.length, dv));
            float[] plain = model.multiModalProjector().forward(rows).toFloatArray(); // [4 * D]
            float[] got = model.project(m, rows, cells).toFloatArray();
            for (int r = 0; r < cells.length; r++) {
                for (int k = 0; k < d; k++) {
                    float want = plain[r * d + k] + (cells[r] < 0 ? 0f : table[cells[r] * d + k]);
                    assertEquals(want, got[r * d + k], 1e-6f, "row " + r + " dim " + k);
                }
            }
            assertArrayEquals(plain, model.project(m, rows, null).toFloatArray(), "no cells: the projector alone");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.project(m, rows, new int[] {0, 1, 64, 2}));
            assertTrue(e.getMessage().contains("cell 64 of 64"), e.getMessage());
        }
    }

    @Test
    void afterTheProjectorAPrunedTokenKeepsItsOwnCellsRow() throws Exception {
        Path with = tmp.resolve("after");
        Path without = tmp.resolve("plain");
        RandomCheckpoint.write(with, 21, true, true, true);
        RandomCheckpoint.write(without, 21, true, false);
        LlavaConfig c = LlavaConfig.load(with);
        int d = c.text().hiddenSize();
        try (ModelWeights w = ModelWeights.load(with, c, NDManager.newBaseManager())) {
            float[] table = new float[64 * d]; // only cell 2 has a row, so a token gets it only if it is cell 2
            Arrays.fill(table, 2 * d, 3 * d, 3f);
            w.get(CheckpointKeys.pos2d()).set(table);
            w.save(with, java.util.Map.of("seed", "21"));
        }
        try (VlmModel a = VlmModel.load(with, Device.cpu()); VlmModel b = VlmModel.load(without, Device.cpu())) {
            assertTrue(a.config().extras().positionEmbedding2dAfterProjector());
            VisualInput img = a.image(TestModels.rgbPng(tmp, "a.png", 60, 40, 5));
            long[] ids = a.promptIds("what colour is the square ?", 1);
            // kept cells 10, 20, 30 sit at places 0-2 of the pruned sequence: a mix-up would give the third cell 2's row
            for (HookPoint hook : List.of(HookPoint.VISION, HookPoint.PROJECTED)) {
                ConfiguredPruner apart = TestPruners.fixed(hook, new int[] {10, 20, 30}, PositionPolicy.KEEP);
                ConfiguredPruner withTwo = TestPruners.fixed(hook, new int[] {2, 20, 30}, PositionPolicy.KEEP);
                assertArrayEquals(first(b, ids, img, apart), first(a, ids, img, apart), hook + ": cells 10, 20, 30 get nothing");
                assertFalse(Arrays.equals(first(b, ids, img, withTwo), first(a, ids, img, withTwo)), hook + ": cell 2 gets its row");
            }
            float[][] xyz = new float[64][];
            for (int i = 0; i < 64; i++) {
                xyz[i] = new float[] {i % 8, i / 8, 2f};
            }
            VisualInput view = new VisualInput("view", img.pixels(), xyz);
            assertFalse(Arrays.equals(first(a, ids, img), first(b, ids, img)), "single image: cell 2's row is added");
            assertArrayEquals(first(b, ids, view), first(a, ids, view), "multi-view image: only the 3D embedding");
        }
    }

    private static float[] first(VlmModel m, long[] ids, VisualInput image) {
        return first(m, ids, image, null);
    }

    private static float[] first(VlmModel m, long[] ids, VisualInput image, ConfiguredPruner p) {
        GenerationResult r = m.generate(List.of(VlmRequest.of(ids, List.of(image), p)), GenerationConfig.greedy(1)).get(0);
        return r.firstTokenLogits();
    }
}
