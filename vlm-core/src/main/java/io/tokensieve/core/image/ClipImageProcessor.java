package io.tokensieve.core.image;

import io.tokensieve.core.config.PreprocessorConfig;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;

import java.nio.file.Path;

import static org.bytedeco.opencv.global.opencv_core.CV_32FC3;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_AREA;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_CUBIC;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_LINEAR;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_NEAREST;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;

/**
 * HF {@code CLIPImageProcessor} on OpenCV: resize the shortest edge (aspect kept), centre crop, rescale,
 * normalise. Differences from HF: OpenCV's bicubic kernel (a = -0.75) instead of PIL's (a = -0.5), and
 * no antialiasing filter on downscaling except for {@code resample = 4} (box, mapped to INTER_AREA).
 */
public final class ClipImageProcessor {
    private final PreprocessorConfig config;

    public ClipImageProcessor(PreprocessorConfig config) {
        this.config = config;
    }

    public PixelValues preprocess(Path file) {
        return preprocess(ImageDecoder.decode(file));
    }

    public PixelValues preprocess(RgbImage img) {
        int w = img.width();
        int h = img.height();
        double scale = 1.0;
        RgbImage cur = img;
        if (config.doResize()) {
            int shortSide = Math.min(w, h);
            int longSide = Math.max(w, h);
            int newShort = config.shortestEdge();
            int newLong = (int) ((long) newShort * longSide / shortSide);
            int nw = w <= h ? newShort : newLong;
            int nh = w <= h ? newLong : newShort;
            if (nw != w || nh != h) {
                cur = resized(img, nw, nh, config.resample());
            }
            scale = (double) nw / w;
        }
        int ch = config.doCenterCrop() ? config.cropHeight() : cur.height();
        int cw = config.doCenterCrop() ? config.cropWidth() : cur.width();
        int top = (cur.height() - ch) / 2;
        int left = (cur.width() - cw) / 2;
        float[] chw = new float[3 * ch * cw];
        float rescale = config.doRescale() ? (float) config.rescaleFactor() : 1f;
        float[] mean = config.imageMean();
        float[] std = config.imageStd();
        for (int y = 0; y < ch; y++) {
            int sy = y + top;
            for (int x = 0; x < cw; x++) {
                int sx = x + left;
                boolean inside = sy >= 0 && sy < cur.height() && sx >= 0 && sx < cur.width();
                for (int c = 0; c < 3; c++) {
                    float v = inside ? cur.get(sx, sy, c) * rescale : 0f; // HF pads small images with 0
                    if (config.doNormalize()) {
                        v = (v - mean[c]) / std[c];
                    }
                    chw[(c * ch + y) * cw + x] = v;
                }
            }
        }
        return new PixelValues(chw, ch, cw, w, h, scale, left, top);
    }

    static RgbImage resized(RgbImage img, int nw, int nh, int resample) {
        int interp = switch (resample) {
            case 0 -> INTER_NEAREST;
            case 2 -> INTER_LINEAR;
            case 4 -> INTER_AREA;
            default -> INTER_CUBIC;
        };
        try (Mat src = new Mat(img.height(), img.width(), CV_32FC3); Mat dst = new Mat()) {
            try (FloatIndexer idx = src.createIndexer()) {
                idx.put(0, img.data());
            }
            resize(src, dst, new Size(nw, nh), 0, 0, interp);
            float[] out = new float[nw * nh * 3];
            try (FloatIndexer idx = dst.createIndexer()) {
                idx.get(0, out);
            }
            return new RgbImage(nw, nh, out);
        }
    }

    public PreprocessorConfig config() {
        return config;
    }
}
