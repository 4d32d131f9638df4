package io.tokensieve.core.weights;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes safetensors checkpoints from float32 data, as F32, F16 or BF16, into one file or into shards
 * with an HF {@code model.safetensors.index.json}. Tensors are written in insertion order.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** One tensor to write. */
    public record Entry(String name, long[] shape, float[] data) {
        public Entry {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            if (n != data.length) {
                throw new IllegalArgumentException("tensor '" + name + "': shape does not match data length");
            }
        }
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private DType dtype = DType.F32;

    public SafetensorsWriter put(String name, long[] shape, float[] data) {
        if (entries.putIfAbsent(name, new Entry(name, shape, data)) != null) {
            throw new IllegalArgumentException("tensor '" + name + "' added twice");
        }
        return this;
    }

    public SafetensorsWriter optDType(DType dtype) {
        this.dtype = dtype;
        return this;
    }

    public SafetensorsWriter optMetadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Writes everything into one file. */
    public void writeFile(Path file) throws IOException {
        writeShard(file, new ArrayList<>(entries.values()));
    }

    /**
     * Writes shards of at most {@code maxShardBytes} (one tensor can exceed it on its own) named
     * {@code model-0000i-of-0000n.safetensors}, plus the index file.
     */
    public void writeSharded(Path dir, long maxShardBytes) throws IOException {
        List<List<Entry>> shards = new ArrayList<>();
        List<Entry> cur = new ArrayList<>();
        long curBytes = 0;
        for (Entry e : entries.values()) {
            long b = (long) e.data().length * dtype.bytes();
            if (!cur.isEmpty() && curBytes + b > maxShardBytes) {
                shards.add(cur);
                cur = new ArrayList<>();
                curBytes = 0;
            }
            cur.add(e);
            curBytes += b;
        }
        if (!cur.isEmpty()) {
            shards.add(cur);
        }
        ObjectNode index = MAPPER.createObjectNode();
        long total = 0;
        ObjectNode map = MAPPER.createObjectNode();
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            writeShard(dir.resolve(name), shards.get(i));
            for (Entry e : shards.get(i)) {
                map.put(e.name(), name);
                total += (long) e.data().length * dtype.bytes();
            }
        }
        index.putObject("metadata").put("total_size", total);
        index.set("weight_map", map);
        MAPPER.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(SafetensorsReader.INDEX_FILE).toFile(), index);
    }

    private void writeShard(Path file, List<Entry> list) throws IOException {
        ObjectNode header = MAPPER.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            new java.util.TreeMap<>(metadata).forEach(m::put); // sorted: the same metadata gives the same bytes
        }
        long offset = 0;
        for (Entry e : list) {
            ObjectNode t = header.putObject(e.name());
            t.put("dtype", dtype.name());
            var s = t.putArray("shape");
            for (long d : e.shape()) {
                s.add(d);
            }
            long len = (long) e.data().length * dtype.bytes();
            t.putArray("data_offsets").add(offset).add(offset + len);
            offset += len;
        }
        byte[] json = MAPPER.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = new byte[padded];
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            headerBytes[i] = ' ';
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(headerBytes);
            for (Entry e : list) {
                ByteBuffer b = ByteBuffer.allocate(e.data().length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : e.data()) {
                    switch (dtype) {
                        case F32 -> b.putFloat(f);
                        case F16 -> b.putShort(Halfs.floatToF16(f));
                        case BF16 -> b.putShort(Halfs.floatToBf16(f));
                    }
                }
                out.write(b.array());
            }
        }
    }
}
