package io.tokensieve.cli;

import io.tokensieve.core.config.ConfigException;
import io.tokensieve.core.image.ImageException;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.weights.WeightsException;
import io.tokensieve.datasets.DatasetException;
import io.tokensieve.eval.EvalException;
import picocli.CommandLine;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Turns failures into one-line messages on stderr and non-zero exit codes: 2 for bad usage or bad input,
 * 1 for anything unexpected (with the exception class, so a bug is still recognisable).
 */
final class Errors {
    static final int BAD_INPUT = 2;
    static final int INTERNAL = 1;

    private Errors() {}

    /** Exceptions whose message is a complete, user-facing explanation. */
    static boolean isUserError(Throwable e) {
        return e instanceof ConfigException || e instanceof ImageException || e instanceof PruneException
                || e instanceof WeightsException || e instanceof IllegalArgumentException || e instanceof UserException
                || e instanceof IOException || e instanceof UncheckedIOException || e instanceof DatasetException
                || e instanceof EvalException;
    }

    static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        String cmd = cl.getCommandName();
        Throwable t = e;
        while (t.getCause() != null && !isUserError(t) && t != t.getCause()) {
            t = t.getCause();
        }
        if (isUserError(t)) {
            String msg = t.getMessage();
            if (t instanceof java.nio.file.NoSuchFileException) {
                msg = t.getMessage() + ": file not found";
            }
            cl.getErr().println("sieve " + cmd + ": error: " + msg);
            return BAD_INPUT;
        }
        cl.getErr().println("sieve " + cmd + ": internal error: " + e);
        if (System.getenv("SIEVE_DEBUG") != null) {
            e.printStackTrace(cl.getErr());
        }
        return INTERNAL;
    }

    static int handleParameter(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        cl.getErr().println("sieve " + cl.getCommandName() + ": error: " + e.getMessage());
        cl.getErr().println("Try 'sieve " + cl.getCommandName() + " --help' for usage.");
        return BAD_INPUT;
    }

    /** A user-facing error raised by a command. */
    static final class UserException extends RuntimeException {
        UserException(String message) {
            super(message);
        }
    }
}
