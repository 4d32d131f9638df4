package io.tokensieve.datasets.scene;

import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.io.DataFiles;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The posed RGB-D frames of one scan in the LLaVA-3D {@code posed_images} layout:
 * {@code <root>/posed_images/<scene_id>/} holding per frame a colour image {@code <frame>.jpg} with depth
 * {@code <frame>.png} (or colour {@code <frame>.png} with depth {@code <frame>_depth.png}; 16-bit,
 * millimetres), a camera-to-world pose {@code <frame>.txt}, and per scan {@code intrinsic.txt} (4x4
 * colour intrinsics) and optionally {@code axis_align.txt} (4x4).
 */
public final class SceneViews {
    /** Keys of the scene geometry in a sample's {@code extra}. */
    public static final String VIEWS = "views";
    public static final String INTRINSIC = "intrinsic";
    public static final String AXIS_ALIGN = "axis_align";

    private final Path dir;
    private final List<Frame> frames;
    private final Path intrinsic;
    private final Path axisAlign;

    /** One frame's files. */
    public record Frame(String name, Path colour, Path depth, Path pose) {}

    private SceneViews(Path dir, List<Frame> frames, Path intrinsic, Path axisAlign) {
        this.dir = dir;
        this.frames = frames;
        this.intrinsic = intrinsic;
        this.axisAlign = axisAlign;
    }

    /** Lists the frames of {@code sceneId}; fails naming the folder when the layout is incomplete. */
    public static SceneViews open(Path root, String sceneId) {
        Path dir = root.resolve("posed_images").resolve(sceneId);
        if (!Files.isDirectory(dir)) {
            throw new DatasetException(dir + ": scene folder not found");
        }
        List<Frame> frames = new ArrayList<>();
        for (Path pose : DataFiles.glob(dir, "*.txt")) {
            String stem = pose.getFileName().toString().replaceFirst("\\.txt$", "");
            if (!stem.chars().allMatch(Character::isDigit)) {
                continue; // intrinsic.txt, axis_align.txt
            }
            Path jpg = dir.resolve(stem + ".jpg");
            Frame f = Files.isRegularFile(jpg) ? new Frame(stem, jpg, dir.resolve(stem + ".png"), pose)
                    : new Frame(stem, dir.resolve(stem + ".png"), dir.resolve(stem + "_depth.png"), pose);
            if (!Files.isRegularFile(f.colour()) || !Files.isRegularFile(f.depth())) {
                throw new DatasetException(pose + ": frame " + stem + " lacks its colour or depth image (expected "
                        + f.colour().getFileName() + " and " + f.depth().getFileName() + ")");
            }
            frames.add(f);
        }
        if (frames.isEmpty()) {
            throw new DatasetException(dir + ": no posed frames (<frame>.jpg + <frame>.png depth + <frame>.txt pose)");
        }
        frames.sort((a, b) -> Long.compare(Long.parseLong(a.name()), Long.parseLong(b.name())));
        Path intrinsic = dir.resolve("intrinsic.txt");
        if (!Files.isRegularFile(intrinsic)) {
            throw new DatasetException(dir + ": intrinsic.txt not found");
        }
        Path align = dir.resolve("axis_align.txt");
        return new SceneViews(dir, List.copyOf(frames), intrinsic, Files.isRegularFile(align) ? align : null);
    }

    public Path dir() {
        return dir;
    }

    public List<Frame> frames() {
        return frames;
    }

    /**
     * {@code v} frames sampled uniformly: stride floor(n / v) from frame 0; a scan with fewer than {@code v}
     * frames repeats them cyclically (LLaVA-3D pads short scans by repetition).
     */
    public List<Frame> sample(int v) {
        int n = frames.size();
        List<Frame> out = new ArrayList<>();
        int stride = Math.max(1, n / v);
        for (int i = 0; i < v; i++) {
            out.add(frames.get(n >= v ? i * stride : i % n));
        }
        return out;
    }

    /** The geometry entries of a sample's {@code extra} for the given views (JSON-serialisable). */
    public Map<String, Object> extra(List<Frame> views) {
        Map<String, Object> m = new LinkedHashMap<>();
        List<Map<String, Object>> vs = new ArrayList<>();
        for (Frame f : views) {
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("frame", f.name());
            v.put("depth", f.depth().toString());
            v.put("pose", f.pose().toString());
            vs.add(v);
        }
        m.put(VIEWS, vs);
        m.put(INTRINSIC, intrinsic.toString());
        if (axisAlign != null) {
            m.put(AXIS_ALIGN, axisAlign.toString());
        }
        return m;
    }
}
