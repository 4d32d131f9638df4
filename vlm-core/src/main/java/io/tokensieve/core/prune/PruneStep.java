package io.tokensieve.core.prune;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * One step of a pruner's schedule: where it acts, what it reads, and whether it may bring back tokens
 * that an earlier step dropped.
 *
 * @param name short label used in traces and error messages (e.g. "stage1")
 * @param hook hook point
 * @param needs what the step reads
 * @param attentionLayers decoder layers whose attention probabilities the step reads (each below the
 *     hook's layer); empty unless {@link Need#ATTENTION} is declared
 * @param reactivates whether kept sets may contain tokens that are not live at this step
 */
public record PruneStep(String name, HookPoint hook, Set<Need> needs, List<Integer> attentionLayers,
                        boolean reactivates) {

    public PruneStep {
        needs = needs.isEmpty() ? EnumSet.noneOf(Need.class) : EnumSet.copyOf(needs);
        attentionLayers = List.copyOf(attentionLayers);
        if (!attentionLayers.isEmpty() && !needs.contains(Need.ATTENTION)) {
            needs.add(Need.ATTENTION);
        }
        if (needs.contains(Need.ATTENTION)) {
            if (!hook.isLayer()) {
                throw new IllegalArgumentException("step " + name + ": ATTENTION needs a BEFORE_LAYER hook");
            }
            if (attentionLayers.isEmpty()) {
                attentionLayers = List.of(hook.layer() - 1);
            }
            for (int l : attentionLayers) {
                if (l < 0 || l >= hook.layer()) {
                    throw new IllegalArgumentException("step " + name + " at " + hook + " cannot read the attention of layer "
                            + l + " (only layers 0.." + (hook.layer() - 1) + " have run)");
                }
            }
        }
        if (needs.contains(Need.KEYS) && (!hook.isLayer() || hook.layer() < 1)) {
            throw new IllegalArgumentException("step " + name + ": KEYS needs a BEFORE_LAYER(k >= 1) hook");
        }
    }

    public static PruneStep of(String name, HookPoint hook, Need... needs) {
        return new PruneStep(name, hook, needs.length == 0 ? EnumSet.noneOf(Need.class) : EnumSet.of(needs[0], needs),
                List.of(), false);
    }

    public PruneStep withAttentionLayers(Integer... layers) {
        Set<Need> n = EnumSet.copyOf(needs);
        n.add(Need.ATTENTION);
        return new PruneStep(name, hook, n, List.of(layers), reactivates);
    }

    public PruneStep withReactivation() {
        return new PruneStep(name, hook, needs, attentionLayers, true);
    }

    public boolean needs(Need n) {
        return needs.contains(n);
    }
}
