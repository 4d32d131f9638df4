package io.tokensieve.cli;

import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.eval.debug.DebugReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code sieve debug}: which patches survived each stage for one input, and why, as an HTML page. */
@Command(name = "debug", mixinStandardHelpOptions = true,
        description = "Write an HTML report of what each pruner kept, its scores, tokens per layer and the answers.")
final class DebugCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--image", required = true, paramLabel = "FILE", description = "image (repeat for several)")
    List<Path> images;

    @Option(names = "--question", required = true, description = "the question")
    String question;

    @Option(names = "--pruner", paramLabel = "SPEC", description = "pruner spec (repeat to compare side by side)")
    List<String> pruners = new ArrayList<>();

    @Option(names = "--max-new-tokens", defaultValue = "16", description = "generated tokens at most")
    int maxNewTokens;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "reports/debug", description = "output folder (default ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() {
        if (question.isBlank()) {
            throw new Errors.UserException("--question is empty");
        }
        if (pruners.isEmpty()) {
            throw new Errors.UserException("give at least one --pruner SPEC to compare with the unpruned run");
        }
        // validate every spec before loading the model
        pruners.forEach(s -> io.tokensieve.core.prune.PrunerRegistry.defaultRegistry().create(s));
        try (VlmModel m = model.load()) {
            Path page = new DebugReport(m).write(images, question, pruners, maxNewTokens, out);
            System.out.println("wrote " + page.toAbsolutePath());
        }
        return 0;
    }
}
