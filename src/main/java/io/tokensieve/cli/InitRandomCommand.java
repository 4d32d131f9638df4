package io.tokensieve.cli;

import io.tokensieve.core.runtime.RandomCheckpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code sieve init-random}: a tiny random-weight LLaVA checkpoint in HF format. */
@Command(name = "init-random", mixinStandardHelpOptions = true,
        description = "Write a tiny random-weight LLaVA checkpoint in HF format (config.json, model.safetensors, "
                + "tokenizer.json, preprocessor_config.json).")
final class InitRandomCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder")
    Path out;

    @Option(names = "--seed", defaultValue = "0", description = "weight seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--config", defaultValue = "tiny", paramLabel = "tiny|tiny-extras",
            description = "size preset: tiny (64 visual tokens, 4 layers) or tiny-extras (plus [SEG] mask head and 3D "
                    + "position embedding)")
    String config;

    @Override
    public Integer call() throws Exception {
        boolean extras = switch (config) {
            case "tiny" -> false;
            case "tiny-extras" -> true;
            default -> throw new Errors.UserException("--config must be tiny or tiny-extras, got '" + config + "'");
        };
        RandomCheckpoint.write(out, seed, extras);
        System.out.println("wrote a random " + config + " checkpoint (seed " + seed + ") to " + out);
        return 0;
    }
}
