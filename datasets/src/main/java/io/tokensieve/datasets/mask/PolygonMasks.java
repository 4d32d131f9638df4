package io.tokensieve.datasets.mask;

import org.bytedeco.javacpp.indexer.IntIndexer;
import org.bytedeco.javacpp.indexer.UByteIndexer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.MatVector;
import org.bytedeco.opencv.opencv_core.Scalar;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static org.bytedeco.opencv.global.opencv_core.CV_32SC2;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC1;
import static org.bytedeco.opencv.global.opencv_imgproc.LINE_8;
import static org.bytedeco.opencv.global.opencv_imgproc.fillPoly;
import static org.bytedeco.opencv.global.opencv_imgproc.polylines;

/**
 * LabelMe-style polygon masks as the LISA reference builds ReasonSeg ground truth (spec A.1): vertices
 * truncated to integers, each polygon drawn as a 1-pixel closed outline plus its filled interior with
 * OpenCV, larger polygons first so that smaller ones overwrite them.
 */
public final class PolygonMasks {
    private PolygonMasks() {}

    /** One labelled polygon: {@code label} 1 (target) or 255 (ignore), vertices {@code [[x, y], ...]}. */
    public record Shape(int label, List<double[]> points) {}

    /** Renders {@code shapes} in decreasing order of drawn area (ties: later shapes first, as LISA's reversed argsort). */
    public static LabelMask render(List<Shape> shapes, int width, int height) {
        List<Integer> order = new ArrayList<>();
        long[] area = new long[shapes.size()];
        for (int i = 0; i < shapes.size(); i++) {
            try (Mat tmp = new Mat(height, width, CV_8UC1, new Scalar(0))) {
                draw(tmp, shapes.get(i).points(), 1);
                area[i] = count(tmp);
            }
            order.add(i);
        }
        order.sort(Comparator.comparingLong(i -> area[i]));
        try (Mat mask = new Mat(height, width, CV_8UC1, new Scalar(0))) {
            for (int k = order.size() - 1; k >= 0; k--) {
                Shape s = shapes.get(order.get(k));
                draw(mask, s.points(), s.label());
            }
            byte[] out = new byte[width * height];
            try (UByteIndexer idx = mask.createIndexer()) {
                for (int y = 0; y < height; y++) {
                    for (int x = 0; x < width; x++) {
                        out[y * width + x] = (byte) idx.get(y, x);
                    }
                }
            }
            return new LabelMask(width, height, out);
        }
    }

    private static void draw(Mat mask, List<double[]> points, int value) {
        try (Mat pts = new Mat(points.size(), 1, CV_32SC2); MatVector polys = new MatVector(1);
             Scalar color = new Scalar(value)) {
            try (IntIndexer idx = pts.createIndexer()) {
                for (int i = 0; i < points.size(); i++) {
                    idx.put(i, 0, 0, (int) points.get(i)[0]);
                    idx.put(i, 0, 1, (int) points.get(i)[1]);
                }
            }
            polys.put(0, pts);
            polylines(mask, polys, true, color, 1, LINE_8, 0);
            fillPoly(mask, polys, color);
        }
    }

    private static long count(Mat m) {
        long n = 0;
        try (UByteIndexer idx = m.createIndexer()) {
            for (int y = 0; y < m.rows(); y++) {
                for (int x = 0; x < m.cols(); x++) {
                    n += idx.get(y, x);
                }
            }
        }
        return n;
    }
}
