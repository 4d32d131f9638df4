package io.tokensieve.core.prune;

import java.util.Arrays;

/**
 * The token slots of one sample entering a decoder layer, in sequence order: for each slot its index in
 * the unpruned prompt, its original visual index (-1 for text), its token id and its RoPE position.
 * Immutable; the core builds a new one whenever a step changes the sequence.
 */
public final class SequenceLayout {
    private final int[] seqIndex;
    private final int[] visual;
    private final long[] tokenId;
    private final long[] position;
    private final int visualTotal;

    public SequenceLayout(int[] seqIndex, int[] visual, long[] tokenId, long[] position, int visualTotal) {
        if (seqIndex.length != visual.length || visual.length != tokenId.length || tokenId.length != position.length) {
            throw new IllegalArgumentException("slot arrays differ in length");
        }
        this.seqIndex = seqIndex;
        this.visual = visual;
        this.tokenId = tokenId;
        this.position = position;
        this.visualTotal = visualTotal;
    }

    /**
     * This (prompt) layout restricted to the live visual tokens {@code liveVisual} and every text token, in
     * prompt order; positions are the prompt's ({@link PositionPolicy#KEEP}) or renumbered 0..n-1.
     */
    public SequenceLayout keeping(int[] liveVisual, PositionPolicy policy) {
        boolean[] keep = new boolean[visualTotal];
        for (int v : liveVisual) {
            keep[v] = true;
        }
        int n = 0;
        for (int slot = 0; slot < size(); slot++) {
            if (!isVisual(slot) || keep[visualIndex(slot)]) {
                n++;
            }
        }
        int[] si = new int[n];
        int[] vis = new int[n];
        long[] tok = new long[n];
        long[] pos = new long[n];
        int j = 0;
        for (int slot = 0; slot < size(); slot++) {
            if (!isVisual(slot) || keep[visualIndex(slot)]) {
                si[j] = seqIndex[slot];
                vis[j] = visual[slot];
                tok[j] = tokenId[slot];
                pos[j] = policy == PositionPolicy.KEEP ? position[slot] : j;
                j++;
            }
        }
        return new SequenceLayout(si, vis, tok, pos, visualTotal);
    }

    public int size() {
        return seqIndex.length;
    }

    /** Index of the slot's token in the unpruned (image-expanded) prompt. */
    public int seqIndex(int slot) {
        return seqIndex[slot];
    }

    public boolean isVisual(int slot) {
        return visual[slot] >= 0;
    }

    /** Original visual index of a visual slot, -1 for text. */
    public int visualIndex(int slot) {
        return visual[slot];
    }

    public long tokenId(int slot) {
        return tokenId[slot];
    }

    public long position(int slot) {
        return position[slot];
    }

    public long[] positions() {
        return position.clone();
    }

    /** Slot holding original visual token {@code v}, or -1 if it is not live. */
    public int slotOfVisual(int v) {
        for (int s = 0; s < visual.length; s++) {
            if (visual[s] == v) {
                return s;
            }
        }
        return -1;
    }

    /** Slot holding the token at unpruned prompt index {@code seq}, or -1. */
    public int slotOfSeqIndex(int seq) {
        int i = Arrays.binarySearch(seqIndex, seq);
        return i >= 0 ? i : -1;
    }

    /** Live original visual indices, ascending. */
    public int[] liveVisual() {
        return Arrays.stream(visual).filter(v -> v >= 0).toArray();
    }

    /** Slots of visual tokens, in sequence order. */
    public int[] visualSlots() {
        int[] out = new int[(int) Arrays.stream(visual).filter(v -> v >= 0).count()];
        int j = 0;
        for (int s = 0; s < visual.length; s++) {
            if (visual[s] >= 0) {
                out[j++] = s;
            }
        }
        return out;
    }

    /** Slots of text tokens, in sequence order. */
    public int[] textSlots() {
        int[] out = new int[(int) Arrays.stream(visual).filter(v -> v < 0).count()];
        int j = 0;
        for (int s = 0; s < visual.length; s++) {
            if (visual[s] < 0) {
                out[j++] = s;
            }
        }
        return out;
    }

    public int visualCount() {
        return (int) Arrays.stream(visual).filter(v -> v >= 0).count();
    }

    /** Visual tokens of the request before any pruning. */
    public int visualTotal() {
        return visualTotal;
    }

    public int lastSlot() {
        return seqIndex.length - 1;
    }
}
