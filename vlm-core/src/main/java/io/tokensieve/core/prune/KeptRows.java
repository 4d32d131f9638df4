package io.tokensieve.core.prune;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * How an applier (the runtime and the filter alike) turns a decision into representation rows: the checks on
 * replacement rows, and the gather that puts, at each output position, a replacement row, a current row, or a
 * row brought back from the full set.
 */
public final class KeptRows {
    private KeptRows() {}

    /**
     * Checks the decision's replacement rows ({@code [R, width]} float32, one per replaced token, every replaced
     * token kept, none twice) and returns, for each replaced token, its row in {@link PruneDecision#replacements()}.
     * Throws a {@link PruneException} starting with {@code where}.
     */
    public static Map<Integer, Integer> replacementSlots(PruneDecision d, String where, long width) {
        int[] idx = d.replaced();
        Map<Integer, Integer> m = new HashMap<>();
        if (idx.length == 0) {
            return m;
        }
        NDArray r = d.replacements();
        if (r == null || r.getShape().dimension() != 2 || r.getShape().get(0) != idx.length || r.getShape().get(1) != width) {
            throw new PruneException(where + ": replacements must be [" + idx.length + ", " + width + "], got "
                    + (r == null ? "none" : r.getShape()));
        }
        if (r.getDataType() != DataType.FLOAT32) {
            throw new PruneException(where + ": replacements must be float32");
        }
        Set<Integer> kept = new HashSet<>();
        for (int v : d.kept()) {
            kept.add(v);
        }
        for (int i = 0; i < idx.length; i++) {
            if (!kept.contains(idx[i])) {
                throw new PruneException(where + ": replacement for token " + idx[i] + ", which is not kept");
            }
            if (m.put(idx[i], i) != null) {
                throw new PruneException(where + ": token " + idx[i] + " replaced twice");
            }
        }
        return m;
    }

    /**
     * The rows after a step, one per output position {@code p}: the replacement row of visual token
     * {@code visual[p]} when {@code slots} has one, else row {@code current[p]} of {@code rows}, else (a token
     * brought back) row {@code visual[p]} of {@code all}, which is only computed then. New arrays live in
     * {@code mgr}. With {@code mayReturnRows}, {@code rows} itself is returned when the output equals it.
     *
     * @param visual  per output position, its visual-token index, or -1 for a text position
     * @param current per output position, its row in {@code rows}, or -1 when it has none
     */
    public static NDArray assemble(NDArray rows, int[] visual, int[] current, Map<Integer, Integer> slots,
                                   NDArray replacements, Supplier<NDArray> all, NDManager mgr, boolean mayReturnRows) {
        int rowCount = (int) rows.getShape().get(0);
        List<NDArray> parts = new ArrayList<>();
        parts.add(rows);
        if (!slots.isEmpty()) {
            parts.add(replacements.get(mgr, new NDIndex(":")));
        }
        int extraBase = rowCount + (slots.isEmpty() ? 0 : (int) replacements.getShape().get(0));
        List<Integer> extra = new ArrayList<>();
        long[] gather = new long[visual.length];
        boolean identity = visual.length == rowCount;
        for (int p = 0; p < visual.length; p++) {
            int v = visual[p];
            if (v >= 0 && slots.containsKey(v)) {
                gather[p] = rowCount + slots.get(v);
            } else if (current[p] >= 0) {
                gather[p] = current[p];
            } else {
                gather[p] = extraBase + extra.size();
                extra.add(v);
            }
            identity &= gather[p] == p;
        }
        if (identity && mayReturnRows) {
            return rows;
        }
        if (!extra.isEmpty()) {
            NDArray idx = mgr.create(extra.stream().mapToLong(Integer::longValue).toArray());
            parts.add(all.get().get(new NDIndex("{}", idx)));
        }
        NDArray stacked = parts.size() == 1 ? rows : NDArrays.concat(new NDList(parts.toArray(new NDArray[0])), 0);
        return stacked.get(new NDIndex("{}", mgr.create(gather)));
    }
}
