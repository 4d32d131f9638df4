package io.tokensieve.train;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The answer probe's measures on hidden states built to hold known things: noise, the four cells one-hot, or only the
 * answer. A probe that read labels from anywhere but the hidden state, or mixed up fit and measured halves, fails.
 */
class AnswerProbeTest {
    private static final int GRID = 8;
    private static final int D = 40;

    @Test
    void readOutsFindWhatEachStageHoldsAndNothingElse() {
        Random r = new Random(5);
        List<float[][]> hidden = new ArrayList<>();
        List<int[]> labels = new ArrayList<>();
        for (int q = 0; q < 400; q++) {
            int axis = r.nextInt(2);
            int[] cells = new int[4];
            for (int k = 0; k < 4; k++) {
                cells[k] = r.nextInt(GRID);
            }
            while (cells[axis] == cells[2 + axis]) { // the asked axis tells the objects apart, as questions do
                cells[2 + axis] = r.nextInt(GRID);
            }
            int sign = Integer.signum(cells[axis] - cells[2 + axis]);
            labels.add(new int[] {cells[0], cells[1], cells[2], cells[3], axis, sign});
            float[] noise = new float[D];
            float[] cellsHot = new float[D];
            float[] answerOnly = new float[D];
            for (int k = 0; k < D; k++) {
                noise[k] = (float) r.nextGaussian();
                cellsHot[k] = 0.05f * (float) r.nextGaussian();
                answerOnly[k] = (float) r.nextGaussian();
            }
            for (int k = 0; k < 4; k++) {
                cellsHot[k * GRID + cells[k]] += 1;
            }
            answerOnly[0] = 3 * sign;
            noise[1] = axis == 0 ? -2 : 2; // every stage holds the asked axis, as the question's words give it
            hidden.add(new float[][] {noise, cellsHot, answerOnly});
        }
        AnswerProbe.Report rep = AnswerProbe.measure(hidden, labels, GRID);
        assertEquals(200, rep.measured());
        assertEquals(List.of("embedding", "after layer 1", "after layer 2"),
                rep.rows().stream().map(AnswerProbe.Row::stage).toList());
        AnswerProbe.Row noise = rep.rows().get(0);
        AnswerProbe.Row cells = rep.rows().get(1);
        AnswerProbe.Row answer = rep.rows().get(2);
        for (int k = 0; k < 4; k++) {
            assertTrue(noise.exact()[k] < 0.3, "noise holds no cell: " + noise.exact()[k]);
            assertTrue(cells.exact()[k] > 0.95, "one-hot cells are read: " + cells.exact()[k]);
            assertTrue(answer.exact()[k] < 0.3, "the answer alone holds no cell: " + answer.exact()[k]);
            assertTrue(rep.frequent()[k] > 0.05 && rep.frequent()[k] < 0.3, "most frequent cell: " + rep.frequent()[k]);
        }
        assertTrue(cells.ordered() > 0.95, "read cells order the objects: " + cells.ordered());
        assertTrue(noise.ordered() < 0.65 && noise.answer() < 0.65, noise.ordered() + " " + noise.answer());
        assertTrue(answer.answer() > 0.97, "the answer is read where it is held: " + answer.answer());
        assertTrue(noise.axis() > 0.95, "the control reads the asked axis: " + noise.axis());
        assertTrue(cells.axis() < 0.7, "nor where it is not held: " + cells.axis());
        String table = AnswerProbe.table(rep, 400);
        assertTrue(table.contains("| after layer 1 | 100.0 |") || table.contains("| after layer 1 | 9"), table);
        assertTrue(table.contains("most frequent cell"), table);
    }

    @Test
    void theNameReadOutFindsTheNamedWordWhereAStageHoldsItAndTheQuestionsWordsAreParsed() {
        assertEquals(io.tokensieve.datasets.shapes.Shape2d.TRIANGLE.ordinal(),
                AnswerProbe.named("What colour is the small triangle?", true));
        assertEquals(io.tokensieve.datasets.shapes.Shape2d.TRIANGLE.ordinal(), AnswerProbe.named("How many triangles?", true));
        assertEquals(io.tokensieve.datasets.shapes.Colour.RED.ordinal(),
                AnswerProbe.named("What shape is the red object?", false));
        assertEquals(-1, AnswerProbe.named("What shape is the large object?", false));
        Random r = new Random(9);
        int classes = 5;
        List<float[][]> hidden = new ArrayList<>();
        int[] labels = new int[300];
        for (int q = 0; q < labels.length; q++) {
            labels[q] = r.nextInt(10) < 4 ? 0 : 1 + r.nextInt(classes - 1); // class 0 the most frequent
            float[] noise = new float[D];
            float[] held = new float[D];
            for (int k = 0; k < D; k++) {
                noise[k] = (float) r.nextGaussian();
                held[k] = 0.1f * (float) r.nextGaussian();
            }
            held[labels[q]] += 1;
            hidden.add(new float[][] {noise, held});
        }
        double[] got = AnswerProbe.readClasses(hidden, labels, classes);
        assertEquals(3, got.length);
        assertTrue(got[0] < 0.55, "noise holds no name: " + got[0]);
        assertTrue(got[1] > 0.97, "a stage holding the name one-hot is read: " + got[1]);
        assertTrue(got[2] > 0.3 && got[2] < 0.5, "the most frequent name's share: " + got[2]);
        AnswerProbe.Names names = new AnswerProbe.Names(150, 150,
                List.of(new AnswerProbe.NameRow("embedding", got[0], got[0]), new AnswerProbe.NameRow("after layer 1", got[1], 0.5)),
                got[2], 0.2);
        String table = AnswerProbe.namesTable(names, 300);
        assertTrue(table.contains("| after layer 1 | ") && table.contains(" | 50.0 |"), table);
        assertTrue(table.contains("| the fitted half's most frequent word | ") && table.contains(" | 20.0 |"), table);
    }
}
