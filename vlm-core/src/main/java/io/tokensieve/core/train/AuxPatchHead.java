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
 * not part of the saved model: LLaVA inference never uses it.
 */
public final class AuxPatchHead {
    private final Map<String, NDArray> params = new LinkedHashMap<>();
    private final int[] classes;

    public AuxPatchHead(NDManager manager, int width, int[] classes, long seed) {
        this.classes = classes.clone();
        Random rng = new Random(seed);
        for (int k = 0; k < classes.length; k++) {
            float[] w = new float[classes[k] * width];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (rng.nextGaussian() * 0.02);
            }
            NDArray wa = manager.create(w, new Shape(classes[k], width));
            NDArray ba = manager.zeros(new Shape(classes[k]));
            wa.setRequiresGradient(true);
            ba.setRequiresGradient(true);
            params.put("aux." + k + ".weight", wa);
            params.put("aux." + k + ".bias", ba);
        }
    }

    /** Parameters, named "aux.K.weight|bias", for the optimiser and checkpoints. */
    public Map<String, NDArray> parameters() {
        return params;
    }

    public int kinds() {
        return classes.length;
    }

    /**
     * Sum over label kinds of the mean cross-entropy over labelled patches: features [I, N, Dv], labels[k] [I*N]
     * (class ids; -1 leaves the patch out of kind k alone), mask [I*N] (1 where the image has labels). A kind with
     * no labelled patch adds nothing. Returns a scalar in features' manager.
     */
    public NDArray loss(NDArray features, int[][] labels, float[] mask) {
        NDManager mgr = features.getManager();
        long n = features.getShape().get(0) * features.getShape().get(1);
        NDArray flat = features.reshape(n, features.getShape().get(2)); // [I*N, Dv]
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
            NDArray logits = ai.djl.nn.core.Linear.linear(flat, params.get("aux." + k + ".weight"),
                    params.get("aux." + k + ".bias")).head(); // [I*N, C]
            NDArray nll = logits.logSoftmax(-1).gather(mgr.create(lab).reshape(-1, 1), 1).reshape(n).neg(); // [I*N]
            total = total.add(nll.mul(mgr.create(m)).sum().div(mgr.create(count)));
        }
        return total;
    }
}
