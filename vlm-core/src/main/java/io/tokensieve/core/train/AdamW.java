package io.tokensieve.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW with decoupled weight decay, global-norm gradient clipping, and explicit moment arrays that a
 * checkpoint can save and restore. Updates parameters in place; every temporary lives in a sub-manager,
 * so nothing accumulates in the weights' manager across steps.
 */
public final class AdamW {
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final float clipNorm;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private final Map<String, Float> lrScales = new LinkedHashMap<>();
    private long step;

    public AdamW(float beta1, float beta2, float eps, float weightDecay, float clipNorm) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.clipNorm = clipNorm;
    }

    /**
     * Parameters whose key starts with {@code keyPrefix} train at {@code factor} times the learning rate (a layer
     * added to a trained model, which must catch up within a short continuation).
     */
    public AdamW scaleLearningRate(String keyPrefix, float factor) {
        lrScales.put(keyPrefix, factor);
        return this;
    }

    /**
     * The learning-rate factor of a parameter: the factor given for its whole key, else for the first prefix of it
     * given, else 1.
     */
    public float learningRateScale(String key) {
        return lrScale(key);
    }

    private float lrScale(String key) {
        Float exact = lrScales.get(key); // a whole key named overrides the prefixes that cover it
        if (exact != null) {
            return exact;
        }
        for (var e : lrScales.entrySet()) {
            if (key.startsWith(e.getKey())) {
                return e.getValue();
            }
        }
        return 1f;
    }

    /**
     * One update of every parameter with a gradient, at learning rate {@code lr}; zeroes the gradients.
     * Returns the global gradient norm before clipping. A non-finite norm skips the update (moments and
     * weights untouched) and still clears the gradients.
     */
    public double step(Map<String, NDArray> params, float lr, NDManager scratch) {
        double sq = 0;
        Map<String, NDArray> grads = new LinkedHashMap<>();
        for (var e : params.entrySet()) {
            if (!e.getValue().hasGradient()) {
                continue;
            }
            NDArray g = e.getValue().getGradient();
            g.attach(scratch);
            grads.put(e.getKey(), g);
            sq += g.square().sum().getFloat();
        }
        double norm = Math.sqrt(sq);
        if (!Double.isFinite(norm)) {
            zeroGradients(params, scratch);
            return norm;
        }
        step++;
        float scale = clipNorm > 0 && norm > clipNorm ? (float) (clipNorm / norm) : 1f;
        float bc1 = (float) (1 - Math.pow(beta1, step));
        float bc2 = (float) (1 - Math.pow(beta2, step));
        for (var e : grads.entrySet()) {
            String k = e.getKey();
            NDArray w = params.get(k);
            NDArray g = e.getValue();
            NDArray mk = m.computeIfAbsent(k, x -> w.zerosLike());
            NDArray vk = v.computeIfAbsent(k, x -> w.zerosLike());
            try (NDManager sub = scratch.newSubManager()) {
                w.tempAttach(sub);
                mk.tempAttach(sub);
                vk.tempAttach(sub);
                NDArray gs = g.mul(scale);
                mk.muli(beta1).addi(gs.mul(1 - beta1));
                vk.muli(beta2).addi(gs.square().mul(1 - beta2));
                NDArray update = mk.div(bc1).div(vk.div(bc2).sqrt().add(eps));
                if (weightDecay > 0 && w.getShape().dimension() >= 2) { // no decay on norms and biases
                    update = update.add(w.mul(weightDecay));
                }
                w.subi(update.mul(lr * lrScale(k)));
            }
            g.subi(g); // zero the accumulated gradient in place
        }
        return norm;
    }

    /** Zeroes every gradient without updating (used when a step is skipped). */
    public static void zeroGradients(Map<String, NDArray> params, NDManager scratch) {
        for (NDArray w : params.values()) {
            if (w.hasGradient()) {
                NDArray g = w.getGradient();
                g.attach(scratch);
                g.muli(0);
                g.set(new ai.djl.ndarray.index.NDIndex("..."), 0f); // clears NaN and inf too
            }
        }
    }

    public long stepCount() {
        return step;
    }

    /** Moments for checkpointing: "m." and "v." + parameter name. */
    public Map<String, NDArray> state() {
        Map<String, NDArray> s = new LinkedHashMap<>();
        m.forEach((k, a) -> s.put("m." + k, a));
        v.forEach((k, a) -> s.put("v." + k, a));
        return s;
    }

    /** Restores moments and the step count (arrays are copied into {@code manager}). */
    public void restore(Map<String, float[]> state, Map<String, NDArray> params, long stepCount, NDManager manager) {
        for (var e : state.entrySet()) {
            String key = e.getKey();
            String name = key.substring(2);
            NDArray p = params.get(name);
            if (p == null) {
                continue;
            }
            NDArray a = manager.create(e.getValue(), p.getShape());
            (key.startsWith("m.") ? m : v).put(name, a);
        }
        this.step = stepCount;
    }
}
