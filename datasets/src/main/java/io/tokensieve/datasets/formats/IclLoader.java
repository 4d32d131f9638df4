package io.tokensieve.datasets.formats;

import io.tokensieve.datasets.DatasetLoader;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.datasets.LoaderParams;
import io.tokensieve.datasets.Prompts;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.io.DataFiles;
import io.tokensieve.datasets.io.JsonRecords;
import io.tokensieve.datasets.io.Rec;
import io.tokensieve.datasets.io.Records;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TokenSieve's multi-image in-context format: a JSON-lines file (or the one {@code *.jsonl} in a folder),
 * each line {@code {"id", "instruction", "demos": [{"image", "question", "answer"}], "query": {"image",
 * "question"}, "answers": [...]}} with image paths relative to the file. The prompt follows
 * benchmarks-segmentation-icl.md B.3: the instruction line, then per demo
 * {@code <image>\nQuestion: {q}\nShort answer: {a}\n\n}, then the query ending in {@code Short answer:}.
 */
public final class IclLoader implements DatasetLoader {
    @Override
    public String id() {
        return "icl";
    }

    @Override
    public String layout() {
        return "ROOT.jsonl or ROOT/*.jsonl: {id, instruction, demos: [{image, question, "
                + "answer}], query: {image, question}, answers}";
    }

    @Override
    public List<String> parameters() {
        return List.of();
    }

    @Override
    public Iterable<Sample> open(Path root, LoaderParams params, LoadOptions options) {
        Path file = Files.isDirectory(root) ? DataFiles.single(root, "*.jsonl", null, "ICL JSON-lines file") : root;
        Path base = file.toAbsolutePath().getParent();
        return () -> Records.of(JsonRecords.lines(file), line -> {
            Rec r = line.json();
            r.requireObject();
            String id = r.id("id");
            Rec rec = r.named("id", id);
            String instruction = rec.optStr("instruction", "");
            List<Path> images = new ArrayList<>();
            List<String> demoQuestions = new ArrayList<>();
            List<String> demoAnswers = new ArrayList<>();
            int demos = rec.array("demos").size();
            for (int i = 0; i < demos; i++) {
                Rec d = rec.element("demos", i);
                images.add(image(base, d, options));
                demoQuestions.add(d.str("question"));
                demoAnswers.add(d.str("answer"));
            }
            Rec q = rec.child("query");
            images.add(image(base, q, options));
            String question = q.str("question");
            String prompt = Prompts.inContext(instruction, demoQuestions, demoAnswers, question);
            List<String> answers = rec.strings("answers");
            if (answers.isEmpty()) {
                throw rec.error("'answers' is empty");
            }
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("demos", demos);
            extra.put("demo_answers", demoAnswers);
            return List.of(new Sample(id, id(), images, question, prompt, answers, extra));
        }, options);
    }

    private static Path image(Path base, Rec r, LoadOptions options) {
        String rel = r.str("image");
        Path p = base.resolve(rel).normalize();
        if (options.checkImages() && !Files.isRegularFile(p)) {
            throw r.error("image not found (" + p + ")");
        }
        return p;
    }
}
