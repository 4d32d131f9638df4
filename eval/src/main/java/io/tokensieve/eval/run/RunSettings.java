package io.tokensieve.eval.run;

import io.tokensieve.eval.EvalException;

import java.nio.file.Path;

/**
 * Everything one evaluation run needs besides the loaded model.
 *
 * @param dataset dataset spec {@code FORMAT:PATH[?key=value&...]}
 * @param pruner pruner spec, or null for the unpruned model
 * @param limit samples to run at most (0 = all)
 * @param out folder for {@code records.jsonl}, {@code summary.json} and segmentation masks
 * @param skipBad report and skip bad records and undecodable images instead of stopping
 * @param scorerVariant {@code official} or {@code lmms}
 * @param maxNewTokens generated tokens at most per answer
 * @param seed decoding seed, recorded in the summary
 */
public record RunSettings(String dataset, String pruner, int limit, Path out, boolean skipBad, String scorerVariant,
                          int maxNewTokens, long seed) {
    public RunSettings {
        if (limit < 0) {
            throw new EvalException("--limit must be >= 0, got " + limit);
        }
        if (maxNewTokens < 1) {
            throw new EvalException("--max-new-tokens must be >= 1, got " + maxNewTokens);
        }
    }
}
