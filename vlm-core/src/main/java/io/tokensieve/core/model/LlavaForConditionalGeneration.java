package io.tokensieve.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.ModelWeights;

import java.util.List;

/**
 * HF {@code LlavaForConditionalGeneration}: CLIP vision tower, multi-modal projector, LLaMA language
 * model and LM head, plus the embedded model's optional extras (mask head, 3D and 2D position embeddings).
 * The same instance serves inference and training: its arrays are the parameters in {@link ModelWeights}.
 */
public final class LlavaForConditionalGeneration {
    private final LlavaConfig config;
    private final ModelWeights weights;
    private final ClipVisionModel visionTower;
    private final LlavaMultiModalProjector multiModalProjector;
    private final LlamaModel languageModel;
    private final NDArray lmHead; // [V, D]
    private final SegMaskHead segHead;
    private final PositionEmbedding3d positionEmbedding3d;
    private final NDArray positionEmbedding2d; // [patches, Dv] or null

    public LlavaForConditionalGeneration(LlavaConfig config, ModelWeights weights) {
        this.config = config;
        this.weights = weights;
        this.visionTower = new ClipVisionModel(weights, config.vision());
        this.multiModalProjector = new LlavaMultiModalProjector(weights, config);
        this.languageModel = new LlamaModel(weights, config.text());
        this.lmHead = config.text().tieWordEmbeddings()
                ? weights.get(CheckpointKeys.embedTokens())
                : weights.get(CheckpointKeys.LM_HEAD);
        this.segHead = config.extras().hasSegHead() ? new SegMaskHead(weights, config.extras().segHeadDim(),
                config.extras().segCell(), config.vision().imageSize(), config.vision().gridSize()) : null;
        this.positionEmbedding3d = config.extras().positionEmbedding3d()
                ? new PositionEmbedding3d(weights, config.vision().layerNormEps()) : null;
        this.positionEmbedding2d = config.extras().positionEmbedding2d() ? weights.get(CheckpointKeys.pos2d()) : null;
    }

    /** hidden [..., D] (after the final norm) -> logits [..., V] */
    public NDArray logits(NDArray normedHidden) {
        return ai.djl.nn.core.Linear.linear(normedHidden, lmHead).head();
    }

    public LlavaConfig config() {
        return config;
    }

    public ModelWeights weights() {
        return weights;
    }

    public ClipVisionModel visionTower() {
        return visionTower;
    }

    public LlavaMultiModalProjector multiModalProjector() {
        return multiModalProjector;
    }

    public LlamaModel languageModel() {
        return languageModel;
    }

    /** The mask head, or null when the model has none. */
    public SegMaskHead segHead() {
        return segHead;
    }

    /** The 3D position embedding, or null when the model has none. */
    public PositionEmbedding3d positionEmbedding3d() {
        return positionEmbedding3d;
    }

    /**
     * Vision features with the extras' position embeddings added, the one place both inference and training add them
     * (unchanged when the model has neither): the 3D embedding of each patch's xyz origin to the images given origins,
     * the 2D embedding of each patch's grid cell to the others (unless the model adds it after the projector: see
     * {@link #project}). CLS rows get neither.
     *
     * @param mgr the manager of the step (the learned table is read into it, so nothing joins the weights' manager)
     * @param f features {@code [I, n, Dv]}: n = patches, or 1 + patches with the CLS row first ({@code clsFirst})
     * @param xyz per image, its patches' origins {@code [patches][3]} or null; null for no image with origins
     */
    public NDArray addPositionEmbeddings(NDManager mgr, NDArray f, List<float[][]> xyz, boolean clsFirst) {
        int nImg = (int) f.getShape().get(0);
        int per = (int) f.getShape().get(1);
        int off = clsFirst ? 1 : 0;
        NDArray out = f;
        if (positionEmbedding3d != null && xyz != null && xyz.stream().anyMatch(x -> x != null)) {
            float[] pos = new float[nImg * per * 3];
            float[] has = new float[nImg * per];
            for (int i = 0; i < nImg; i++) {
                float[][] x = xyz.get(i);
                for (int p = 0; x != null && p < x.length; p++) {
                    System.arraycopy(x[p], 0, pos, (i * per + p + off) * 3, 3);
                    has[i * per + p + off] = 1;
                }
            }
            NDArray pe = positionEmbedding3d.forward(mgr.create(pos, new Shape(nImg, per, 3))); // [I, n, Dv]
            out = out.add(pe.mul(mgr.create(has, new Shape(nImg, per, 1))));
        }
        if (positionEmbedding2d != null && !config.extras().positionEmbedding2dAfterProjector()
                && (xyz == null || xyz.stream().anyMatch(x -> x == null))) {
            int patches = (int) positionEmbedding2d.getShape().get(0);
            if (per != patches + off) {
                throw new IllegalArgumentException("features have " + per + " rows per image for " + patches + " patches");
            }
            float[] has = new float[nImg * per];
            for (int i = 0; i < nImg; i++) {
                if (xyz == null || xyz.get(i) == null) {
                    java.util.Arrays.fill(has, i * per + off, (i + 1) * per, 1f);
                }
            }
            NDArray table = positionEmbedding2d.get(mgr, new NDIndex(":")); // [patches, Dv], in the step's manager
            if (off == 1) {
                table = mgr.zeros(new Shape(1, table.getShape().get(1))).concat(table, 0); // [n, Dv], CLS row zero
            }
            out = out.add(table.expandDims(0).mul(mgr.create(has, new Shape(nImg, per, 1)))); // [I, n, Dv]
        }
        return out;
    }

