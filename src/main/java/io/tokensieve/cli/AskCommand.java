package io.tokensieve.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.StepTrace;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.datasets.Prompts;
import io.tokensieve.datasets.mask.LabelMask;
import io.tokensieve.datasets.mask.MaskPng;
import io.tokensieve.eval.run.SampleInference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code sieve ask}: one question about one or more images, optionally pruned. */
@Command(name = "ask", mixinStandardHelpOptions = true, description = "Ask a question about one or more images.")
final class AskCommand implements Callable<Integer> {
    static final int MAX_QUESTION_CHARS = 8000;

    @Mixin
    ModelOptions model;

    @Option(names = "--image", required = true, paramLabel = "FILE", description = "image file (repeat for several)")
    List<Path> images;

    @Option(names = "--question", required = true, paramLabel = "TEXT", description = "the question")
    String question;

    @Option(names = "--pruner", paramLabel = "SPEC", description = "pruner spec, e.g. fastv:layer=2,keep=0.25 (default: none)")
    String pruner;

    @Option(names = "--max-new-tokens", defaultValue = "16", description = "generated tokens at most (default ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default); > 0 samples")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1.0", description = "nucleus sampling mass (with --temperature > 0)")
    double topP;

    @Option(names = "--seed", defaultValue = "0", description = "sampling seed")
    long seed;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Option(names = "--mask-out", paramLabel = "FILE", description = "segment instead of answering (models with a [SEG] "
            + "mask head): the question is a referring phrase (\"the red circle\") or, ending in '?', '.' or '!', an "
            + "instruction sentence, asked with LISA's wording; the answer is [SEG] and the mask is written to FILE as a "
            + "PNG the size of the image (255 = object)")
    Path maskOut;

    @Override
    public Integer call() {
        if (question.isBlank()) {
            throw new Errors.UserException("--question is empty");
        }
        if (question.length() > MAX_QUESTION_CHARS) {
            throw new Errors.UserException("--question is " + question.length() + " characters, limit " + MAX_QUESTION_CHARS);
        }
        GenerationConfig gen;
        try {
            gen = new GenerationConfig(maxNewTokens, temperature, topP, seed);
        } catch (IllegalArgumentException e) {
            throw new Errors.UserException(e.getMessage());
        }
        // validate the spec before loading anything
        ConfiguredPruner cp = pruner == null ? null : PrunerRegistry.defaultRegistry().create(pruner);
        try (VlmModel m = model.load()) {
            List<VisualInput> inputs = new ArrayList<>();
            for (Path p : images) {
                inputs.add(m.image(p));
            }
            if (maskOut != null) {
                return segment(m, inputs, cp);
            }
            long[] ids = m.promptIds(question, inputs.size());
            GenerationResult r = m.generate(List.of(VlmRequest.of(ids, inputs, cp)), gen).get(0);
            if (json) {
                System.out.println(Jsons.pretty(toJson(r, ids, cp, m)));
            } else {
                System.out.println(r.text());
                System.out.printf("(visual tokens per layer %s; prefill %.1f ms, decode %.1f ms)%n",
                        compact(r.visualTokensPerLayer()), r.timings().prefillMs(), r.timings().decodeMs());
            }
        }
        return 0;
    }

    /** A referring phrase or, ending in '?', '.' or '!', an instruction sentence: LISA's prompt for it. */
    static String segmentationPrompt(String text) {
        String t = text.strip();
        return t.endsWith("?") || t.endsWith(".") || t.endsWith("!") ? Prompts.segSentence(t) : Prompts.segPhrase(t);
    }

