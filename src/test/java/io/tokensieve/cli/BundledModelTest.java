package io.tokensieve.cli;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.datasets.shapes.ShapesBench;
import io.tokensieve.datasets.shapes.ShapesWriter;
import io.tokensieve.datasets.shapes.Track;
import io.tokensieve.eval.run.EvalRunner;
import io.tokensieve.eval.run.RunSettings;
import io.tokensieve.train.FinalEvaluation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import io.tokensieve.datasets.mask.LabelMask;
import io.tokensieve.datasets.mask.MaskPng;
import io.tokensieve.datasets.shapes.ShapesPrompts;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed model still scores what its model card says: a small fixed slice of each track (the first
 * samples of the card's test split, seed 11) through loaders, runtime and scorers must not fall well below
 * the card's unpruned scores (three binomial standard errors of the slice, at least 10 points).
 */
class BundledModelTest {
    static final Path MODEL = Path.of("..", "models", "sieve-tiny");

    @TempDir
    Path tmp;

    @Test
    @SuppressWarnings("unchecked")
    void fixedSlicesScoreNearTheModelCard() throws Exception {
        assertTrue(Files.isRegularFile(MODEL.resolve("model.safetensors")), "the bundled model is missing at " + MODEL);
        JsonNode card = new ObjectMapper().readTree(MODEL.resolve(FinalEvaluation.RESULTS).toFile());
        Map<Track, Integer> slice = new LinkedHashMap<>();
        slice.put(Track.VQA, 60);
        slice.put(Track.POPE, 30);
        slice.put(Track.SEG, 20);
        slice.put(Track.ICL, 20);
        slice.put(Track.THREE_D, 20);
        StringBuilder report = new StringBuilder();
        boolean ok = true;
        try (VlmModel m = VlmModel.load(MODEL, Device.cpu())) {
            for (var e : slice.entrySet()) {
                String format = e.getKey().format();
                Path data = tmp.resolve(format);
                ShapesWriter.write(new ShapesWriter.Options(e.getKey(), e.getValue(), FinalEvaluation.TEST_SEED, data, null,
                        ShapesBench.DEFAULT_VIEWS, ShapesBench.DEFAULT_SHOTS));
                Map<String, Object> summary = new EvalRunner(m, new RunSettings(format + ":" + data, null, 0,
                        tmp.resolve("out-" + format), false, "official", 8, 0), s -> { }).run();
                Map<String, Object> metrics = (Map<String, Object>) summary.get("metrics");
                double got = FinalEvaluation.headlineOf(metrics);
                double want = card.get(format).get("none").get("headline").asDouble();
                int n = ((Number) summary.get("n")).intValue();
                double p = Math.max(0.05, Math.min(0.95, want / 100));
                double tolerance = Math.max(10, 300 * Math.sqrt(p * (1 - p) / n));
                boolean pass = got >= want - tolerance;
                ok &= pass;
                report.append(String.format("%s: %.1f on %d samples, card %.1f, tolerance %.1f%s%n", format, got, n, want,
                        tolerance, pass ? "" : "  <-- too low"));
            }
        }
        assertTrue(ok, report.toString());
    }

    @Test
    void askWritesTheMaskThatEvalScores() throws Exception {
        // two expressions of the test split: index 0 is a referring phrase, index 1 a reasoning sentence
        Path data = tmp.resolve("seg");
        ShapesWriter.write(new ShapesWriter.Options(Track.SEG, 2, FinalEvaluation.TEST_SEED, data, null,
                ShapesBench.DEFAULT_VIEWS, ShapesBench.DEFAULT_SHOTS));
        Cli.Result ev = Cli.run("eval", "--model", MODEL.toString(), "--dataset", "reasonseg:" + data, "--out",
                tmp.resolve("ev").toString(), "--json");
        assertEquals(0, ev.exit(), ev.err());
        boolean[] sentence = new boolean[2];
        for (int i = 0; i < 2; i++) {
            String id = String.format("shapes_%06d", i);
            JsonNode rec = new ObjectMapper().readTree(data.resolve("val").resolve(id + ".json").toFile());
            sentence[i] = rec.get("is_sentence").asBoolean();
            Path out = tmp.resolve(id + "-mask.png");
            Cli.Result r = Cli.run("ask", "--model", MODEL.toString(), "--image", data.resolve("val").resolve(id + ".png").toString(),
                    "--question", rec.get("text").get(0).asText(), "--mask-out", out.toString(), "--json");
            assertEquals(0, r.exit(), r.err());
            assertEquals(ShapesPrompts.segmentation(rec.get("text").get(0).asText(), sentence[i]), r.json().get("prompt").asText());
            LabelMask got = MaskPng.readBinary(out);
            LabelMask scored = MaskPng.readBinary(tmp.resolve("ev").resolve("masks").resolve(id + ".png"));
            assertTrue(java.util.Arrays.equals(scored.labels(), got.labels()), id + ": ask and eval masks differ");
            assertTrue(got.count(1) > 0, id + ": the bundled model finds something");
            assertEquals(got.count(1), r.json().get("mask_pixels").asInt());
            java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(out.toFile());
            int max = 0;
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    max = Math.max(max, img.getRaster().getSample(x, y, 0));
                }
            }
            assertEquals(255, max, "the written mask is visible (255 = object)");
        }
        assertTrue(!sentence[0] && sentence[1], "one phrase and one sentence");
    }

    @Test
    void theTokenProbeFindsColourInTheVisualTokensOfTheBundledModel() {
        Cli.Result r = Cli.run("train", "--probe-tokens", "6", "--out", MODEL.toString());
        assertEquals(0, r.exit(), r.err());
        // colour is carried by nearly every object patch (99% on 60 images, model card); a wrong word id, a wrong
        // patch order or a head read with the wrong shapes would fall towards chance (1 in 6)
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\| colour \\| (\\d+) \\| ([0-9.]+)% \\| ([0-9.]+)% \\|")
                .matcher(r.out());
        assertTrue(m.find(), r.out());
        assertTrue(Integer.parseInt(m.group(1)) > 20, r.out());
        assertTrue(Double.parseDouble(m.group(2)) > 80, "projected tokens: " + r.out());
        assertTrue(Double.parseDouble(m.group(3)) > 80, "patch-label head: " + r.out());
        assertTrue(r.out().contains("| shape |") && r.out().contains("| character |"), r.out());
        // every measured object owns at least one labelled patch
        java.util.regex.Matcher o = java.util.regex.Pattern.compile("\\| shape, per object \\| (\\d+) \\|").matcher(r.out());
        assertTrue(o.find(), r.out());
        int objects = Integer.parseInt(o.group(1));
        assertTrue(objects > 0 && objects <= Integer.parseInt(m.group(1)), r.out());
        // the views of 3D examples: colour reaches their tokens too (93% on 6 scenes, 96% on 60); labels taken from the
        // wrong view, or words from the wrong kind, would fall towards chance
        java.util.regex.Matcher v = java.util.regex.Pattern.compile("\\| colour, 3D views \\| (\\d+) \\| ([0-9.]+)% \\|")
                .matcher(r.out());
        assertTrue(v.find(), r.out());
        assertTrue(Integer.parseInt(v.group(1)) > 20 && Double.parseDouble(v.group(2)) > 70, r.out());
        assertTrue(r.out().contains("| 3D shape, 3D views | "), r.out());
        // the position read-out: fit on 3 images, measured on the object patches and object pairs of the other 3
        assertTrue(r.out().contains("fit on the 3 first held-out images, measured on the other 3"), r.out());
        java.util.regex.Matcher pos = java.util.regex.Pattern.compile(
                "\\| column, per object patch \\| (\\d+) \\| ([0-9.]+)% \\| ([0-9.]+)% \\| [0-9.]+% \\| [0-9.]+% \\|")
                .matcher(r.out());
        assertTrue(pos.find(), r.out());
        assertTrue(Integer.parseInt(pos.group(1)) > 0, r.out());
        assertTrue(Double.parseDouble(pos.group(2)) <= Double.parseDouble(pos.group(3)), "exact reads are within one: " + r.out());
        assertTrue(r.out().contains("| above/below of two objects | "), r.out());
        // the decoder read-out: the tokens before the first layer, then after each of the 8 layers; before the first
        // layer the hidden states are the projected tokens, so the read matches the tokens' (within one patch: the
        // decoder pass encodes the images in a batch)
        java.util.regex.Matcher dec = java.util.regex.Pattern.compile(
                "\\| (before layer 1 \\(tokens\\)|after layer \\d) \\| ([0-9.]+)% \\| ([0-9.]+)% \\|").matcher(r.out());
        List<Double> columns = new java.util.ArrayList<>();
        while (dec.find()) {
            columns.add(Double.parseDouble(dec.group(2)));
        }
        assertEquals(9, columns.size(), r.out());
        assertEquals(Double.parseDouble(pos.group(2)), columns.get(0), 100.0 / Integer.parseInt(pos.group(1)) + 1e-9,
                r.out());
        // the lookup probe: per layer a row for the input states and one per key-value head (8 layers, 2 kv heads);
        // colour is in the keys of the pointed layers (81% against a 4% share on 120 images, model card), so the
        // best query must find it there far above what uniform attention gets; wrong labels or a broken softmax would not
        java.util.regex.Matcher states = java.util.regex.Pattern.compile("\\| \\d \\| input states \\(any key\\) \\| ([0-9.]+)%")
                .matcher(r.out());
        int layers = 0;
        while (states.find()) {
            layers++;
        }
        assertEquals(8, layers, r.out());
        java.util.regex.Matcher kv = java.util.regex.Pattern.compile("\\| \\d \\| [01] \\| ([0-9.]+)% \\(([0-9.]+)%\\)")
                .matcher(r.out());
        int heads = 0;
        double bestColour = 0;
        while (kv.find()) {
            heads++;
            bestColour = Math.max(bestColour, Double.parseDouble(kv.group(1)));
        }
        assertEquals(16, heads, r.out());
        java.util.regex.Matcher share = java.util.regex.Pattern.compile("Targets cover ([0-9.]+)% \\(colour\\)").matcher(r.out());
        assertTrue(share.find(), r.out());
        assertTrue(bestColour > 4 * Double.parseDouble(share.group(1)), r.out());
        Cli.Result none = Cli.run("train", "--probe-tokens", "--out", tmp.toString());
        assertEquals(2, none.exit(), none.err());
        assertTrue(none.err().contains("no model in"), none.err());
    }

    @Test
    void theAttentionProbeFindsTheSupervisedLayersLookingAtTheNamedObjects() {
        Cli.Result r = Cli.run("train", "--probe-attention", "32", "--out", MODEL.toString());
        assertEquals(0, r.exit(), r.err());
        // rows: | group | n | target share % | L0 first/all | ... ; the pointing loss trains the first half of the heads of
        // the middle layers onto the named objects, so for questions naming a colour (the easy case, over 60% there on
        // the card's model) some layer must put several times uniform attention's mass on them; wrong target slots,
        // a wrong answer position or a wrong head order would give about the target share
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\| ([a-z ]+), colour named \\| (\\d+) \\| ([0-9.]+) \\|(.*)")
                .matcher(r.out());
        int rows = 0;
        while (m.find()) {
            rows++;
            double share = Double.parseDouble(m.group(3));
            double best = 0;
            for (String cell : m.group(4).split("\\|")) {
                if (!cell.isBlank()) {
                    best = Math.max(best, Double.parseDouble(cell.strip().split(" / ")[0]));
                }
            }
            assertTrue(best > 3 * share, m.group(1) + ": best first-half mass " + best + "% vs target share " + share + "%\n"
                    + r.out());
        }
        assertTrue(rows >= 3, r.out());
        // the 8 segmentation expressions (32 / 4) get rows of their own, measured at the [SEG] position
        java.util.regex.Matcher seg = java.util.regex.Pattern.compile("\\| segmentation, [a-z]+: at the \\[SEG\\] position \\| (\\d+) \\|")
                .matcher(r.out());
        int expressions = 0;
        while (seg.find()) {
            expressions += Integer.parseInt(seg.group(1));
        }
        assertTrue(expressions >= 6 && expressions <= 8, r.out());
        // a sentence that names another object is measured on the target and on that object, in three head ranges
        int anchored = 0;
        for (int i = 0; i < 8; i++) {
            anchored += io.tokensieve.datasets.shapes.ShapesBench.seg(777, i).anchorId() >= 0 ? 1 : 0;
        }
        int[] anchorRows = new int[3];
        String[] ranges = {"on the target: heads 0\\.\\.1", "on the object named: heads 2\\.\\.3",
            "on the object named: heads 4\\.\\.7 \\(not pointed\\)"};
        for (int k = 0; k < 3; k++) {
            java.util.regex.Matcher a = java.util.regex.Pattern.compile("\\| segmentation, reasoning naming another object: at "
                    + "the \\[SEG\\] position, " + ranges[k] + " \\| (\\d+) \\|").matcher(r.out());
            while (a.find()) {
                anchorRows[k] += Integer.parseInt(a.group(1));
            }
        }
        assertTrue(anchorRows[0] >= 1 && anchorRows[0] <= anchored && anchorRows[0] == anchorRows[1]
                && anchorRows[1] == anchorRows[2], java.util.Arrays.toString(anchorRows) + " of " + anchored + "\n" + r.out());
        // a comparison is also measured on each of its two objects alone, in the heads --point-split points there
        int[] single = new int[2];
        for (int o = 0; o < 2; o++) {
            java.util.regex.Matcher one = java.util.regex.Pattern.compile("\\| relative position, on the "
                    + (o == 0 ? "first object named: heads 0\\.\\.1" : "second object named: heads 2\\.\\.3") + " \\| (\\d+) \\|")
                    .matcher(r.out());
            while (one.find()) {
                single[o] += Integer.parseInt(one.group(1));
            }
        }
        assertTrue(single[0] >= 1 && single[0] == single[1], java.util.Arrays.toString(single) + "\n" + r.out());
        Cli.Result none = Cli.run("train", "--probe-attention", "--out", tmp.toString());
        assertEquals(2, none.exit(), none.err());
        assertTrue(none.err().contains("no model in"), none.err());
    }

    @Test
    void theAnswerProbeReadsTheQuestionsAxisAtTheAnswerPositionAndNothingFromAConstantState() {
        Cli.Result r = Cli.run("train", "--probe-answer", "120", "--out", MODEL.toString());
        assertEquals(0, r.exit(), r.err());
        // rows: | stage | 4 cells | ordered | answer | axis |; the first stage is the embedded last prompt token, the
        // same for every question, so its cell read-outs can only give the fitted half's most frequent cells
        int names = r.out().indexOf("Named-word read-out");
        assertTrue(names > 0, r.out());
        String positions = r.out().substring(0, names);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\| (embedding|after layer \\d) \\|(.*)").matcher(positions);
        java.util.List<String[]> rows = new java.util.ArrayList<>();
        while (m.find()) {
            rows.add(m.group(2).replace(" ", "").split("\\|"));
        }
        assertEquals(9, rows.size(), r.out()); // the embedding and 8 decoder layers
        java.util.regex.Matcher f = java.util.regex.Pattern.compile("\\| the fitted half's most frequent cell \\|(.*)")
                .matcher(positions);
        assertTrue(f.find(), r.out());
        String[] frequent = f.group(1).replace(" ", "").split("\\|");
        for (int k = 0; k < 4; k++) {
            assertEquals(frequent[k], rows.get(0)[k], "a constant state reads the most frequent cell\n" + r.out());
        }
        // the asked axis (left/right or above/below) is in the question's words: once a layer has read them, the
        // control finds it; a wrong answer position or misaligned labels would leave it near 50%
        assertTrue(Double.parseDouble(rows.get(8)[6]) >= 90, "axis after the last layer\n" + r.out());
        // the second table: the word a lookup needs; the embedded last prompt token again reads only the most
        // frequent word, and the colour that shape questions name is held once the layers have read the question
        java.util.regex.Matcher n = java.util.regex.Pattern.compile("\\| (embedding|after layer \\d) \\| ([\\d.]+) \\| ([\\d.]+) \\|")
                .matcher(r.out().substring(names));
        java.util.List<double[]> named = new java.util.ArrayList<>();
        while (n.find()) {
            named.add(new double[] {Double.parseDouble(n.group(2)), Double.parseDouble(n.group(3))});
        }
        assertEquals(9, named.size(), r.out());
        java.util.regex.Matcher nf = java.util.regex.Pattern.compile("\\| the fitted half's most frequent word \\| ([\\d.]+) \\| ([\\d.]+) \\|")
                .matcher(r.out());
        assertTrue(nf.find(), r.out());
        assertEquals(Double.parseDouble(nf.group(1)), named.get(0)[0], 1e-9, r.out());
        assertEquals(Double.parseDouble(nf.group(2)), named.get(0)[1], 1e-9, r.out());
        assertTrue(named.get(8)[1] >= 75, "the named colour after the last layer\n" + r.out());
        Cli.Result few = Cli.run("train", "--probe-answer", "3", "--out", MODEL.toString());
        assertEquals(2, few.exit(), few.err());
        assertTrue(few.err().contains("--probe-answer needs at least 4 questions"), few.err());
    }
}
