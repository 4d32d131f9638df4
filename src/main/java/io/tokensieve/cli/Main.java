package io.tokensieve.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code sieve} command line. */
@Command(name = "sieve", mixinStandardHelpOptions = true, version = "TokenSieve 0.1.0",
        description = "Visual-token pruning for LLaVA-architecture vision-language models.",
        subcommands = {
            PrunersCommand.class,
            InfoCommand.class,
            InitRandomCommand.class,
            AskCommand.class,
            ScoreCommand.class,
            EvalCommand.class,
            AnalyzeCommand.class,
            ShapesCommand.class,
            TrainCommand.class,
            SweepCommand.class,
            BenchCommand.class,
            DebugCommand.class,
            ServeCommand.class,
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this without exiting the JVM). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(Errors::handle);
        cl.setParameterExceptionHandler(Errors::handleParameter);
        return cl.execute(args);
    }
}
