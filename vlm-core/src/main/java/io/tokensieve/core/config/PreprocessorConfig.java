package io.tokensieve.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Mirrors {@code preprocessor_config.json} of HF {@code CLIPImageProcessor}: resize of the shortest edge,
 * centre crop, rescale and normalisation. Both the older integer and the newer object forms of
 * {@code size} and {@code crop_size} are accepted.
 */
public record PreprocessorConfig(
        boolean doResize,
        int shortestEdge,
        int resample,
        boolean doCenterCrop,
        int cropHeight,
        int cropWidth,
        boolean doRescale,
        double rescaleFactor,
        boolean doNormalize,
        float[] imageMean,
        float[] imageStd,
        boolean doConvertRgb) {

    public static final float[] CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    public static final float[] CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};

    public static PreprocessorConfig clip(int size) {
        return new PreprocessorConfig(true, size, 3, true, size, size, true, 1 / 255.0, true,
                CLIP_MEAN.clone(), CLIP_STD.clone(), true);
    }

    public static PreprocessorConfig load(Path modelDir) {
        Path file = modelDir.resolve("preprocessor_config.json");
        JsonNode n = Json.read(file);
        try {
            return parse(n);
        } catch (ConfigException e) {
            throw new ConfigException(file + ": " + e.getMessage());
        }
    }

    static PreprocessorConfig parse(JsonNode n) {
        int shortest = 224;
        JsonNode size = n.get("size");
        if (size != null && size.isNumber()) {
            shortest = size.asInt();
        } else if (size != null && size.isObject()) {
            if (size.has("shortest_edge")) {
                shortest = size.get("shortest_edge").asInt();
            } else if (size.has("height")) {
                shortest = Math.min(size.get("height").asInt(), size.path("width").asInt(size.get("height").asInt()));
            }
        }
        int ch = shortest;
        int cw = shortest;
        JsonNode crop = n.get("crop_size");
        if (crop != null && crop.isNumber()) {
            ch = cw = crop.asInt();
        } else if (crop != null && crop.isObject()) {
            ch = crop.path("height").asInt(shortest);
            cw = crop.path("width").asInt(shortest);
        }
        float[] mean = floats(n.get("image_mean"), CLIP_MEAN);
        float[] std = floats(n.get("image_std"), CLIP_STD);
        if (shortest <= 0 || ch <= 0 || cw <= 0) {
            throw new ConfigException("size and crop_size must be positive");
        }
        return new PreprocessorConfig(
                Json.boolOr(n, "do_resize", true), shortest, Json.intOr(n, "resample", 3),
                Json.boolOr(n, "do_center_crop", true), ch, cw,
                Json.boolOr(n, "do_rescale", true), Json.doubleOr(n, "rescale_factor", 1 / 255.0),
                Json.boolOr(n, "do_normalize", true), mean, std, Json.boolOr(n, "do_convert_rgb", true));
    }

    private static float[] floats(JsonNode a, float[] def) {
        if (a == null || a.isNull()) {
            return def.clone();
        }
        if (!a.isArray() || a.size() != 3) {
            throw new ConfigException("image_mean and image_std must be lists of 3 numbers, got " + a);
        }
        float[] f = new float[3];
        for (int i = 0; i < 3; i++) {
            f[i] = (float) a.get(i).asDouble();
        }
        return f;
    }

    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("image_processor_type", "CLIPImageProcessor");
        o.put("do_resize", doResize);
        o.putObject("size").put("shortest_edge", shortestEdge);
        o.put("resample", resample);
        o.put("do_center_crop", doCenterCrop);
        o.putObject("crop_size").put("height", cropHeight).put("width", cropWidth);
        o.put("do_rescale", doRescale);
        o.put("rescale_factor", rescaleFactor);
        o.put("do_normalize", doNormalize);
        var m = o.putArray("image_mean");
        for (float f : imageMean) {
            m.add(f);
        }
        var s = o.putArray("image_std");
        for (float f : imageStd) {
            s.add(f);
        }
        o.put("do_convert_rgb", doConvertRgb);
        return o;
    }

    public void save(Path modelDir) throws IOException {
        Json.MAPPER.writerWithDefaultPrettyPrinter()
                .writeValue(modelDir.resolve("preprocessor_config.json").toFile(), toJson());
    }
}
