import ai.djl.Device;
import ai.djl.engine.Engine;
import io.tokensieve.core.image.PixelValues;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.RandomCheckpoint;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** One prepared GPU check: the tiny random LLaVA on CPU and on CUDA through the same libtorch, unpruned and FastV. */
public class GpuProbe {
    public static void main(String[] args) throws Exception {
        Engine e = Engine.getInstance();
        System.out.println("engine " + e.getEngineName() + " " + e.getVersion() + ", GPUs: " + e.getGpuCount());
        Path dir = Files.createTempDirectory("tiny");
        RandomCheckpoint.write(dir, 7, true);
        Device[] devices = e.getGpuCount() > 0 ? new Device[] {Device.cpu(), Device.gpu()} : new Device[] {Device.cpu()};
        float[][] first = new float[devices.length * 2][];
        for (int d = 0; d < devices.length; d++) {
            try (VlmModel m = VlmModel.load(dir, devices[d])) {
                int size = m.config().vision().imageSize();
                float[] chw = new float[3 * size * size];
                Random r = new Random(1);
                for (int i = 0; i < chw.length; i++) {
                    chw[i] = (float) r.nextGaussian();
                }
                VisualInput img = VisualInput.of("noise", new PixelValues(chw, size, size, size, size, 1, 0, 0));
                long[] prompt = m.promptIds("what is this ?", 1);
                for (int k = 0; k < 2; k++) {
                    var pruner = k == 0 ? null : PrunerRegistry.defaultRegistry().create("fastv:layer=2,keep=0.25");
                    GenerationResult g = null;
                    long best = Long.MAX_VALUE;
                    for (int rep = 0; rep < 5; rep++) {
                        long t0 = System.nanoTime();
                        g = m.generate(List.of(VlmRequest.of(prompt, List.of(img), pruner)), GenerationConfig.greedy(4)).get(0);
                        best = Math.min(best, System.nanoTime() - t0);
                    }
                    first[d * 2 + k] = g.firstTokenLogits();
                    System.out.printf("%s %s: output %s, visual tokens per layer %s, best of 5 %.1f ms%n", devices[d],
                            k == 0 ? "unpruned" : "fastv:layer=2,keep=0.25", Arrays.toString(g.outputIds()),
                            Arrays.toString(g.visualTokensPerLayer()), best / 1e6);
                }
            }
        }
        if (devices.length == 2) {
            for (int k = 0; k < 2; k++) {
                double max = 0;
                for (int i = 0; i < first[k].length; i++) {
                    max = Math.max(max, Math.abs(first[k][i] - first[2 + k][i]));
                }
                System.out.printf("%s: max |cpu - gpu| first-token logit %.3g%n", k == 0 ? "unpruned" : "fastv", max);
            }
        }
    }
}
