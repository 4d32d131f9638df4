package io.tokensieve.core;

import io.tokensieve.core.prune.Budget;
import io.tokensieve.core.prune.BudgetConvention;
import io.tokensieve.core.prune.ConfiguredPruner;
import io.tokensieve.core.prune.ParamSpec;
import io.tokensieve.core.prune.PositionPolicy;
import io.tokensieve.core.prune.PruneException;
import io.tokensieve.core.prune.Pruner;
import io.tokensieve.core.prune.PrunerParams;
import io.tokensieve.core.prune.PrunerProvider;
import io.tokensieve.core.prune.PrunerRegistry;
import io.tokensieve.core.prune.ResolvedBudget;
import io.tokensieve.core.testing.TestPruners;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Spec strings, parameters and budgets. */
class PrunerSpecTest {
    static final class Demo implements PrunerProvider {
        @Override
        public String id() {
            return "demo";
        }

        @Override
        public String summary() {
            return "test";
        }

        @Override
        public String paper() {
            return "-";
        }

        @Override
        public List<ParamSpec> parameters() {
            return List.of(ParamSpec.ofInt("layer", "2", "k"), ParamSpec.ofEnum("mode", "a", "m", "a", "b"),
                    ParamSpec.ofDoubleList("ratios", "0.5/0.25", "r"));
        }

        @Override
        public BudgetConvention budgetConvention() {
            return BudgetConvention.FINAL;
        }

        @Override
        public Pruner create(PrunerParams params) {
            params.getInt("layer");
            return TestPruners.keepAll(io.tokensieve.core.prune.HookPoint.VISION).pruner();
        }
    }

    final PrunerRegistry reg = new PrunerRegistry(List.of(new Demo()));

    @Test
    void specsParseWithUniversalParameters() {
        ConfiguredPruner p = reg.create("demo:layer=3,keep=64,scope=request,position=renumber,seed=9,ratios=0.6/0.3/0.1");
        assertEquals("demo", p.id());
        assertEquals(new Budget(64, false, Budget.Scope.REQUEST), p.budget());
        assertEquals(PositionPolicy.RENUMBER, p.positions());
        assertEquals(9, p.seed());
        PrunerParams pp = new PrunerParams("demo", java.util.Map.of("ratios", "0.6/0.3/0.1"), new Demo().parameters());
        assertArrayEquals(new double[] {0.6, 0.3, 0.1}, pp.getDoubleList("ratios"));
        assertEquals(2, pp.getInt("layer"));
        assertEquals(Budget.ALL, reg.create("demo").budget());
    }

    @Test
    void badSpecsFailListingWhatIsKnown() {
        assertMessage("nope:keep=0.5", "unknown pruner 'nope' (known: demo)");
        assertMessage("demo:layr=2", "unknown parameter 'layr' (known: layer, mode, ratios, keep, scope, position, seed)");
        assertMessage("demo:layer=two", "parameter layer must be an integer, got 'two'");
        assertMessage("demo:mode=c", "must be one of a, b");
        assertMessage("demo:keep=0", "budget must be positive");
        assertMessage("demo:keep=-3", "budget must be positive");
        assertMessage("demo:keep=NaN", "finite");
        assertMessage("demo:keep=1.5", "at most 1.0");
        assertMessage("demo:keep=lots", "budget must be a number");
        assertMessage("demo:position=moved", "keep or renumber");
        assertMessage("demo:layer", "expected key=value");
        assertMessage("", "empty pruner spec");
        assertMessage("demo:layer=1,layer=2", "given twice");
    }

    private void assertMessage(String spec, String part) {
        PruneException e = assertThrows(PruneException.class, () -> reg.create(spec), spec);
        assertTrue(e.getMessage().contains(part), spec + " -> " + e.getMessage());
    }

    @Test
    void budgetsResolvePerImageOrPerRequest() {
        ResolvedBudget r = Budget.parse("0.25", Budget.Scope.IMAGE).resolve(new int[] {256, 256, 100});
        assertArrayEquals(new int[] {64, 64, 25}, r.perImage());
        assertEquals(153, r.total());
        r = Budget.parse("100", Budget.Scope.REQUEST).resolve(new int[] {256, 256, 100});
        assertEquals(100, r.total());
        assertArrayEquals(new int[] {42, 42, 16}, r.perImage());
        r = Budget.parse("0.11", Budget.Scope.IMAGE).resolve(new int[] {256});
        assertEquals(28, r.total()); // round(28.16)
        assertTrue(Budget.parse("1.0", Budget.Scope.IMAGE).keepsAll());
        assertEquals(1, Budget.parse("1", Budget.Scope.IMAGE).resolve(new int[] {64}).total());
        PruneException e = assertThrows(PruneException.class, () -> Budget.parse("300", Budget.Scope.IMAGE).resolve(new int[] {256}));
        assertTrue(e.getMessage().contains("above the 256"), e.getMessage());
        e = assertThrows(PruneException.class, () -> Budget.parse("0.001", Budget.Scope.IMAGE).resolve(new int[] {256}));
        assertTrue(e.getMessage().contains("keeps 0"), e.getMessage());
    }
}
