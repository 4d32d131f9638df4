package io.tokensieve.eval.sweep;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small line chart written as PNG with Java2D: one series per pruner, points joined in x order, optional
 * vertical error bars, axes with ticks and a legend. Enough for score-vs-tokens and score-vs-time plots.
 */
public final class Plot {
    /** One point; {@code err} is half the error bar (0 for none). */
    public record Pt(double x, double y, double err) {}

    /** A named series. */
    public record Series(String name, List<Pt> points) {}

    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e), new Color(0x9467bd),
        new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf),
        new Color(0x000000), new Color(0xaec7e8), new Color(0xff9896), new Color(0x98df8a), new Color(0xc5b0d5)};

    private Plot() {}

    public static void write(Path file, String title, String xLabel, String yLabel, List<Series> series) {
        int w = 900;
        int h = 560;
        int left = 70;
        int right = 210;
        int top = 40;
        int bottom = 55;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        double xmin = Double.MAX_VALUE;
        double xmax = -Double.MAX_VALUE;
        double ymin = Double.MAX_VALUE;
        double ymax = -Double.MAX_VALUE;
        for (Series s : series) {
            for (Pt p : s.points()) {
                if (!Double.isFinite(p.x()) || !Double.isFinite(p.y())) {
                    continue;
                }
                xmin = Math.min(xmin, p.x());
                xmax = Math.max(xmax, p.x());
                ymin = Math.min(ymin, p.y() - p.err());
                ymax = Math.max(ymax, p.y() + p.err());
            }
        }
        if (xmin > xmax) {
            xmin = 0;
            xmax = 1;
            ymin = 0;
            ymax = 1;
        }
        if (xmax - xmin < 1e-9) {
            xmin -= 1;
            xmax += 1;
        }
        ymin = Math.min(ymin, 0);
        if (ymax - ymin < 1e-9) {
            ymax = ymin + 1;
        }
        double padX = (xmax - xmin) * 0.05;
        xmin -= padX;
        xmax += padX;
        ymax += (ymax - ymin) * 0.05;
        int pw = w - left - right;
        int ph = h - top - bottom;
        final double fx0 = xmin;
        final double fx1 = xmax;
        final double fy0 = ymin;
        final double fy1 = ymax;
        java.util.function.DoubleUnaryOperator sx = x -> left + (x - fx0) / (fx1 - fx0) * pw;
        java.util.function.DoubleUnaryOperator sy = y -> top + ph - (y - fy0) / (fy1 - fy0) * ph;

        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        g.setColor(new Color(0xeeeeee));
        for (double t : ticks(ymin, ymax)) {
            int y = (int) sy.applyAsDouble(t);
            g.drawLine(left, y, left + pw, y);
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, pw, ph);
        for (double t : ticks(xmin, xmax)) {
            int x = (int) sx.applyAsDouble(t);
            g.drawLine(x, top + ph, x, top + ph + 5);
            String s = fmt(t);
            g.drawString(s, x - fm.stringWidth(s) / 2, top + ph + 18);
        }
        for (double t : ticks(ymin, ymax)) {
            int y = (int) sy.applyAsDouble(t);
            g.drawLine(left - 5, y, left, y);
            String s = fmt(t);
            g.drawString(s, left - 8 - fm.stringWidth(s), y + 4);
        }
        g.drawString(xLabel, left + pw / 2 - fm.stringWidth(xLabel) / 2, h - 15);
        Graphics2D gy = (Graphics2D) g.create();
        gy.rotate(-Math.PI / 2);
        gy.drawString(yLabel, -(top + ph / 2) - fm.stringWidth(yLabel) / 2, 18);
        gy.dispose();
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, left, 25);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));

        int ly = top + 10;
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            Color c = PALETTE[i % PALETTE.length];
            g.setColor(c);
            g.setStroke(new BasicStroke(2f));
            List<Pt> pts = new ArrayList<>(s.points());
            pts.removeIf(p -> !Double.isFinite(p.x()) || !Double.isFinite(p.y()));
            pts.sort((a, b) -> Double.compare(a.x(), b.x()));
            for (int k = 1; k < pts.size(); k++) {
                g.drawLine((int) sx.applyAsDouble(pts.get(k - 1).x()), (int) sy.applyAsDouble(pts.get(k - 1).y()),
                        (int) sx.applyAsDouble(pts.get(k).x()), (int) sy.applyAsDouble(pts.get(k).y()));
            }
            g.setStroke(new BasicStroke(1f));
            for (Pt p : pts) {
                int x = (int) sx.applyAsDouble(p.x());
                int y = (int) sy.applyAsDouble(p.y());
                g.fillOval(x - 4, y - 4, 8, 8);
                if (p.err() > 0) {
                    int y0 = (int) sy.applyAsDouble(p.y() - p.err());
                    int y1 = (int) sy.applyAsDouble(p.y() + p.err());
                    g.drawLine(x, y0, x, y1);
                    g.drawLine(x - 4, y0, x + 4, y0);
                    g.drawLine(x - 4, y1, x + 4, y1);
                }
            }
            g.fillRect(left + pw + 15, ly - 8, 12, 12);
            g.setColor(Color.BLACK);
            g.drawString(s.name(), left + pw + 32, ly + 3);
            ly += 18;
        }
        g.dispose();
        try {
            ImageIO.write(img, "png", file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write plot", e);
        }
    }

    static List<Double> ticks(double lo, double hi) {
        double span = hi - lo;
        double raw = span / 6;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        List<Double> out = new ArrayList<>();
        for (double t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) {
            out.add(Math.abs(t) < 1e-12 ? 0 : t);
        }
        return out;
    }

    static String fmt(double v) {
        if (Math.abs(v) >= 1000 || v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        return String.format(Locale.ROOT, Math.abs(v) >= 10 ? "%.1f" : "%.2f", v);
    }
}
