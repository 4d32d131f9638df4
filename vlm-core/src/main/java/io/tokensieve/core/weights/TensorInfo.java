package io.tokensieve.core.weights;

import java.nio.file.Path;
import java.util.Arrays;

/** Where one tensor lives: its file, dtype, shape and byte range (absolute offsets in the file). */
public record TensorInfo(String name, DType dtype, long[] shape, Path file, long begin, long end) {

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
