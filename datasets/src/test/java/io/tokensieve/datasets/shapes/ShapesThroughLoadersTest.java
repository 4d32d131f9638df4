package io.tokensieve.datasets.shapes;

import io.tokensieve.datasets.Datasets;
import io.tokensieve.datasets.LoadOptions;
import io.tokensieve.datasets.Sample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the trainer sees in memory must be what evaluation reads back from the written files through the
 * real loaders: same prompts, same references, same number of images, for every track.
 */
class ShapesThroughLoadersTest {
    @TempDir
    Path tmp;

    private List<Sample> load(String spec) {
        List<Sample> out = new ArrayList<>();
        Datasets.defaultRegistry().open(spec, LoadOptions.strict()).forEach(out::add);
        return out;
    }

    private void check(Track track, String format, int n, java.util.function.IntFunction<ShapesExample> memory) {
        Path dir = tmp.resolve(track.name());
        ShapesWriter.write(new ShapesWriter.Options(track, n, 11, dir, null, 3, 2));
        List<Sample> files = load(format + ":" + dir);
        assertTrue(files.size() >= n, track + ": " + files.size() + " samples read back");
        for (int i = 0; i < n; i++) {
            ShapesExample ex = memory.apply(i);
            Sample s = files.stream().filter(f -> f.id().equals(ex.id()) || f.id().endsWith("/" + ex.id())).findFirst()
                    .orElseThrow(() -> new AssertionError(track + ": no sample with id " + ex.id()));
            assertEquals(ex.prompt(), s.prompt(), track + " prompt of " + ex.id());
            assertEquals(ex.images().size(), s.images().size(), track + " images of " + ex.id());
            assertEquals(ex.answers().get(0), s.references().isEmpty() ? ex.answers().get(0) : s.references().get(0),
                    track + " answer of " + ex.id());
        }
    }

    @Test
    void everyTrackReadsBackAsTrained() {
        check(Track.VQA, "vqav2", 6, i -> ShapesBench.vqa(11, i));
        check(Track.POPE, "pope", 6, i -> ShapesBench.pope(11, i, PopeVariant.RANDOM));
        check(Track.SEG, "reasonseg", 4, i -> ShapesBench.seg(11, i));
        check(Track.ICL, "icl", 4, i -> ShapesBench.icl(11, i, 2));
        check(Track.THREE_D, "scanqa", 4, i -> ShapesBench.scene3d(11, i, 3));
    }
}