    private int segment(VlmModel m, List<VisualInput> inputs, ConfiguredPruner cp) {
        if (m.segTokenId() < 0) {
            throw new Errors.UserException(m.dir() + ": the model has no [SEG] mask head, so --mask-out cannot segment");
        }
        if (inputs.size() != 1) {
            throw new Errors.UserException("--mask-out segments one image, got " + inputs.size() + " --image options");
        }
        String prompt = segmentationPrompt(question);
        long[] ids = m.promptIdsForContent(prompt);
        SampleInference.Segmented seg = SampleInference.segment(m, ids, inputs, cp);
        if (seg.mask() == null) {
            throw new Errors.UserException(m.dir() + ": the model returned no mask for " + images.get(0));
        }
        LabelMask mask = seg.mask();
        GenerationResult r = seg.result();
        MaskPng.writeVisible(mask, maskOut);
        int on = mask.count(1);
        double share = 100.0 * on / ((long) mask.width() * mask.height());
        if (json) {
            ObjectNode o = toJson(r, ids, cp, m);
            o.put("prompt", prompt);
            o.put("mask", maskOut.toString());
            o.put("mask_pixels", on);
            o.put("mask_share_percent", share);
            System.out.println(Jsons.pretty(o));
        } else {
            System.out.printf("mask written to %s: %d of %d x %d pixels (%.1f%%)%n", maskOut, on, mask.width(), mask.height(),
                    share);
            System.out.printf("(visual tokens per layer %s; prefill %.1f ms)%n", compact(r.visualTokensPerLayer()),
                    r.timings().prefillMs());
        }
        return 0;
    }

    static ObjectNode toJson(GenerationResult r, long[] ids, ConfiguredPruner cp, VlmModel m) {
        ObjectNode o = Jsons.MAPPER.createObjectNode();
        o.put("answer", r.text());
        o.put("model", m.dir().toString());
        o.put("pruner", cp == null ? "none" : cp.spec());
        if (cp != null) {
            o.put("budget", cp.budget().label());
            o.put("budget_convention", cp.convention().label());
            o.put("position_policy", cp.positions().label());
        }
        ArrayNode in = o.putArray("input_ids");
        for (long id : ids) {
            in.add(id);
        }
        ArrayNode out = o.putArray("output_ids");
        for (long id : r.outputIds()) {
            out.add(id);
        }
        ArrayNode top = o.putArray("first_token_top5");
        for (GenerationResult.TokenLogprob t : r.firstTokenTop5()) {
            top.addObject().put("id", t.id()).put("logprob", t.logprob());
        }
        o.put("visual_tokens", r.visualTokens());
        o.put("visual_tokens_entering_llm", r.visualTokensEnteringLlm());
        o.put("equivalent_average_tokens", r.equivalentAverageTokens());
        ArrayNode per = o.putArray("visual_tokens_per_layer");
        for (int c : r.visualTokensPerLayer()) {
            per.add(c);
        }
        ArrayNode steps = o.putArray("steps");
        for (StepTrace s : r.steps()) {
            ObjectNode so = steps.addObject();
            so.put("hook", s.hook());
            so.put("name", s.name());
            ArrayNode k = so.putArray("kept");
            for (int v : s.kept()) {
                k.add(v);
            }
            if (s.reactivated().length > 0) {
                ArrayNode re = so.putArray("reactivated");
                for (int v : s.reactivated()) {
                    re.add(v);
                }
            }
        }
        o.put("kv_cache_bytes", r.kvCacheBytes());
        ObjectNode t = o.putObject("timings_ms");
        t.put("vision", r.timings().visionMs());
        t.put("projector", r.timings().projectorMs());
        t.put("prune", r.timings().pruneMs());
        t.put("prefill", r.timings().prefillMs());
        t.put("ttft", r.timings().ttftMs());
        t.put("decode", r.timings().decodeMs());
        if (r.maskLogits() != null) {
            o.put("mask_grid", r.maskGrid()[0] + "x" + r.maskGrid()[1]);
        }
        return o;
    }

    static String compact(int[] counts) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < counts.length) {
            int j = i;
            while (j + 1 < counts.length && counts[j + 1] == counts[i]) {
                j++;
            }
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(i == j ? "L" + i : "L" + i + "-" + j).append(": ").append(counts[i]);
            i = j + 1;
        }
        return sb.toString();
    }
}
