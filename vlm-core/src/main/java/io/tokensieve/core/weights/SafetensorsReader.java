package io.tokensieve.core.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Memory-mapped reader of safetensors checkpoints: a single {@code model.safetensors} or shards listed in
 * {@code model.safetensors.index.json}. Tensors are read as float32 in Java (F16 and BF16 are widened
 * here), so the engine never receives a BF16 buffer, which would abort the JVM in DJL 0.36's PyTorch JNI.
 */
public final class SafetensorsReader {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Map<String, TensorInfo> tensors;

    private SafetensorsReader(Map<String, TensorInfo> tensors) {
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /** Opens the checkpoint in a model folder (index file first, then the single file). */
    public static SafetensorsReader openDir(Path dir) {
        Path index = dir.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return openIndex(index);
        }
        Path single = dir.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) {
            return openFile(single);
        }
        throw new WeightsException(dir + ": no " + SINGLE_FILE + " or " + INDEX_FILE + " found");
    }

    public static SafetensorsReader openFile(Path file) {
        Map<String, TensorInfo> map = new LinkedHashMap<>();
        readHeader(file, map);
        return new SafetensorsReader(map);
    }

    public static SafetensorsReader openIndex(Path index) {
        JsonNode root;
        try {
            root = MAPPER.readTree(index.toFile());
        } catch (IOException e) {
            throw new WeightsException(index + ": invalid JSON (" + e.getMessage().split("\n")[0] + ")");
        }
        JsonNode wm = root == null ? null : root.get("weight_map");
        if (wm == null || !wm.isObject()) {
            throw new WeightsException(index + ": missing object 'weight_map'");
        }
        Set<String> shards = new TreeSet<>();
        wm.fields().forEachRemaining(e -> shards.add(e.getValue().asText()));
        Map<String, TensorInfo> all = new LinkedHashMap<>();
        for (String shard : shards) {
            Path f = index.resolveSibling(shard);
            if (!Files.isRegularFile(f)) {
                throw new WeightsException(index + ": shard " + shard + " is listed but missing");
            }
            Map<String, TensorInfo> part = new LinkedHashMap<>();
            readHeader(f, part);
            all.putAll(part);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = wm.fields(); it.hasNext(); ) {
            var e = it.next();
            TensorInfo t = all.get(e.getKey());
            if (t == null || !t.file().getFileName().toString().equals(e.getValue().asText())) {
                throw new WeightsException(index + ": tensor '" + e.getKey() + "' is mapped to " + e.getValue().asText()
                        + " but that shard does not hold it");
            }
        }
        return new SafetensorsReader(all);
    }

    private static void readHeader(Path file, Map<String, TensorInfo> out) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new WeightsException(file + ": too short to be a safetensors file (" + size + " bytes)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > 100_000_000L || 8 + headerLen > size) {
                throw new WeightsException(file + ": invalid safetensors header length " + headerLen);
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8);
            JsonNode header;
            try {
                header = MAPPER.readTree(hb.array());
            } catch (IOException e) {
                throw new WeightsException(file + ": safetensors header is not valid JSON");
            }
            long dataStart = 8 + headerLen;
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                var e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    continue;
                }
                JsonNode t = e.getValue();
                DType dt = DType.parse(t.path("dtype").asText(), e.getKey(), file);
                JsonNode shapeNode = t.get("shape");
                JsonNode offs = t.get("data_offsets");
                if (shapeNode == null || !shapeNode.isArray() || offs == null || offs.size() != 2) {
                    throw new WeightsException(file + ": tensor '" + e.getKey() + "' lacks shape or data_offsets");
                }
                long[] shape = new long[shapeNode.size()];
                long numel = 1;
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = shapeNode.get(i).asLong();
                    numel *= shape[i];
                }
                long b = dataStart + offs.get(0).asLong();
                long en = dataStart + offs.get(1).asLong();
                if (en - b != numel * dt.bytes() || en > size || b < dataStart) {
                    throw new WeightsException(file + ": tensor '" + e.getKey() + "' has a byte range that does not match "
                            + "its shape " + java.util.Arrays.toString(shape) + " and dtype " + dt
                            + " (or lies outside the file)");
                }
                out.put(e.getKey(), new TensorInfo(e.getKey(), dt, shape, file, b, en));
            }
        } catch (IOException e) {
            throw new WeightsException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new WeightsException("checkpoint has no tensor '" + name + "'");
        }
        return t;
    }

    /**
     * Reads one tensor as a little-endian float32 direct buffer (F16 and BF16 widened in Java), ready for
     * {@code NDManager.create(buffer, shape, FLOAT32)}.
     */
    public ByteBuffer readFloat32(String name) {
        TensorInfo t = info(name);
        long n = t.numel();
        if (n * 4 > Integer.MAX_VALUE) {
            throw new WeightsException(t.file() + ": tensor '" + name + "' is larger than 2 GiB in float32");
        }
        ByteBuffer out = ByteBuffer.allocateDirect((int) (n * 4)).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(t.file(), StandardOpenOption.READ)) {
            ByteBuffer src = ch.map(FileChannel.MapMode.READ_ONLY, t.begin(), t.end() - t.begin())
                    .order(ByteOrder.LITTLE_ENDIAN);
            switch (t.dtype()) {
                case F32 -> out.put(src);
                case F16 -> {
                    for (long i = 0; i < n; i++) {
                        out.putFloat(Halfs.f16ToFloat(src.getShort()));
                    }
                }
                case BF16 -> {
                    for (long i = 0; i < n; i++) {
                        out.putFloat(Halfs.bf16ToFloat(src.getShort()));
                    }
                }
            }
        } catch (IOException e) {
            throw new WeightsException(t.file() + ": cannot read tensor '" + name + "' (" + e.getMessage() + ")", e);
        }
        out.flip();
        return out;
    }

    /** Reads one tensor into a Java float array. */
    public float[] readFloats(String name) {
        ByteBuffer b = readFloat32(name);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }
}
