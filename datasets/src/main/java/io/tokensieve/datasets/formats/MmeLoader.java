package io.tokensieve.datasets.formats;

import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.DatasetLoader;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.datasets.LoaderParams;
import io.tokensieve.datasets.Prompts;
import io.tokensieve.datasets.Sample;
import io.tokensieve.datasets.io.DataFiles;
import io.tokensieve.datasets.io.Records;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * MME: one folder per subtask under {@code <root>}, in either official layout: {@code <task>/images/*.jpg}
 * with {@code <task>/questions_answers_YN/<image stem>.txt}, or image and txt side by side in
 * {@code <task>/}. Each txt line is {@code question<TAB>answer} (Yes/No). A sample's id is
 * {@code <task>/<image file name>/<line index>}. Prompt: {@code prompt=llava} (default) swaps the
 * {@code " Please answer yes or no."} suffix for the short-answer instruction, {@code prompt=original}
 * keeps the question as written.
 */
public final class MmeLoader implements DatasetLoader {
    public static final List<String> PERCEPTION = List.of("existence", "count", "position", "color", "posters",
            "celebrity", "scene", "landmark", "artwork", "OCR");
    public static final List<String> COGNITION = List.of("commonsense_reasoning", "numerical_calculation",
            "text_translation", "code_reasoning");
    static final String YES_NO_SUFFIX = " Please answer yes or no.";

    @Override
    public String id() {
        return "mme";
    }

    @Override
    public String layout() {
        return "ROOT/<subtask>/images/*.jpg + ROOT/<subtask>/questions_answers_YN/*.txt, or image and txt side by side "
                + "in ROOT/<subtask>/; txt lines 'question<TAB>answer'";
    }

    @Override
    public List<String> parameters() {
        return List.of("prompt");
    }

    /** The canonical subtask name of a folder name (case-insensitive), or the folder name itself. */
    public static String canonicalTask(String folder) {
        for (String t : PERCEPTION) {
            if (t.equalsIgnoreCase(folder)) {
                return t;
            }
        }
        for (String t : COGNITION) {
            if (t.equalsIgnoreCase(folder)) {
                return t;
            }
        }
        return folder;
    }

    /** perception, cognition or other. */
    public static String category(String task) {
        return PERCEPTION.contains(task) ? "perception" : COGNITION.contains(task) ? "cognition" : "other";
    }

    @Override
    public Iterable<Sample> open(Path root, LoaderParams params, LoadOptions options) {
        boolean llava = params.choice("prompt", "llava", "llava", "original").equals("llava");
        List<QaFile> files = new ArrayList<>();
        for (Path dir : DataFiles.subfolders(root)) {
            String task = canonicalTask(dir.getFileName().toString());
            Path qa = dir.resolve("questions_answers_YN");
            boolean split = Files.isDirectory(qa);
            Path imageDir = split ? dir.resolve("images") : dir;
            for (Path txt : DataFiles.glob(split ? qa : dir, "*.txt")) {
                files.add(new QaFile(task, txt, imageDir));
            }
        }
        if (files.isEmpty()) {
            throw new DatasetException(root + ": no MME subtask folders with question files (" + layout() + ")");
        }
        files.sort((a, b) -> Integer.compare(order(a.task), order(b.task)));
        return () -> Records.of(files.iterator(), f -> read(f, llava, options), options);
    }

    private static int order(String task) {
        int p = PERCEPTION.indexOf(task);
        int c = COGNITION.indexOf(task);
        return p >= 0 ? p : c >= 0 ? PERCEPTION.size() + c : PERCEPTION.size() + COGNITION.size();
    }

    private List<Sample> read(QaFile f, boolean llava, LoadOptions options) {
        String stem = f.txt.getFileName().toString().replaceFirst("\\.txt$", "");
        List<String> lines;
        try {
            lines = Files.readAllLines(f.txt, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DatasetException(f.txt + ": cannot read (" + e.getMessage() + ")");
        }
        List<Path> candidates = List.of(f.imageDir.resolve(stem + ".jpg"), f.imageDir.resolve(stem + ".png"),
                f.imageDir.resolve(stem + ".jpeg"));
        Path image = DataFiles.firstExisting(candidates, false, null);
        if (options.checkImages() && !Files.isRegularFile(image)) {
            throw new DatasetException(f.txt + ": image not found (tried " + candidates.stream().map(Path::toString)
                    .toList() + ")");
        }
        List<Sample> out = new ArrayList<>();
        int index = 0;
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).replace("\r", "");
            if (line.isBlank()) {
                continue;
            }
            String[] parts = line.split("\t", -1);
            if (parts.length != 2) {
                throw new DatasetException(f.txt + ": line " + (n + 1) + ": expected 'question<TAB>answer', got "
                        + parts.length + " column(s)");
            }
            String answer = parts[1].strip();
            String lower = answer.toLowerCase(Locale.ROOT);
            if (!lower.equals("yes") && !lower.equals("no")) {
                throw new DatasetException(f.txt + ": line " + (n + 1) + ": answer must be Yes or No, got '" + answer + "'");
            }
            String question = parts[0];
            String imageName = image.getFileName().toString();
            String prompt = llava ? question.replace(YES_NO_SUFFIX, Prompts.SHORT_ANSWER) : question;
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("subtask", f.task);
            extra.put("category", category(f.task));
            extra.put("image_name", imageName);
            extra.put("question_index", index);
            out.add(new Sample(f.task + "/" + imageName + "/" + index, id(), List.of(image), question,
                    Prompts.withImages(1, prompt), List.of(answer), extra));
            index++;
        }
        return out;
    }

    private record QaFile(String task, Path txt, Path imageDir) {}
}
