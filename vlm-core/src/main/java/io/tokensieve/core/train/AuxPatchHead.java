package io.tokensieve.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * A training-only head that classifies every patch's vision feature into per-patch labels (one linear
 * classifier per label kind). It gives the from-scratch vision tower a dense signal early in training and is
 * not part of the saved model: LLaVA inference never uses it. Kinds from {@link #tokenKindsFrom()} on, if any,
 * classify the patch's projected token instead (what the decoder reads), RMS-normalised, so that the projector
 * keeps what they ask.
 */
public final class AuxPatchHead {
    private final Map<String, NDArray> params = new LinkedHashMap<>();
    private final int[] classes;
    private final int tokenKindsFrom;
    private final String prefix;

    /** Every kind reads the vision features ({@code width} wide). */
    public AuxPatchHead(NDManager manager, int width, int[] classes, long seed) {
        this(manager, width, classes, classes.length, 0, seed);
    }

    /**
     * Every kind reads rows {@code width} wide, its parameters named "{@code prefix}.K.weight|bias": the same
     * classifiers for another training-only read-out (such as one of decoder hidden states) beside the patch head.
     */
    public AuxPatchHead(NDManager manager, String prefix, int width, int[] classes, long seed) {
        this(manager, prefix, width, classes, classes.length, 0, seed, INIT_STD);
    }

    /** As {@link #AuxPatchHead(NDManager, String, int, int[], long)}, the weights drawn with standard deviation {@code std}. */
    public AuxPatchHead(NDManager manager, String prefix, int width, int[] classes, long seed, double std) {
        this(manager, prefix, width, classes, classes.length, 0, seed, std);
    }

    /** Standard deviation of the classifiers' initial weights unless given. */
    static final double INIT_STD = 0.02;

    /**
     * Kinds below {@code tokenKindsFrom} read the vision features ({@code width} wide), the rest the projected
     * tokens ({@code tokenWidth} wide).
     */
    public AuxPatchHead(NDManager manager, int width, int[] classes, int tokenKindsFrom, int tokenWidth, long seed) {
        this(manager, "aux", width, classes, tokenKindsFrom, tokenWidth, seed, INIT_STD);
    }

    private AuxPatchHead(NDManager manager, String prefix, int width, int[] classes, int tokenKindsFrom, int tokenWidth,
                         long seed, double std) {
        if (tokenKindsFrom < 0 || tokenKindsFrom > classes.length) {
            throw new IllegalArgumentException("tokenKindsFrom must be within 0.." + classes.length + ", got " + tokenKindsFrom);
        }
        this.classes = classes.clone();
        this.tokenKindsFrom = tokenKindsFrom;
        this.prefix = prefix;
        Random rng = new Random(seed);
        for (int k = 0; k < classes.length; k++) {
            int in = k < tokenKindsFrom ? width : tokenWidth;
            float[] w = new float[classes[k] * in];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (rng.nextGaussian() * std);
            }
            NDArray wa = manager.create(w, new Shape(classes[k], in));
            NDArray ba = manager.zeros(new Shape(classes[k]));
            wa.setRequiresGradient(true);
            ba.setRequiresGradient(true);
            params.put(prefix + "." + k + ".weight", wa);
            params.put(prefix + "." + k + ".bias", ba);
        }
    }

    /**
     * Each row divided by its root mean square, as the decoder's first norm sees a token (without its weight): the
     * projected tokens' scale is free (the grounding loss compares directions), and a linear classifier of
     * unnormalised tokens swings with it.
     */
    static NDArray rmsNormalised(NDArray x) {
        return x.div(x.square().mean(new int[] {-1}, true).add(RMS_EPS).sqrt());
    }

    static final float RMS_EPS = 1e-6f;

    /** Parameters, named "aux.K.weight|bias" (or the prefix given), for the optimiser and checkpoints. */
    public Map<String, NDArray> parameters() {
        return params;
    }

    /** Kind {@code k}'s classifier weights, [classes, width]: one row per class. */
    public NDArray weight(int k) {
        return params.get(prefix + "." + k + ".weight");
    }

    public int kinds() {
        return classes.length;
    }

    /** The first kind that reads the projected tokens ({@link #kinds()} when none does). */
    public int tokenKindsFrom() {
        return tokenKindsFrom;
    }

    /** Whether some kind reads the projected tokens, so that {@link #loss(NDArray, NDArray, int[][], float[])} needs them. */
    public boolean readsTokens() {
        return tokenKindsFrom < classes.length;
    }

    /**
     * Sum over label kinds of the mean cross-entropy over labelled patches: features [I, N, Dv], labels[k] [I*N]
     * (class ids; -1 leaves the patch out of kind k alone), mask [I*N] (1 where the image has labels). A kind with
     * no labelled patch adds nothing. Returns a scalar in features' manager. Only for a head whose kinds all read
     * the features.
     */
    public NDArray loss(NDArray features, int[][] labels, float[] mask) {
        return loss(features, null, labels, mask);
    }

    /**
     * As {@link #loss(NDArray, int[][], float[])}, with the kinds from {@link #tokenKindsFrom()} on reading
     * {@code tokens} [I, N, D] (the projected tokens of the same patches, each divided by its root mean square; may be
     * null when no kind reads them).
     */
    public NDArray loss(NDArray features, NDArray tokens, int[][] labels, float[] mask) {
        if (readsTokens() && tokens == null) {
            throw new IllegalArgumentException("kinds from " + tokenKindsFrom + " on read the projected tokens: pass them");
        }
        NDManager mgr = features.getManager();
        long n = features.getShape().get(0) * features.getShape().get(1);
        NDArray flat = features.reshape(n, features.getShape().get(2)); // [I*N, Dv]
        NDArray flatTokens = tokens == null ? null : rmsNormalised(
                tokens.reshape(n, tokens.getShape().get(tokens.getShape().dimension() - 1))); // [I*N, D]
        NDArray total = mgr.zeros(new Shape());
        for (int k = 0; k < classes.length; k++) {
            long[] lab = new long[labels[k].length];
            float[] m = new float[lab.length];
            float count = 0;
            for (int i = 0; i < lab.length; i++) {
                boolean in = labels[k][i] >= 0 && mask[i] > 0;
                lab[i] = in ? labels[k][i] : 0;
                m[i] = in ? mask[i] : 0;
                count += m[i];
            }
            if (count == 0) {
                continue;
            }
            NDArray logits = ai.djl.nn.core.Linear.linear(k < tokenKindsFrom ? flat : flatTokens, params.get(prefix + "." + k + ".weight"),
                    params.get(prefix + "." + k + ".bias")).head(); // [I*N, C]
            NDArray nll = logits.logSoftmax(-1).gather(mgr.create(lab).reshape(-1, 1), 1).reshape(n).neg(); // [I*N]
            total = total.add(nll.mul(mgr.create(m)).sum().div(mgr.create(count)));
        }
        return total;
    }
}
