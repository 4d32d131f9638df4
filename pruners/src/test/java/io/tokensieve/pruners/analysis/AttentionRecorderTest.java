package io.tokensieve.pruners.analysis;

import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.HookPoint;
import io.tokensieve.core.prune.Need;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneDecision;
import io.tokensieve.core.prune.PruneStep;
import io.tokensieve.core.runtime.GenerationConfig;
import io.tokensieve.core.runtime.GenerationResult;
import io.tokensieve.core.runtime.VisualInput;
import io.tokensieve.core.runtime.VlmModel;
import io.tokensieve.core.runtime.VlmRequest;
import io.tokensieve.core.testing.TestModels;
import io.tokensieve.core.testing.TestPruners;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The recorder sees every layer's attention of an unpruned prefill and changes nothing. */
class AttentionRecorderTest {
    @TempDir
    Path tmp;

    @Test
    void recordsEveryLayerAndTheRecomputedRowsMatchTheForwardPass() {
        VlmModel m = TestModels.tiny();
        VisualInput img = m.image(TestModels.rgbPng(tmp, "a.png", 64, 64, 9));
        long[] ids = m.promptIds("how many circles ?", 1);
        List<AttentionRecorder.Prefill> got = new ArrayList<>();
        GenerationResult rec = m.generate(List.of(VlmRequest.of(ids, List.of(img),
                AttentionRecorder.configured(got::add, AttentionRecorder.Rows.ALL))), GenerationConfig.greedy(1)).get(0);
        GenerationResult base = m.generate(List.of(VlmRequest.of(ids, List.of(img), null)), GenerationConfig.greedy(1)).get(0);
        assertArrayEquals(base.firstTokenLogits(), rec.firstTokenLogits());
        assertEquals(1, got.size());
        AttentionRecorder.Prefill p = got.get(0);
        int layers = m.shape().layers();
        int t = p.layout().size();
        assertEquals(layers, p.layers());
        assertEquals(base.promptTokens(), t);
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < t; i++) {
                double sum = 0;
                for (int j = 0; j < t; j++) {
                    if (j > i) {
                        assertEquals(0, p.attention()[l][i][j], 0, "causal");
                    }
                    sum += p.attention()[l][i][j];
                }
                assertEquals(1, sum, 1e-4, "layer " + l + " row " + i);
            }
        }
        // the last layer is recomputed from its weights; the same recomputation of layer L-2 equals its forward pass
        float[][] recomputed = new float[t][];
        ConfiguredPruner probe = TestPruners.of("probe", List.of(PruneStep.of("rows", HookPoint.beforeLayer(layers - 2),
                Need.NEXT_LAYER_ATTENTION_ROW)), List.of(ctx -> {
                    for (int s = 0; s < t; s += 6) {
                        recomputed[s] = ctx.nextLayerAttentionRow(s).mean(new int[] {0}).toFloatArray();
                    }
                    return PruneDecision.keepAll(ctx);
                }), PositionPolicy.KEEP, BudgetConvention.FINAL, Budget.ALL);
        m.generate(List.of(VlmRequest.of(ids, List.of(img), probe)), GenerationConfig.greedy(0));
        for (int s = 0; s < t; s += 6) {
            for (int j = 0; j <= s; j++) {
                assertEquals(p.attention()[layers - 2][s][j], recomputed[s][j], 1e-5);
            }
        }
        // text rows only: the other rows of the last layer stay zero
        List<AttentionRecorder.Prefill> text = new ArrayList<>();
        m.generate(List.of(VlmRequest.of(ids, List.of(img), AttentionRecorder.configured(text::add,
                AttentionRecorder.Rows.TEXT_AFTER_FIRST_VISUAL))), GenerationConfig.greedy(0));
        int firstVisual = p.layout().visualSlots()[0];
        assertEquals(0, text.get(0).attention()[layers - 1][firstVisual][0], 0);
        assertArrayEquals(p.attention()[layers - 1][t - 1], text.get(0).attention()[layers - 1][t - 1], 1e-6f);
    }
}
