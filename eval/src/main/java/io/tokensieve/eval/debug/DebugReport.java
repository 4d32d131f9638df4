package io.tokensieve.eval.debug;

import io.tokensieve.core.image.ImageDecoder;
import io.tokensieve.core.image.PixelValues;
import io.tokensieve.core.image.RgbImage;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.StepTrace;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The one-image debugging report: runs a question unpruned and under each pruner, then writes a
 * self-contained HTML page (images embedded) plus the PNGs: every image with its kept and dropped patches
 * after each pruning step, the pruner's per-token scores as heat maps, live tokens per layer, the answers
 * with and without pruning, and the timings. Several pruners appear side by side.
 */
public final class DebugReport {
    public static final String PAGE = "index.html";
    private static final int VIEW = 336;

    /** One run: its label, spec and result. */
    public record Run(String label, ConfiguredPruner pruner, GenerationResult result) {}

    private final VlmModel model;

    public DebugReport(VlmModel model) {
        this.model = model;
    }

    /** Runs everything and writes {@code out/index.html} and its PNGs; returns the page. */
    public Path write(List<Path> imageFiles, String question, List<String> prunerSpecs, int maxNewTokens, Path out) {
        List<ConfiguredPruner> pruners = new ArrayList<>();
        for (String s : prunerSpecs) {
            pruners.add(PrunerRegistry.defaultRegistry().create(s));
        }
        List<VisualInput> inputs = new ArrayList<>();
        List<RgbImage> sources = new ArrayList<>();
        for (Path p : imageFiles) {
            RgbImage rgb = ImageDecoder.decode(p);
            sources.add(rgb);
            inputs.add(VisualInput.of(p.toString(), model.processor().preprocess(rgb)));
        }
        long[] ids = model.promptIds(question, inputs.size());
        GenerationConfig gen = GenerationConfig.greedy(maxNewTokens);
        List<Run> runs = new ArrayList<>();
        runs.add(new Run("unpruned", null, model.generate(List.of(VlmRequest.of(ids, inputs, null)), gen).get(0)));
        for (ConfiguredPruner p : pruners) {
            runs.add(new Run(p.spec(), p, model.generate(List.of(VlmRequest.of(ids, inputs, p)), gen).get(0)));
        }
        try {
            Files.createDirectories(out);
            return page(out, imageFiles, question, sources, inputs, runs);
        } catch (IOException e) {
            throw new UncheckedIOException(out + ": cannot write the report", e);
        }
    }

