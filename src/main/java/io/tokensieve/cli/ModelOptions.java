package io.tokensieve.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.tokensieve.core.runtime.VlmModel;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --model} and {@code --device}, shared by every command that runs a model. */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "DIR",
            description = "model folder in HF LLaVA format (default: the bundled models/sieve-tiny)")
    Path model;

    @Option(names = "--device", paramLabel = "cpu|gpu", defaultValue = "cpu",
            description = "where to run: cpu (default) or gpu (needs a CUDA libtorch, see README)")
    String device;

    /** The bundled model, found next to the launcher ({@code SIEVE_HOME}) or in the working folder. */
    static Path defaultModel() {
        String home = System.getenv("SIEVE_HOME");
        return Path.of(home == null ? "." : home).resolve("models").resolve("sieve-tiny");
    }

    Path modelDir() {
        return model == null ? defaultModel() : model;
    }

    Device resolveDevice() {
        return switch (device) {
            case "cpu" -> Device.cpu();
            case "gpu", "cuda" -> {
                int n = Engine.getInstance().getGpuCount();
                if (n == 0) {
                    throw new Errors.UserException("--device gpu: the PyTorch engine sees no CUDA device (the bundled "
                            + "natives are CPU-only; run with SIEVE_LIBTORCH pointing at a CUDA libtorch "
                            + Engine.getInstance().getVersion() + ", see README)");
                }
                yield Device.gpu();
            }
            default -> throw new Errors.UserException("--device must be cpu or gpu, got '" + device + "'");
        };
    }

    VlmModel load() {
        return VlmModel.load(modelDir(), resolveDevice());
    }
}
