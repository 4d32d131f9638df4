package io.tokensieve.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The two documented additions of the embedded model to the plain LLaVA architecture, stored under
 * {@code sieve_extras} in {@code config.json}; real LLaVA checkpoints have neither.
 *
 * @param segTokenIndex id of the {@code [SEG]} token whose last-layer hidden state prompts the mask head
 *     (LISA-style), or -1 when the model has no mask head
 * @param segHeadDim width of the mask head's shared embedding space
 * @param segCell side in pixels of the mask head's pixel cells (the mask is predicted per cell)
 * @param positionEmbedding3d whether a 3D position embedding of each patch's xyz origin is added to the
 *     vision features of multi-view inputs (LLaVA-3D-style)
 * @param segRefineHidden width of the mask head's per-cell refinement layer, 0 for none (see
 *     {@code SegMaskHead}); absent from older configurations, which read as 0
 * @param positionEmbedding2d whether a learned embedding of each patch's grid cell is added to the vision features
 *     of images without xyz origins (single images, in-context demos), as the 3D one is to multi-view features;
 *     absent from older configurations, which read as false
 * @param positionEmbedding2dAfterProjector whether that 2D embedding is added to the projector's output (the decoder's
 *     width) instead of to the vision features, so the projector carries content only and the table meets the
 *     decoder at its tokens' scale; only with {@code positionEmbedding2d}; absent from older configurations (false)
 */
public record SieveExtras(int segTokenIndex, int segHeadDim, int segCell, boolean positionEmbedding3d, int segRefineHidden,
        boolean positionEmbedding2d, boolean positionEmbedding2dAfterProjector) {

    public static final SieveExtras NONE = new SieveExtras(-1, 0, 0, false, 0, false, false);

    public SieveExtras {
        if (positionEmbedding2dAfterProjector && !positionEmbedding2d) {
            throw new ConfigException("sieve_extras: position_embedding_2d_after_projector needs position_embedding_2d");
        }
    }

    public SieveExtras(int segTokenIndex, int segHeadDim, int segCell, boolean positionEmbedding3d, int segRefineHidden,
            boolean positionEmbedding2d) {
        this(segTokenIndex, segHeadDim, segCell, positionEmbedding3d, segRefineHidden, positionEmbedding2d, false);
    }

    public SieveExtras(int segTokenIndex, int segHeadDim, int segCell, boolean positionEmbedding3d) {
        this(segTokenIndex, segHeadDim, segCell, positionEmbedding3d, 0, false);
    }

    public SieveExtras(int segTokenIndex, int segHeadDim, int segCell, boolean positionEmbedding3d, int segRefineHidden) {
        this(segTokenIndex, segHeadDim, segCell, positionEmbedding3d, segRefineHidden, false);
    }

    public boolean hasSegHead() {
        return segTokenIndex >= 0;
    }

    public boolean any() {
        return hasSegHead() || positionEmbedding3d || positionEmbedding2d;
    }

    static SieveExtras parse(JsonNode n) {
        int seg = Json.intOr(n, "seg_token_index", -1);
        int dim = Json.intOr(n, "seg_head_dim", 0);
        if (seg >= 0 && dim <= 0) {
            throw new ConfigException("sieve_extras: seg_head_dim must be positive when seg_token_index is set");
        }
        int cell = Json.intOr(n, "seg_cell", 4);
        if (seg >= 0 && cell <= 0) {
            throw new ConfigException("sieve_extras: seg_cell must be positive");
        }
        int refine = Json.intOr(n, "seg_refine_hidden", 0);
        if (refine < 0 || (refine > 0 && seg < 0)) {
            throw new ConfigException("sieve_extras: seg_refine_hidden must be 0, or positive with a mask head (got " + refine + ")");
        }
        return new SieveExtras(seg, dim, cell, Json.boolOr(n, "position_embedding_3d", false), refine,
                Json.boolOr(n, "position_embedding_2d", false),
                Json.boolOr(n, "position_embedding_2d_after_projector", false));
    }

    ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("seg_token_index", segTokenIndex);
        o.put("seg_head_dim", segHeadDim);
        o.put("seg_cell", segCell);
        o.put("position_embedding_3d", positionEmbedding3d);
        if (segRefineHidden > 0) { // written only when present, so older configurations keep their bytes
            o.put("seg_refine_hidden", segRefineHidden);
        }
        if (positionEmbedding2d) { // likewise
            o.put("position_embedding_2d", true);
        }
        if (positionEmbedding2dAfterProjector) { // likewise
            o.put("position_embedding_2d_after_projector", true);
        }
        return o;
    }
}