    private Path page(Path out, List<Path> files, String question, List<RgbImage> sources, List<VisualInput> inputs,
                      List<Run> runs) throws IOException {
        int grid = model.config().vision().gridSize();
        int patch = model.config().vision().patchSize();
        int perImage = model.config().tokensPerImage();
        boolean cls = !model.config().dropsCls();
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>TokenSieve debug: ")
                .append(esc(question)).append("</title>\n<style>")
                .append("body{font-family:sans-serif;margin:20px;color:#222} table{border-collapse:collapse}"
                        + " td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;font-size:13px}"
                        + " .runs{display:flex;gap:18px;align-items:flex-start;flex-wrap:nowrap;overflow-x:auto}"
                        + " .run{border:1px solid #bbb;padding:10px;border-radius:6px;min-width:360px}"
                        + " figure{margin:6px 0} figcaption{font-size:12px;color:#555} h2{margin-top:28px}"
                        + " .answer{font-size:16px;font-weight:bold} img{display:block}")
                .append("</style></head><body>\n");
        h.append("<h1>TokenSieve debug report</h1>\n<p><b>Model</b> ").append(esc(model.dir().toString()))
                .append(" &middot; <b>question</b> ").append(esc(question)).append(" &middot; <b>images</b> ");
        for (int i = 0; i < files.size(); i++) {
            h.append(i > 0 ? ", " : "").append(esc(files.get(i).getFileName().toString()));
        }
        h.append(" &middot; ").append(perImage).append(" visual tokens per image (").append(grid).append("x").append(grid)
                .append(" patches)</p>\n");

        // answers and costs, all runs
        h.append("<h2>Answers</h2>\n<table><tr><th>run</th><th>answer</th><th>tokens entering LLM</th>"
                + "<th>equivalent avg tokens</th><th>vision ms</th><th>projector ms</th><th>prune ms</th><th>prefill ms</th>"
                + "<th>ttft ms</th><th>decode ms</th><th>KV cache</th></tr>\n");
        for (Run r : runs) {
            GenerationResult g = r.result();
            h.append("<tr><td>").append(esc(r.label())).append("</td><td class=\"answer\">").append(esc(g.text()))
                    .append("</td><td>").append(g.visualTokensEnteringLlm()).append(" / ").append(g.visualTokens())
                    .append("</td><td>").append(f1(g.equivalentAverageTokens())).append("</td><td>")
                    .append(f1(g.timings().visionMs())).append("</td><td>").append(f1(g.timings().projectorMs()))
                    .append("</td><td>").append(f1(g.timings().pruneMs())).append("</td><td>")
                    .append(f1(g.timings().prefillMs())).append("</td><td>").append(f1(g.timings().ttftMs()))
                    .append("</td><td>").append(f1(g.timings().decodeMs())).append("</td><td>")
                    .append(g.kvCacheBytes() / 1024).append(" KiB</td></tr>\n");
        }
        h.append("</table>\n");

        // one column per run: steps with kept/dropped overlays and score heat maps, tokens per layer
        h.append("<h2>Kept and dropped patches, scores, tokens per layer</h2>\n<div class=\"runs\">\n");
        int runIndex = 0;
        for (Run r : runs) {
            GenerationResult g = r.result();
            h.append("<div class=\"run\"><h3>").append(esc(r.label())).append("</h3>\n<p>answer: <b>")
                    .append(esc(g.text())).append("</b></p>\n");
            String bars = "run" + runIndex + "_tokens_per_layer.png";
            writePng(tokensPerLayer(g, perImage * inputs.size()), out.resolve(bars));
            h.append(figure(out.resolve(bars), "live visual tokens entering each decoder layer", "tokens-per-layer"));
            if (g.steps().isEmpty()) {
                for (int i = 0; i < inputs.size(); i++) {
                    String name = "run" + runIndex + "_image" + i + "_all.png";
                    writePng(overlay(sources.get(i), inputs.get(i).pixels(), null, null, null, i, perImage, grid, patch, cls),
                            out.resolve(name));
                    h.append(figure(out.resolve(name), "image " + i + ": every patch enters the LLM", "overlay"));
                }
            }
            int stepIndex = 0;
            for (StepTrace st : g.steps()) {
                Set<Integer> kept = new HashSet<>();
                for (int v : st.kept()) {
                    kept.add(v);
                }
                Set<Integer> re = new HashSet<>();
                for (int v : st.reactivated()) {
                    re.add(v);
                }
                for (int i = 0; i < inputs.size(); i++) {
                    String name = "run" + runIndex + "_step" + stepIndex + "_image" + i + "_kept.png";
                    writePng(overlay(sources.get(i), inputs.get(i).pixels(), kept, re, null, i, perImage, grid, patch, cls),
                            out.resolve(name));
                    h.append(figure(out.resolve(name), String.format(Locale.ROOT, "%s %s, image %d: %d of %d kept%s",
                            st.hook(), st.name(), i, countIn(kept, i, perImage), perImage,
                            re.isEmpty() ? "" : ", " + countIn(re, i, perImage) + " brought back (green)"), "overlay"));
                    if (st.scores() != null) {
                        String hm = "run" + runIndex + "_step" + stepIndex + "_image" + i + "_scores.png";
                        writePng(overlay(sources.get(i), inputs.get(i).pixels(), null, null, st.scores(), i, perImage, grid,
                                patch, cls), out.resolve(hm));
                        h.append(figure(out.resolve(hm), st.hook() + " " + st.name() + ", image " + i
                                + ": the pruner's scores (bright = high, grey = not scored)", "heatmap"));
                    }
                }
                stepIndex++;
            }
            h.append("</div>\n");
            runIndex++;
        }
        h.append("</div>\n<p style=\"font-size:12px;color:#777\">Dropped patches are darkened with a red tint; kept patches "
                + "are clear; patches brought back by a later step have a green frame. Scores are min-max normalised per "
                + "image.</p>\n</body></html>\n");
        Path page = out.resolve(PAGE);
        Files.writeString(page, h.toString(), StandardCharsets.UTF_8);
        return page;
    }

    private static int countIn(Set<Integer> set, int image, int perImage) {
        return (int) set.stream().filter(v -> v / perImage == image).count();
    }

    private static String figure(Path png, String caption, String kind) throws IOException {
        String b64 = Base64.getEncoder().encodeToString(Files.readAllBytes(png));
        return "<figure><img class=\"" + kind + "\" alt=\"" + esc(caption) + "\" data-file=\"" + png.getFileName()
                + "\" src=\"data:image/png;base64," + b64 + "\"><figcaption>" + esc(caption) + "</figcaption></figure>\n";
    }

