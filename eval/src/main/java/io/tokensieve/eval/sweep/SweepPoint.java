package io.tokensieve.eval.sweep;

/**
 * One cell of a sweep: a dataset, a pruner spec (with its keep), the budget as given, and the repeat index.
 * {@link #key()} identifies it in the records.
 */
public record SweepPoint(String dataset, String prunerId, String spec, String budget, int repeat) {
    public static SweepPoint unpruned(String dataset, int repeat) {
        return new SweepPoint(dataset, "none", "none", "all", repeat);
    }

    public static SweepPoint of(String dataset, String pruner, String budget, int repeat, long seed) {
        String id = pruner.contains(":") ? pruner.substring(0, pruner.indexOf(':')) : pruner;
        String spec = pruner + (pruner.contains(":") ? "," : ":") + "keep=" + budget + (seed != 0 ? ",seed=" + seed : "");
        return new SweepPoint(dataset, id, spec, budget, repeat);
    }

    public boolean isReference() {
        return prunerId.equals("none");
    }

    public String key() {
        return dataset + " | " + spec + " | r" + repeat;
    }
}