    /**
     * The projector over vision-feature rows, plus, when the model adds its 2D position embedding after the projector,
     * each row's cell's table row (the one place inference, training and the probes project with it).
     *
     * @param mgr the manager of the step (the table is read into it, as in {@link #addPositionEmbeddings})
     * @param rows vision-feature rows {@code [n, Dv]}
     * @param cells per row, its patch cell, or -1 for a row that gets no table row (CLS, an image with xyz origins);
     *     null for none
     * @return {@code [n, D]}
     */
    public NDArray project(NDManager mgr, NDArray rows, int[] cells) {
        return addProjectedPositionEmbedding(mgr, multiModalProjector.forward(rows), cells); // [n, D]
    }

    /**
     * Projected rows {@code [n, D]} plus each row's cell's row of the 2D table when the model adds it after the
     * projector (unchanged otherwise); {@code cells} as for {@link #project}.
     */
    public NDArray addProjectedPositionEmbedding(NDManager mgr, NDArray projected, int[] cells) {
        NDArray out = projected;
        if (positionEmbedding2d == null || !config.extras().positionEmbedding2dAfterProjector() || cells == null) {
            return out;
        }
        int n = (int) projected.getShape().get(0);
        int patches = (int) positionEmbedding2d.getShape().get(0);
        if (cells.length != n) {
            throw new IllegalArgumentException(cells.length + " cells for " + n + " rows");
        }
        long[] idx = new long[n];
        float[] has = new float[n];
        for (int r = 0; r < n; r++) {
            if (cells[r] >= patches) {
                throw new IllegalArgumentException("row " + r + " is in cell " + cells[r] + " of " + patches);
            }
            idx[r] = Math.max(cells[r], 0);
            has[r] = cells[r] >= 0 ? 1f : 0f;
        }
        NDArray table = positionEmbedding2d.get(mgr, new NDIndex(":")); // [patches, D], in the step's manager
        NDArray pe = table.get(new NDIndex("{}", mgr.create(idx))); // [n, D]
        return out.add(pe.mul(mgr.create(has, new Shape(n, 1))));
    }

    /**
     * The patch cell of each of a sample's feature rows, for {@link #project}: -1 for CLS rows and rows of images with
     * xyz origins.
     *
     * @param index rows' places among the sample's feature rows (image * perImage + row), null for all rows in order
     * @param images the sample's images
     * @param perImage feature rows per image (patches, or 1 + patches with the CLS row first)
     * @param xyz per image, its origins or null; null for no image with origins
     */
    public static int[] cells(int[] index, int images, int perImage, boolean clsFirst, List<float[][]> xyz) {
        int n = index == null ? images * perImage : index.length;
        int off = clsFirst ? 1 : 0;
        int[] cells = new int[n];
        for (int r = 0; r < n; r++) {
            int at = index == null ? r : index[r];
            int img = at / perImage;
            int row = at % perImage - off;
            cells[r] = row < 0 || (xyz != null && xyz.get(img) != null) ? -1 : row;
        }
        return cells;
    }
}