    /**
     * The source image scaled to the view size with, per patch of image {@code image}: dropped patches tinted
     * (kept != null), reactivated ones framed, or a heat map of {@code scores}.
     */
    static BufferedImage overlay(RgbImage src, PixelValues pv, Set<Integer> kept, Set<Integer> reactivated, float[] scores,
                                 int image, int perImage, int grid, int patch, boolean cls) {
        double scale = (double) VIEW / Math.max(src.width(), src.height());
        int w = (int) Math.round(src.width() * scale);
        int h = (int) Math.round(src.height() * scale);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int sx = Math.min(src.width() - 1, (int) (x / scale));
                int sy = Math.min(src.height() - 1, (int) (y / scale));
                int r = clamp(src.get(sx, sy, 0));
                int g = clamp(src.get(sx, sy, 1));
                int b = clamp(src.get(sx, sy, 2));
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        int first = image * perImage + (cls ? 1 : 0);
        float lo = Float.MAX_VALUE;
        float hi = -Float.MAX_VALUE;
        if (scores != null) {
            for (int p = 0; p < grid * grid; p++) {
                float s = scores[first + p];
                if (!Float.isNaN(s)) {
                    lo = Math.min(lo, s);
                    hi = Math.max(hi, s);
                }
            }
        }
        for (int p = 0; p < grid * grid; p++) {
            int v = first + p;
            int row = p / grid;
            int col = p % grid;
            double[] box = pv.toSource(col * patch, row * patch, (col + 1) * patch, (row + 1) * patch);
            int x0 = (int) Math.round(box[0] * scale);
            int y0 = (int) Math.round(box[1] * scale);
            int x1 = (int) Math.round(box[2] * scale);
            int y1 = (int) Math.round(box[3] * scale);
            if (scores != null) {
                float s = scores[v];
                g.setColor(Float.isNaN(s) ? new Color(128, 128, 128, 170) : heat(hi > lo ? (s - lo) / (hi - lo) : 1f, 170));
                g.fillRect(x0, y0, x1 - x0, y1 - y0);
            } else if (kept != null) {
                if (!kept.contains(v)) {
                    g.setColor(new Color(90, 0, 0, 175));
                    g.fillRect(x0, y0, x1 - x0, y1 - y0);
                } else if (reactivated != null && reactivated.contains(v)) {
                    g.setColor(new Color(0, 220, 60));
                    g.setStroke(new BasicStroke(2f));
                    g.drawRect(x0 + 1, y0 + 1, x1 - x0 - 3, y1 - y0 - 3);
                }
            }
            g.setColor(new Color(255, 255, 255, 60));
            g.setStroke(new BasicStroke(1f));
            g.drawRect(x0, y0, x1 - x0, y1 - y0);
        }
        g.dispose();
        return img;
    }

    /** A viridis-like ramp from dark blue (0) to yellow (1). */
    static Color heat(float t, int alpha) {
        float[][] stops = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
        float x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
        int i = Math.min(stops.length - 2, (int) x);
        float f = x - i;
        int r = Math.round(stops[i][0] + f * (stops[i + 1][0] - stops[i][0]));
        int gg = Math.round(stops[i][1] + f * (stops[i + 1][1] - stops[i][1]));
        int b = Math.round(stops[i][2] + f * (stops[i + 1][2] - stops[i][2]));
        return new Color(r, gg, b, alpha);
    }

    /** A bar per decoder layer: live visual tokens entering it. */
    static BufferedImage tokensPerLayer(GenerationResult g, int total) {
        int[] c = g.visualTokensPerLayer();
        int w = 340;
        int h = 150;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D gr = img.createGraphics();
        gr.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        gr.setColor(Color.WHITE);
        gr.fillRect(0, 0, w, h);
        gr.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        int left = 30;
        int bottom = 20;
        int plotH = h - bottom - 12;
        double bw = (double) (w - left - 6) / Math.max(1, c.length);
        for (int l = 0; l < c.length; l++) {
            int bh = (int) Math.round((double) c[l] / Math.max(1, total) * plotH);
            int x = (int) (left + l * bw);
            gr.setColor(new Color(0x1f77b4));
            gr.fillRect(x + 1, h - bottom - bh, (int) Math.max(1, bw - 2), bh);
            gr.setColor(Color.DARK_GRAY);
            if (c.length <= 16 || l % 4 == 0) {
                gr.drawString(String.valueOf(l), x + (int) (bw / 2) - 3, h - 6);
                gr.drawString(String.valueOf(c[l]), x + 2, h - bottom - bh - 2);
            }
        }
        gr.drawLine(left, h - bottom, w - 4, h - bottom);
        gr.drawString(String.valueOf(total), 2, 12);
        gr.drawString("0", 2, h - bottom);
        gr.dispose();
        return img;
    }

    private static void writePng(BufferedImage img, Path file) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        ImageIO.write(img, "png", bos);
        Files.write(file, bos.toByteArray());
    }

    private static int clamp(float v) {
        return Math.max(0, Math.min(255, Math.round(v)));
    }

    private static String f1(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
