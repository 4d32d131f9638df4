package io.tokensieve.datasets.mask;

import io.tokensieve.datasets.DatasetException;
import io.tokensieve.datasets.Sample;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ground-truth mask of a segmentation sample, kept in {@code extra["gt_mask"]} as plain JSON data and
 * rasterised on demand (so loading stays cheap and nothing is written next to the data):
 * <ul>
 *   <li>{@code {"kind": "coco", "height", "width", "segmentation"}}: a COCO segmentation (polygon list,
 *       or RLE with list or string counts), rasterised as pycocotools does;</li>
 *   <li>{@code {"kind": "polygons", "shapes": [{"label": 1|255, "points": [[x, y], ...]}], "height"?,
 *       "width"?}}: LabelMe polygons drawn as LISA does; the size comes from the image file when absent.</li>
 * </ul>
 */
public final class GroundTruthMasks {
    public static final String KEY = "gt_mask";

    private GroundTruthMasks() {}

    public static Map<String, Object> coco(Object segmentation, int height, int width) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", "coco");
        m.put("height", height);
        m.put("width", width);
        m.put("segmentation", segmentation);
        return m;
    }

    public static Map<String, Object> polygons(List<Map<String, Object>> shapes, Integer height, Integer width) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", "polygons");
        m.put("shapes", shapes);
        if (height != null && width != null) {
            m.put("height", height);
            m.put("width", width);
        }
        return m;
    }

    /** Rasterises the sample's ground truth; fails naming the sample if it has none or it is malformed. */
    public static LabelMask render(Sample s) {
        Object spec = s.extra().get(KEY);
        if (!(spec instanceof Map<?, ?> m)) {
            throw new DatasetException("sample " + s.id() + " (" + s.format() + ") has no ground-truth mask");
        }
        try {
            String kind = String.valueOf(m.get("kind"));
            return switch (kind) {
                case "coco" -> renderCoco(m);
                case "polygons" -> renderPolygons(m, s.images().isEmpty() ? null : s.images().get(0));
                default -> throw new IllegalArgumentException("unknown mask kind '" + kind + "'");
            };
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new DatasetException("sample " + s.id() + ": bad ground-truth mask (" + e.getMessage() + ")");
        }
    }

    private static LabelMask renderCoco(Map<?, ?> m) {
        int h = num(m.get("height")).intValue();
        int w = num(m.get("width")).intValue();
        Object seg = m.get("segmentation");
        if (seg instanceof List<?> polys) {
            List<double[]> out = new ArrayList<>();
            for (Object p : polys) {
                out.add(doubles((List<?>) p));
            }
            return CocoMasks.fromPolygons(out, h, w);
        }
        if (seg instanceof Map<?, ?> rle) {
            Object counts = rle.get("counts");
            long[] runs;
            if (counts instanceof String str) {
                runs = CocoMasks.decodeString(str);
            } else if (counts instanceof List<?> list) {
                runs = list.stream().mapToLong(o -> num(o).longValue()).toArray();
            } else {
                throw new IllegalArgumentException("RLE 'counts' must be a string or a list");
            }
            if (rle.get("size") instanceof List<?> size && size.size() == 2) {
                h = num(size.get(0)).intValue();
                w = num(size.get(1)).intValue();
            }
            return CocoMasks.fromRuns(runs, h, w);
        }
        throw new IllegalArgumentException("'segmentation' must be a polygon list or an RLE object");
    }

    private static LabelMask renderPolygons(Map<?, ?> m, Path image) {
        int w;
        int h;
        if (m.get("width") != null && m.get("height") != null) {
            w = num(m.get("width")).intValue();
            h = num(m.get("height")).intValue();
        } else {
            if (image == null) {
                throw new IllegalArgumentException("no size and no image to read it from");
            }
            int[] size = imageSize(image);
            w = size[0];
            h = size[1];
        }
        List<PolygonMasks.Shape> shapes = new ArrayList<>();
        for (Object o : (List<?>) m.get("shapes")) {
            Map<?, ?> sh = (Map<?, ?>) o;
            List<double[]> pts = new ArrayList<>();
            for (Object p : (List<?>) sh.get("points")) {
                pts.add(doubles((List<?>) p));
            }
            shapes.add(new PolygonMasks.Shape(num(sh.get("label")).intValue(), pts));
        }
        return PolygonMasks.render(shapes, w, h);
    }

    /** Width and height from the image header, without decoding the pixels. */
    public static int[] imageSize(Path image) {
        try (ImageInputStream in = ImageIO.createImageInputStream(image.toFile())) {
            if (in == null) {
                throw new DatasetException(image + ": image not found");
            }
            Iterator<ImageReader> it = ImageIO.getImageReaders(in);
            if (!it.hasNext()) {
                throw new DatasetException(image + ": not a readable image");
            }
            ImageReader r = it.next();
            try {
                r.setInput(in, true, true);
                return new int[] {r.getWidth(0), r.getHeight(0)};
            } finally {
                r.dispose();
            }
        } catch (IOException e) {
            throw new DatasetException(image + ": cannot read image size (" + e.getMessage() + ")");
        }
    }

    private static double[] doubles(List<?> l) {
        double[] out = new double[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = num(l.get(i)).doubleValue();
        }
        return out;
    }

    private static Number num(Object o) {
        if (o instanceof Number n) {
            return n;
        }
        throw new IllegalArgumentException("expected a number, got " + o);
    }
}
