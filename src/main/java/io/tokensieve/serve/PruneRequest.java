package io.tokensieve.serve;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tokensieve.core.filter.FilterInput;
import io.tokensieve.core.filter.ImageTokens;

import java.util.ArrayList;
import java.util.List;

/**
 * A parsed {@code POST /v1/prune} body: the pruner spec, each image's embeddings (JSON rows or base64 float32)
 * with its grid or xyz origins and optional features, CLS attention and keys, and optional text embeddings or
 * question. Host arrays only; {@link #toInput(NDManager)} makes the NDArrays in the caller's manager.
 */
record PruneRequest(String pruner, List<Image> images, JsonFields.Matrix text, String question) {

    /** One image as sent. */
    record Image(JsonFields.Matrix embeddings, int rows, int cols, float[][] xyz, JsonFields.Matrix features,
                 float[] clsAttention, JsonFields.Matrix keys) {}

    /** Values one array of a request may hold (the body limit applies as well). */
    static final long MAX_VALUES = 1L << 28;

    static PruneRequest parse(JsonNode body, ServeConfig config) {
        ObjectNode o = JsonFields.object(body, "request body");
        String pruner = JsonFields.string(JsonFields.required(o, "pruner", "pruner"), "pruner");
        JsonNode imgs = JsonFields.required(o, "images", "images");
        if (!imgs.isArray()) {
            throw JsonFields.wrongType("images", "an array of images", imgs);
        }
        if (imgs.isEmpty()) {
            throw ApiException.invalid("invalid_value", "images is empty");
        }
        if (imgs.size() > config.maxPruneImages()) {
            throw ApiException.invalid("too_many_images", "images has " + imgs.size() + " entries, limit "
                    + config.maxPruneImages());
        }
        List<Image> images = new ArrayList<>();
        for (int i = 0; i < imgs.size(); i++) {
            images.add(image(imgs.get(i), "images[" + i + "]"));
        }
        JsonNode t = JsonFields.opt(o, "text_embeddings");
        JsonFields.Matrix text = t == null ? null : JsonFields.matrix(t, "text_embeddings", MAX_VALUES);
        String question = JsonFields.optString(o, "question", "question");
        if (question != null && question.isBlank()) {
            throw ApiException.invalid("empty_question", "question is empty");
        }
        if (question != null && question.length() > config.maxQuestionChars()) {
            throw ApiException.invalid("question_too_long", "question is " + question.length() + " characters, limit "
                    + config.maxQuestionChars());
        }
        return new PruneRequest(pruner, List.copyOf(images), text, question);
    }

    private static Image image(JsonNode n, String path) {
        ObjectNode o = JsonFields.object(n, path);
        JsonFields.Matrix e = JsonFields.matrix(JsonFields.required(o, "embeddings", path + ".embeddings"),
                path + ".embeddings", MAX_VALUES);
        JsonNode grid = JsonFields.opt(o, "grid");
        JsonNode xyzNode = JsonFields.opt(o, "xyz");
        if (grid == null && xyzNode == null) {
            throw JsonFields.missing(path + ".grid (or " + path + ".xyz)");
        }
        int rows = 1;
        int cols = e.rows();
        if (grid != null) {
            if (!grid.isArray() || grid.size() != 2 || !grid.get(0).isIntegralNumber() || !grid.get(1).isIntegralNumber()) {
                throw ApiException.invalid("invalid_type", path + ".grid must be [rows, cols], got " + grid);
            }
            long r = grid.get(0).asLong();
            long c = grid.get(1).asLong();
            if (r < 1 || c < 1 || r * c != e.rows()) {
                throw ApiException.invalid("invalid_embeddings", path + ".grid " + grid + " holds " + r * c
                        + " tokens but " + path + ".embeddings has " + e.rows() + " rows");
            }
            rows = (int) r;
            cols = (int) c;
        }
        float[][] xyz = null;
        if (xyzNode != null) {
            if (!xyzNode.isArray() || xyzNode.size() != e.rows()) {
                throw ApiException.invalid("invalid_embeddings", path + ".xyz must hold one [x, y, z] per token ("
                        + e.rows() + "), got " + (xyzNode.isArray() ? xyzNode.size() + " entries" : JsonFields.typeOf(xyzNode)));
            }
            xyz = new float[e.rows()][];
            for (int p = 0; p < xyz.length; p++) {
                xyz[p] = JsonFields.vector(xyzNode.get(p), path + ".xyz[" + p + "]");
                if (xyz[p].length != 3) {
                    throw ApiException.invalid("invalid_value", path + ".xyz[" + p + "] must be [x, y, z]");
                }
            }
        }
        JsonNode f = JsonFields.opt(o, "features");
        JsonFields.Matrix features = f == null ? null : JsonFields.matrix(f, path + ".features", MAX_VALUES);
        if (features != null && features.rows() != e.rows()) {
            throw ApiException.invalid("invalid_embeddings", path + ".features has " + features.rows() + " rows but "
                    + path + ".embeddings has " + e.rows());
        }
        JsonNode c = JsonFields.opt(o, "cls_attention");
        float[] cls = c == null ? null : JsonFields.vector(c, path + ".cls_attention");
        if (cls != null && cls.length != e.rows()) {
            throw ApiException.invalid("invalid_embeddings", path + ".cls_attention has " + cls.length + " values for "
                    + e.rows() + " tokens");
        }
        JsonNode k = JsonFields.opt(o, "keys");
        JsonFields.Matrix keys = k == null ? null : JsonFields.matrix(k, path + ".keys", MAX_VALUES);
        if (keys != null && keys.rows() != e.rows()) {
            throw ApiException.invalid("invalid_embeddings", path + ".keys has " + keys.rows() + " rows but "
                    + path + ".embeddings has " + e.rows());
        }
        return new Image(e, rows, cols, xyz, features, cls, keys);
    }

    private static ai.djl.ndarray.NDArray array(NDManager m, JsonFields.Matrix x) {
        return m.create(x.values(), new Shape(x.rows(), x.cols()));
    }

    /** The filter input, with every array created in {@code m}. */
    FilterInput toInput(NDManager m) {
        List<ImageTokens> tokens = new ArrayList<>();
        for (Image im : images) {
            ai.djl.ndarray.NDArray e = array(m, im.embeddings());
            ImageTokens t = im.xyz() == null ? ImageTokens.grid(e, im.rows(), im.cols())
                    : ImageTokens.gridWithXyz(e, im.rows(), im.cols(), im.xyz());
            if (im.features() != null) {
                t = t.optFeatures(array(m, im.features()));
            }
            if (im.clsAttention() != null) {
                t = t.optClsAttention(im.clsAttention());
            }
            if (im.keys() != null) {
                t = t.optKeys(array(m, im.keys()));
            }
            tokens.add(t);
        }
        FilterInput in = FilterInput.of(tokens);
        if (text != null) {
            in = in.optTextEmbeddings(array(m, text));
        }
        if (question != null) {
            in = in.optQuestion(question);
        }
        return in;
    }
}
