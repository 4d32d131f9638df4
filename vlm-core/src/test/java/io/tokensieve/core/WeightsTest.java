package io.tokensieve.core;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import io.tokensieve.core.weights.CheckpointKeys;
import io.tokensieve.core.weights.DType;
import io.tokensieve.core.weights.Halfs;
import io.tokensieve.core.weights.ModelWeights;
import io.tokensieve.core.weights.SafetensorsReader;
import io.tokensieve.core.weights.SafetensorsWriter;
import io.tokensieve.core.weights.WeightsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Safetensors reading and writing, strict loading, dtypes, shards and both key layouts. */
class WeightsTest {
    @TempDir
    Path tmp;

    /** Copies the tiny checkpoint's side files and rewrites its tensors through {@code rewrite}. */
    private Path variant(String name, Rewriter rewrite) throws IOException {
        Path src = TestModels.tinyCheckpoint();
        Path dst = tmp.resolve(name);
        Files.createDirectories(dst);
        for (String f : List.of("config.json", "tokenizer.json", "preprocessor_config.json")) {
            Files.copy(src.resolve(f), dst.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        SafetensorsReader r = SafetensorsReader.openDir(src);
        SafetensorsWriter w = new SafetensorsWriter();
        rewrite.apply(r, w, dst);
        return dst;
    }

    interface Rewriter {
        void apply(SafetensorsReader r, SafetensorsWriter w, Path dst) throws IOException;
    }

    private static float[] firstLogits(Path dir, Path tmp) {
        try (VlmModel m = VlmModel.load(dir, Device.cpu())) {
            VisualInput img = m.image(TestModels.rgbPng(tmp, "w.png", 64, 64, 3));
            return m.generate(List.of(VlmRequest.of(m.promptIds("what is this ?", 1), List.of(img), null)),
                    GenerationConfig.greedy(1)).get(0).firstTokenLogits();
        }
    }

    @Test
    void halfConversionsRoundTrip() {
        for (float f : new float[] {0f, -0f, 1f, -2.5f, 65504f, 6.1e-5f, 5.96e-8f, 1234.5f}) {
            assertEquals(f, Halfs.f16ToFloat(Halfs.floatToF16(f)), Math.abs(f) * 1e-3 + 1e-7, "f16 " + f);
            assertEquals(f, Halfs.bf16ToFloat(Halfs.floatToBf16(f)), Math.abs(f) * 1e-2, "bf16 " + f);
        }
        assertEquals(Float.POSITIVE_INFINITY, Halfs.f16ToFloat(Halfs.floatToF16(1e6f)));
        assertTrue(Float.isNaN(Halfs.bf16ToFloat(Halfs.floatToBf16(Float.NaN))));
    }

    @Test
    void bf16AndF16CheckpointsLoadWidenedInJava() throws IOException {
        float[] want = firstLogits(TestModels.tinyCheckpoint(), tmp);
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            Path dir = variant("dt-" + dt, (r, w, dst) -> {
                for (var t : r.tensors().values()) {
                    w.put(t.name(), t.shape(), r.readFloats(t.name()));
                }
                w.optDType(dt).writeFile(dst.resolve("model.safetensors"));
            });
            assertEquals(dt, SafetensorsReader.openDir(dir).info(CheckpointKeys.embedTokens()).dtype());
            float[] got = firstLogits(dir, tmp);
            double maxDiff = 0;
            for (int i = 0; i < want.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
            }
            // rounded weights change the logits a little, never wildly
            assertTrue(maxDiff < 0.5, dt + " logits differ by " + maxDiff);
            assertTrue(maxDiff > 0 || dt == DType.F32, dt + " should differ from F32 at all");
        }
    }

    @Test
    void shardedCheckpointLoadsIdentically() throws IOException {
        Path dir = variant("sharded", (r, w, dst) -> {
            for (var t : r.tensors().values()) {
                w.put(t.name(), t.shape(), r.readFloats(t.name()));
            }
            w.writeSharded(dst, 200_000);
        });
        assertTrue(Files.exists(dir.resolve(SafetensorsReader.INDEX_FILE)));
        assertTrue(Files.list(dir).filter(p -> p.getFileName().toString().startsWith("model-0")).count() > 1);
        assertArrayEquals(firstLogits(TestModels.tinyCheckpoint(), tmp), firstLogits(dir, tmp));
    }

    @Test
    void legacyKeyLayoutLoadsIdentically() throws IOException {
        Path dir = variant("legacy", (r, w, dst) -> {
            for (var t : r.tensors().values()) {
                w.put(legacy(t.name()), t.shape(), r.readFloats(t.name()));
            }
            w.put("vision_tower.vision_model.embeddings.position_ids", new long[] {1, 65}, new float[65]);
            w.writeFile(dst.resolve("model.safetensors"));
        });
        assertTrue(SafetensorsReader.openDir(dir).has("language_model.model.embed_tokens.weight"));
        assertArrayEquals(firstLogits(TestModels.tinyCheckpoint(), tmp), firstLogits(dir, tmp));
    }

    private static String legacy(String canonical) {
        if (canonical.startsWith(CheckpointKeys.TEXT)) {
            return "language_model.model." + canonical.substring(CheckpointKeys.TEXT.length());
        }
        if (canonical.equals(CheckpointKeys.LM_HEAD)) {
            return "language_model.lm_head.weight";
        }
        return canonical.substring("model.".length());
    }

    @Test
    void strictLoadingListsEveryProblemAtOnce() throws IOException {
        Path dir = variant("broken", (r, w, dst) -> {
            for (var t : r.tensors().values()) {
                String k = t.name();
                if (k.equals(CheckpointKeys.finalNorm()) || k.equals(CheckpointKeys.classEmbedding())) {
                    continue; // two missing
                }
                if (k.equals(CheckpointKeys.textLayer(1, "mlp.up_proj.weight"))) {
                    w.put(k, new long[] {t.shape()[0], t.shape()[1] - 1}, new float[(int) (t.shape()[0] * (t.shape()[1] - 1))]);
                    continue; // one mis-shaped
                }
                w.put(k, t.shape(), r.readFloats(k));
            }
            w.put("model.language_model.extra_head.weight", new long[] {2}, new float[2]); // one unexpected
            w.writeFile(dst.resolve("model.safetensors"));
        });
        LlavaConfig c = LlavaConfig.load(dir);
        WeightsException e = assertThrows(WeightsException.class,
                () -> ModelWeights.load(dir, c, NDManager.newBaseManager()));
        String msg = e.getMessage();
        assertTrue(msg.contains("2 missing"), msg);
        assertTrue(msg.contains(CheckpointKeys.finalNorm()), msg);
        assertTrue(msg.contains(CheckpointKeys.classEmbedding()), msg);
        assertTrue(msg.contains("1 unexpected") && msg.contains("extra_head"), msg);
        assertTrue(msg.contains("1 mis-shaped") && msg.contains("layers.1.mlp.up_proj.weight"), msg);
    }

    @Test
    void corruptFilesFailWithTheirName() throws IOException {
        Path dir = tmp.resolve("corrupt");
        Files.createDirectories(dir);
        Files.write(dir.resolve("model.safetensors"), new byte[] {1, 2, 3});
        WeightsException e = assertThrows(WeightsException.class, () -> SafetensorsReader.openDir(dir));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
        Files.write(dir.resolve("model.safetensors"), new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', 'x'});
        assertThrows(WeightsException.class, () -> SafetensorsReader.openDir(dir));
        Path empty = tmp.resolve("empty");
        Files.createDirectories(empty);
        assertThrows(WeightsException.class, () -> SafetensorsReader.openDir(empty));
    }

    @Test
    void writerRoundTripsWithMetadataAndOrder() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().optMetadata("k", "v");
        w.put("b", new long[] {2, 2}, new float[] {1, 2, 3, 4});
        w.put("a", new long[] {3}, new float[] {-1, 0.5f, 7});
        Path f = tmp.resolve("x.safetensors");
        w.writeFile(f);
        SafetensorsReader r = SafetensorsReader.openFile(f);
        assertEquals(List.of("b", "a"), List.copyOf(r.tensors().keySet()));
        assertArrayEquals(new float[] {1, 2, 3, 4}, r.readFloats("b"));
        assertArrayEquals(new float[] {-1, 0.5f, 7}, r.readFloats("a"));
        byte[] bytes = Files.readAllBytes(f);
        long headerLen = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8, "header is padded to 8 bytes");
        assertEquals(8 + headerLen + 4 * 7, bytes.length);

        // the same tensors and metadata, the metadata given in another order: the same bytes
        SafetensorsWriter w2 = new SafetensorsWriter().optMetadata("z", "1").optMetadata("k", "v");
        SafetensorsWriter w3 = new SafetensorsWriter().optMetadata("k", "v").optMetadata("z", "1");
        for (SafetensorsWriter x : List.of(w2, w3)) {
            x.put("b", new long[] {2, 2}, new float[] {1, 2, 3, 4});
        }
        w2.writeFile(tmp.resolve("y.safetensors"));
        w3.writeFile(tmp.resolve("z.safetensors"));
        assertArrayEquals(Files.readAllBytes(tmp.resolve("y.safetensors")), Files.readAllBytes(tmp.resolve("z.safetensors")));
    }
}
