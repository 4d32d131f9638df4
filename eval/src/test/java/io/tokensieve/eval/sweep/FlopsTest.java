package io.tokensieve.eval.sweep;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** FastV's per-layer prefill FLOPs {@code 4nd^2 + 2n^2d + 2ndm}, worked by hand. */
class FlopsTest {
    @Test
    void perLayerFormula() {
        // n = 10 tokens, d = 4, m = 8: 4*10*16 + 2*100*4 + 2*10*4*8 = 640 + 800 + 640
        assertEquals(2080, Flops.layer(10, 4, 8, 2), 0);
        // CATP / SparseVLM write 3 n d m for the FFN
        assertEquals(640 + 800 + 960, Flops.layer(10, 4, 8, 3), 0);
        assertEquals(0, Flops.layer(0, 4, 8, 2), 0);
    }

    @Test
    void pruningHalfTheTokensInLaterLayersSavesTheirShare() {
        // LLaVA-1.5-7B widths (d = 4096, m = 11008), 32 layers, FastV K=2 R=50% on 576 image tokens: the
        // image-token FLOPs ratio is (2 f(576) + 30 f(288)) / (32 f(576))
        double full = 32 * Flops.layer(576, 4096, 11008, 2);
        double pruned = 2 * Flops.layer(576, 4096, 11008, 2) + 30 * Flops.layer(288, 4096, 11008, 2);
        double f576 = 4.0 * 576 * 4096 * 4096 + 2.0 * 576 * 576 * 4096 + 2.0 * 576 * 4096 * 11008;
        double f288 = 4.0 * 288 * 4096 * 4096 + 2.0 * 288 * 288 * 4096 + 2.0 * 288 * 4096 * 11008;
        assertEquals((2 * f576 + 30 * f288) / (32 * f576), pruned / full, 1e-12);
        assertEquals(0.53, pruned / full, 0.01);
    }
}
