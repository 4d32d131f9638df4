package io.tokensieve.cli;

import io.tokensieve.core.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sieve debug}: the page renders in headless Chromium with its overlay images. */
class DebugCommandTest {
    @TempDir
    Path tmp;

    static Path chromium() {
        for (String c : new String[] {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
            if (Files.isExecutable(Path.of(c))) {
                return Path.of(c);
            }
        }
        throw new AssertionError("headless Chromium is required for this test (Debian package 'chromium'; .ci/run "
                + "installs it)");
    }

    private static String run(Path tmp, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(chromium().toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + Files.createTempDirectory(tmp, "chrome")));
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile(tmp, "chrome", ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).redirectOutput(log.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "chromium did not finish");
        return Files.readString(log);
    }

    @Test
    void pageRendersInChromiumWithOverlays() throws Exception {
        Path img = TestModels.rgbPng(tmp, "scene.png", 160, 120, 3);
        Path out = tmp.resolve("report");
        Cli.Result r = Cli.run("debug", "--model", TestModels.tinyCheckpoint().toString(), "--image", img.toString(),
                "--question", "what color is the square?", "--pruner", "fastv:layer=2,keep=0.25", "--pruner",
                "random:keep=0.5", "--max-new-tokens", "3", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Path page = out.resolve("index.html");
        String html = Files.readString(page);
        assertTrue(html.contains("fastv:layer=2,keep=0.25") && html.contains("random:keep=0.5") && html.contains("unpruned"));
        assertTrue(html.contains("class=\"overlay\"") && html.contains("class=\"heatmap\"")
                && html.contains("class=\"tokens-per-layer\""));
        assertTrue(Files.list(out).filter(f -> f.toString().endsWith("_kept.png")).count() >= 2);

        // the browser's DOM after load: every embedded image decoded (naturalWidth > 0)
        String script = "<script>window.addEventListener('load',()=>{const bad=[...document.images].filter(i=>!i"
                + ".complete||i.naturalWidth===0).length;document.body.setAttribute('data-images',document.images.length);"
                + "document.body.setAttribute('data-broken',bad);});</script>";
        Path probe = out.resolve("probe.html");
        Files.writeString(probe, html.replace("</body>", script + "</body>"));
        String dom = run(tmp, "--dump-dom", probe.toUri().toString());
        assertTrue(dom.contains("data-broken=\"0\""), "broken images in the rendered page");
        int images = Integer.parseInt(dom.replaceAll("(?s).*data-images=\"(\\d+)\".*", "$1"));
        assertTrue(images >= 6, "rendered images: " + images);

        // a screenshot of the page is not blank: it shows the overlays' colours
        Path shot = tmp.resolve("shot.png");
        run(tmp, "--screenshot=" + shot, "--window-size=1400,1200", "--hide-scrollbars", page.toUri().toString());
        BufferedImage s = ImageIO.read(shot.toFile());
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < s.getHeight(); y += 4) {
            for (int x = 0; x < s.getWidth(); x += 4) {
                colours.add(s.getRGB(x, y) & 0xf0f0f0);
            }
        }
        assertTrue(colours.size() > 50, "screenshot looks blank: " + colours.size() + " colours");
    }
}
