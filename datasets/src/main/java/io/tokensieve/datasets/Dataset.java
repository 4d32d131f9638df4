package io.tokensieve.datasets;

import java.util.Iterator;

/** An opened dataset: the spec it came from and its samples (streamed on each iteration). */
public record Dataset(DatasetSpec spec, Iterable<Sample> samples) implements Iterable<Sample> {
    @Override
    public Iterator<Sample> iterator() {
        return samples.iterator();
    }

    public String format() {
        return spec.format();
    }
}
