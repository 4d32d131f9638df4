package io.tokensieve.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.tokensieve.core.config.LlavaConfig;
import io.tokensieve.core.model.LlavaForConditionalGeneration;
import io.tokensieve.core.text.WordLevelTokenizer;
import io.tokensieve.core.train.AdamW;
import io.tokensieve.core.train.AuxPatchHead;
import io.tokensieve.core.train.TrainExample;
import io.tokensieve.core.train.TrainingForward;
import io.tokensieve.core.weights.ModelWeights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a training step costs ({@code sieve train --time-steps}): the full recipe's forward and backward pass, with the
 * run's losses, on batches of its final mixture, timed with the decoder's length groups on
 * ({@link TrainingForward#withLengthGroups}) and off (every sequence padded to the batch's longest), the two taking
 * turns on each batch so that both see the same machine state. No weight changes, so both time the same model.
 */
public final class StepTimer {
    /** Per batch: milliseconds and decoder rows with length groups, and padded to the longest. */
    public record Result(String preset, int batchSize, double[] groupedMs, double[] paddedMs, long[] groupedRows,
                         long[] paddedRows) {
        public int batches() {
            return groupedMs.length;
        }
    }

    private StepTimer() {
    }

    /** Times {@code batches} batches (plus one untimed warm-up) of settings {@code s} on the model in {@code dir}. */
    public static Result run(TrainSettings s, Path dir, int batches) throws IOException {
        WordLevelTokenizer wl = Trainer.tokenizer();
        LlavaConfig config = s.modelConfig(wl.size(), wl.id(WordLevelTokenizer.IMAGE), wl.id(WordLevelTokenizer.SEG),
                wl.id(WordLevelTokenizer.BOS), wl.id(WordLevelTokenizer.EOS), wl.id(WordLevelTokenizer.PAD));
        try (ShapesTrainData data = Trainer.trainData(s, wl); NDManager base = NDManager.newBaseManager()) {
            ModelWeights weights;
            try {
                weights = Trainer.initialWeights(dir, config, s.initSeed(), base);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(dir + ": its configuration differs from preset " + s.preset()
                        + "'s; time it with the --preset it was trained with", e);
            }
            weights.setTrainable(true);
            LlavaForConditionalGeneration model = new LlavaForConditionalGeneration(config, weights);
            AuxPatchHead aux = s.auxWeight() > 0 ? Trainer.auxHead(s, base) : null;
            AuxPatchHead readout = Trainer.readoutHead(s, base);
            AuxPatchHead lookup = Trainer.lookupQueries(s, base);
            Map<String, NDArray> params = new LinkedHashMap<>(weights.all());
            if (aux != null) {
                params.putAll(aux.parameters());
            }
            if (readout != null) {
                params.putAll(readout.parameters());
            }
            if (lookup != null) {
                params.putAll(lookup.parameters());
            }
            TrainingForward forward = Trainer.trainingForward(s, model, aux, readout, lookup, wl);
            double[] grouped = new double[batches];
            double[] padded = new double[batches];
            long[] groupedRows = new long[batches];
            long[] paddedRows = new long[batches];
            for (int k = -1; k < batches; k++) {
                // the last steps' batches: the final mixture, with its multi-image examples
                List<TrainExample> batch = data.batch(s.steps() - 1 - (k < 0 ? batches : k));
                boolean groupedFirst = k % 2 == 0;
                for (int turn = 0; turn < 2; turn++) {
                    boolean groups = groupedFirst == (turn == 0);
                    double ms = time(forward.withLengthGroups(groups), batch, params, base);
                    if (k >= 0) {
                        (groups ? grouped : padded)[k] = ms;
                    }
                }
                if (k >= 0) {
                    long[] rows = forward.decoderRows(batch);
                    groupedRows[k] = rows[0];
                    paddedRows[k] = rows[1];
                }
            }
            forward.withLengthGroups(true);
            return new Result(s.preset(), s.batchSize(), grouped, padded, groupedRows, paddedRows);
        }
    }

    /** Milliseconds of one forward and backward pass; the gradients are cleared afterwards (untimed). */
    private static double time(TrainingForward forward, List<TrainExample> batch, Map<String, NDArray> params,
                               NDManager base) {
        try (NDManager sub = base.newSubManager()) {
            long t0 = System.nanoTime();
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                TrainingForward.Losses l = forward.forward(sub, batch);
                gc.backward(l.total());
            }
            double ms = (System.nanoTime() - t0) / 1e6;
            AdamW.zeroGradients(params, sub);
            return ms;
        }
    }

    static double median(double[] x) {
        double[] c = x.clone();
        Arrays.sort(c);
        int n = c.length;
        return n % 2 == 1 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    }

    /** The printed table: medians over batches, and the median of the per-batch ratios. */
    public static String table(Result r) {
        int n = r.batches();
        double[] ratio = new double[n];
        double[] rowRatio = new double[n];
        for (int k = 0; k < n; k++) {
            ratio[k] = r.paddedMs()[k] / r.groupedMs()[k];
            rowRatio[k] = (double) r.paddedRows()[k] / r.groupedRows()[k];
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "Training step (forward + backward, no optimiser step) of %s: %d batches of %d "
                + "from the final mixture, each timed both ways in turn, %d intra-op threads%n%n", r.preset(), n,
                r.batchSize(), threads()));
        sb.append("| decoder layout | decoder rows, median | ms per step, median |\n|---|---|---|\n");
        sb.append(String.format(Locale.ROOT, "| every sequence padded to the batch's longest | %.0f | %.0f |%n",
                median(toDouble(r.paddedRows())), median(r.paddedMs())));
        sb.append(String.format(Locale.ROOT, "| length groups (the default) | %.0f | %.0f |%n",
                median(toDouble(r.groupedRows())), median(r.groupedMs())));
        sb.append(String.format(Locale.ROOT, "%nPadded / grouped, median of the per-batch ratios: time %.2fx, rows %.2fx%n",
                median(ratio), median(rowRatio)));
        return sb.toString();
    }

    private static int threads() {
        return Integer.getInteger("ai.djl.pytorch.num_threads", Runtime.getRuntime().availableProcessors());
    }

    private static double[] toDouble(long[] x) {
        return Arrays.stream(x).asDoubleStream().toArray();
    }
}
