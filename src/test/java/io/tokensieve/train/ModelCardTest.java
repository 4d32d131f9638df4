package io.tokensieve.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The card is regenerated from measurements; hand-written notes beside the model survive every regeneration. */
class ModelCardTest {
    @Test
    void handWrittenNotesSurviveRegeneration(@TempDir Path dir) throws Exception {
        TrainSettings s = TrainSettings.smoke(2);
        var wl = Trainer.tokenizer();
        s.modelConfig(wl.size(), 4, 5, 1, 2, 3).save(dir);
        ModelCard.Training t = new ModelCard.Training(s, 2, 0.1, List.of("step 2 loss 1.0"), "test machine");
        ModelCard.write(dir, t, Map.of());
        String plain = Files.readString(dir.resolve("README.md"));
        assertFalse(plain.contains("Known gap"), "no notes, no section");
        assertTrue(plain.contains("caption"), "the card names the training-only caption task");

        Files.writeString(dir.resolve(ModelCard.NOTES), "## Known gap\n\nmeasured: something\n");
        ModelCard.write(dir, t, Map.of());
        ModelCard.write(dir, t, Map.of());
        String card = Files.readString(dir.resolve("README.md"));
        assertTrue(card.startsWith(plain.strip()), "the generated part is unchanged");
        assertEquals(1, card.split("## Known gap", -1).length - 1, "the notes appear exactly once");
        assertTrue(card.strip().endsWith("measured: something"), card);
    }
}
