package io.tokensieve.core.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.tokensieve.core.config.LlavaConfig;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/**
 * All parameters of one model as float32 NDArrays keyed by canonical checkpoint name
 * ({@link CheckpointKeys}). Owns the NDManager that holds them; closing it frees the weights.
 *
 * <pre>{@code
 * try (ModelWeights w = ModelWeights.load(dir, config, NDManager.newBaseManager())) { ... }
 * }</pre>
 */
public final class ModelWeights implements AutoCloseable {
    private final NDManager manager;
    private final Map<String, NDArray> arrays;

    private ModelWeights(NDManager manager, Map<String, NDArray> arrays) {
        this.manager = manager;
        this.arrays = arrays;
    }

    /**
     * Strictly loads the checkpoint in {@code dir} for {@code config}: one exception lists every missing,
     * unexpected and mis-shaped tensor. Takes ownership of {@code manager}.
     */
    public static ModelWeights load(Path dir, LlavaConfig config, NDManager manager) {
        SafetensorsReader reader = SafetensorsReader.openDir(dir);
        Map<String, long[]> expected = CheckpointKeys.expected(config);
        Map<String, String> canonicalToFile = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (String key : reader.tensors().keySet()) {
            String c = CheckpointKeys.canonical(key);
            String prev = canonicalToFile.put(c, key);
            if (prev != null) {
                problems.add("duplicate tensor: '" + key + "' and '" + prev + "' both map to '" + c + "'");
            }
        }
        List<String> missing = new ArrayList<>();
        List<String> misShaped = new ArrayList<>();
        for (var e : expected.entrySet()) {
            String fileKey = canonicalToFile.get(e.getKey());
            if (fileKey == null) {
                missing.add(e.getKey() + " " + Arrays.toString(e.getValue()));
            } else if (!Arrays.equals(reader.info(fileKey).shape(), e.getValue())) {
                misShaped.add(fileKey + " has shape " + reader.info(fileKey).shapeString() + ", expected "
                        + Arrays.toString(e.getValue()));
            }
        }
        List<String> unexpected = new ArrayList<>(new TreeSet<>(canonicalToFile.keySet()));
        unexpected.removeIf(k -> expected.containsKey(k) || CheckpointKeys.isIgnorableBuffer(k));
        unexpected.replaceAll(canonicalToFile::get);
        if (!missing.isEmpty()) {
            problems.add(missing.size() + " missing: " + listed(missing));
        }
        if (!unexpected.isEmpty()) {
            problems.add(unexpected.size() + " unexpected: " + listed(unexpected));
        }
        if (!misShaped.isEmpty()) {
            problems.add(misShaped.size() + " mis-shaped: " + listed(misShaped));
        }
        if (!problems.isEmpty()) {
            manager.close();
            throw new WeightsException(dir + ": checkpoint does not match config.json; " + String.join("; ", problems));
        }
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        for (var e : expected.entrySet()) {
            ByteBuffer buf = reader.readFloat32(canonicalToFile.get(e.getKey()));
            NDArray a = manager.create(buf, new Shape(e.getValue()), DataType.FLOAT32);
            a.setName(e.getKey());
            arrays.put(e.getKey(), a);
        }
        return new ModelWeights(manager, arrays);
    }

    private static String listed(List<String> items) {
        int max = 12;
        String s = String.join(", ", items.subList(0, Math.min(max, items.size())));
        return items.size() > max ? s + ", ... (" + (items.size() - max) + " more)" : s;
    }

    /**
     * Fresh weights for {@code config} from a seeded Java RNG (identical on every machine): linear and
     * embedding weights N(0, std), biases 0, norm weights 1. Takes ownership of {@code manager}.
     */
    public static ModelWeights random(LlavaConfig config, long seed, float std, NDManager manager) {
        Random rng = new Random(seed);
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        for (var e : CheckpointKeys.expected(config).entrySet()) {
            String k = e.getKey();
            long[] shape = e.getValue();
            int n = (int) new Shape(shape).size();
            float[] data = new float[n];
            boolean norm = k.contains("norm") || k.contains("layrnorm") || k.contains("layer_norm");
            if (norm && k.endsWith(".weight")) {
                Arrays.fill(data, 1f);
            } else if (k.endsWith(".bias") || k.equals(CheckpointKeys.segHead("bias"))) {
                // zeros
            } else {
                for (int i = 0; i < n; i++) {
                    data[i] = (float) (rng.nextGaussian() * std);
                }
            }
            NDArray a = manager.create(data, new Shape(shape));
            a.setName(k);
            arrays.put(k, a);
        }
        return new ModelWeights(manager, arrays);
    }

    /**
     * These weights grown to {@code config}, which may require parameters they lack (an added extra). The new
     * matrices start N(0, 1 / fan-in) from {@code seed} (the scale of a fresh layer, not the 0.02 of a fresh model,
     * since they join trained ones), biases at zero, and every new parameter whose key starts with
     * {@code zeroPrefix} at zero. Parameters {@code config} does not require are an error. The result shares (and
     * now owns) this object's manager; this object must not be used afterwards.
     */
    public ModelWeights extendedTo(LlavaConfig config, long seed, String zeroPrefix) {
        Map<String, long[]> expected = CheckpointKeys.expected(config);
        List<String> extra = arrays.keySet().stream().filter(k -> !expected.containsKey(k)).toList();
        if (!extra.isEmpty()) {
            throw new WeightsException("cannot extend: the configuration does not have " + listed(extra));
        }
        Random rng = new Random(seed);
        Map<String, NDArray> merged = new LinkedHashMap<>();
        for (var e : expected.entrySet()) {
            String k = e.getKey();
            NDArray a = arrays.get(k);
            if (a == null) {
                long[] shape = e.getValue();
                float[] data = new float[(int) new Shape(shape).size()];
                if (shape.length >= 2 && !k.startsWith(zeroPrefix)) {
                    double std = 1 / Math.sqrt(data.length / shape[0]);
                    for (int i = 0; i < data.length; i++) {
                        data[i] = (float) (rng.nextGaussian() * std);
                    }
                }
                a = manager.create(data, new Shape(shape));
                a.setName(k);
            }
            merged.put(k, a);
        }
        return new ModelWeights(manager, merged);
    }

    public NDArray get(String canonicalKey) {
        NDArray a = arrays.get(canonicalKey);
        if (a == null) {
            throw new WeightsException("no parameter '" + canonicalKey + "'");
        }
        return a;
    }

    public boolean has(String canonicalKey) {
        return arrays.containsKey(canonicalKey);
    }

    public Map<String, NDArray> all() {
        return Collections.unmodifiableMap(arrays);
    }

    public NDManager manager() {
        return manager;
    }

    /** Total number of scalar parameters. */
    public long parameterCount() {
        return arrays.values().stream().mapToLong(a -> a.getShape().size()).sum();
    }

    /** Marks every parameter as trainable (gradients are recorded inside a GradientCollector). */
    public void setTrainable(boolean trainable) {
        arrays.values().forEach(a -> a.setRequiresGradient(trainable));
    }

    /** Writes all parameters as one F32 {@code model.safetensors} in the canonical layout. */
    public void save(Path dir, Map<String, String> metadata) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        metadata.forEach(w::optMetadata);
        w.optMetadata("format", "pt");
        for (var e : arrays.entrySet()) {
            w.put(e.getKey(), e.getValue().getShape().getShape(), e.getValue().toFloatArray());
        }
        w.writeFile(dir.resolve(SafetensorsReader.SINGLE_FILE));
    }

    @Override
    public void close() {
        manager.close();
    }
}
