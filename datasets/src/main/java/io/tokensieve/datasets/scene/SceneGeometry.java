package io.tokensieve.datasets.scene;

import io.tokensieve.core.image.PixelValues;
import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.Sample;
import org.bytedeco.javacpp.indexer.UByteIndexer;
import org.bytedeco.javacpp.indexer.UShortIndexer;
import org.bytedeco.opencv.opencv_core.Mat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.bytedeco.opencv.global.opencv_core.CV_16U;
import static org.bytedeco.opencv.global.opencv_core.CV_8U;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_UNCHANGED;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imread;

/**
 * World xyz of every vision patch of a posed RGB-D view, for the runtime's per-patch origins
 * ({@code float[patches][3]}, raster order). Follows LLaVA-3D's back-projection (adatoken-3d spec,
 * section 2): camera point {@code ((u - cx) z / fx, (v - cy) z / fy, z)}, world point
 * {@code AxisAlign * Pose * p}. Differences: each patch takes the depth at its centre pixel rather than
 * a nearest-neighbour downsample of a per-pixel map, and a zero (missing) depth falls back to the mean
 * valid depth inside the patch, then of the whole view, instead of inpainting.
 */
public final class SceneGeometry {
    /** ScanNet depth PNGs store millimetres. */
    public static final double DEPTH_SCALE = 1000.0;

    private SceneGeometry() {}

    /**
     * Back-projects the centre pixel of each of {@code grid x grid} patches of the crop described by
     * {@code crop} (the colour image's own resize/centre-crop) to world coordinates.
     *
     * @param depthPng 16-bit depth image of the view (any resolution; sampled proportionally)
     * @param intrinsic 4x4 colour intrinsics, row-major
     * @param pose 4x4 camera-to-world pose, row-major
     * @param axisAlign 4x4 axis alignment, or null for identity
     */
    public static float[][] patchXyz(Path depthPng, double[] intrinsic, double[] pose, double[] axisAlign,
                                     PixelValues crop, int grid) {
        double[][] depth = readDepth(depthPng);
        int dh = depth.length;
        int dw = depth[0].length;
        double fx = intrinsic[0];
        double fy = intrinsic[5];
        double cx = intrinsic[2];
        double cy = intrinsic[6];
        double meanAll = meanValid(depth, 0, 0, dw, dh);
        if (Double.isNaN(meanAll)) {
            throw new DatasetException(depthPng + ": no valid (non-zero) depth");
        }
        float[][] out = new float[grid * grid][];
        double sx = (double) dw / crop.sourceWidth();
        double sy = (double) dh / crop.sourceHeight();
        for (int r = 0; r < grid; r++) {
            for (int c = 0; c < grid; c++) {
                // patch centre in the crop, then in the colour image
                double[] src = crop.toSource((c + 0.5) * crop.width() / grid, (r + 0.5) * crop.height() / grid, 0, 0);
                int u = clamp((int) Math.floor(src[0]), crop.sourceWidth());
                int v = clamp((int) Math.floor(src[1]), crop.sourceHeight());
                int ud = clamp((int) Math.floor(u * sx), dw);
                int vd = clamp((int) Math.floor(v * sy), dh);
                double z = depth[vd][ud];
                if (z == 0) {
                    double[] a = crop.toSource((double) c * crop.width() / grid, (double) r * crop.height() / grid,
                            (double) (c + 1) * crop.width() / grid, (double) (r + 1) * crop.height() / grid);
                    z = meanValid(depth, (int) Math.floor(a[0] * sx), (int) Math.floor(a[1] * sy),
                            (int) Math.ceil(a[2] * sx), (int) Math.ceil(a[3] * sy));
                    if (Double.isNaN(z)) {
                        z = meanAll;
                    }
                }
                double[] cam = {(u - cx) * z / fx, (v - cy) * z / fy, z};
                double[] world = Matrices.apply(pose, cam[0], cam[1], cam[2]);
                if (axisAlign != null) {
                    world = Matrices.apply(axisAlign, world[0], world[1], world[2]);
                }
                out[r * grid + c] = new float[] {(float) world[0], (float) world[1], (float) world[2]};
            }
        }
        return out;
    }

    /** {@link #patchXyz} for view {@code view} of a 3D QA sample, with the paths its loader put in {@code extra}. */
    public static float[][] patchXyz(Sample s, int view, PixelValues crop, int grid) {
        Map<String, Object> extra = s.extra();
        if (!(extra.get(SceneViews.VIEWS) instanceof List<?> views) || view >= views.size()) {
            throw new DatasetException("sample " + s.id() + " has no scene geometry for view " + view);
        }
        Map<?, ?> v = (Map<?, ?>) views.get(view);
        double[] k = Matrices.read4x4(Path.of((String) extra.get(SceneViews.INTRINSIC)));
        double[] pose = Matrices.read4x4(Path.of((String) v.get("pose")));
        Object align = extra.get(SceneViews.AXIS_ALIGN);
        double[] a = align == null ? null : Matrices.read4x4(Path.of((String) align));
        return patchXyz(Path.of((String) v.get("depth")), k, pose, a, crop, grid);
    }

    /** Depth in metres, [row][col]; 0 where missing. */
    static double[][] readDepth(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DatasetException(file + ": depth image not found");
        }
        try (Mat m = imread(file.toString(), IMREAD_UNCHANGED)) {
            if (m == null || m.empty()) {
                throw new DatasetException(file + ": not a decodable depth image");
            }
            if (m.channels() != 1 || (m.depth() != CV_16U && m.depth() != CV_8U)) {
                throw new DatasetException(file + ": depth must be a single-channel 16-bit PNG (got " + m.channels()
                        + " channel(s), OpenCV depth " + m.depth() + ")");
            }
            double[][] d = new double[m.rows()][m.cols()];
            if (m.depth() == CV_16U) {
                try (UShortIndexer idx = m.createIndexer()) {
                    for (int y = 0; y < m.rows(); y++) {
                        for (int x = 0; x < m.cols(); x++) {
                            d[y][x] = idx.get(y, x) / DEPTH_SCALE;
                        }
                    }
                }
            } else {
                try (UByteIndexer idx = m.createIndexer()) {
                    for (int y = 0; y < m.rows(); y++) {
                        for (int x = 0; x < m.cols(); x++) {
                            d[y][x] = idx.get(y, x) / DEPTH_SCALE;
                        }
                    }
                }
            }
            return d;
        }
    }

    private static double meanValid(double[][] d, int x0, int y0, int x1, int y1) {
        double s = 0;
        int n = 0;
        for (int y = Math.max(0, y0); y < Math.min(d.length, y1); y++) {
            for (int x = Math.max(0, x0); x < Math.min(d[0].length, x1); x++) {
                if (d[y][x] > 0) {
                    s += d[y][x];
                    n++;
                }
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }

    private static int clamp(int v, int size) {
        return Math.max(0, Math.min(size - 1, v));
    }
}
