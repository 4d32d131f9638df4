package io.tokensieve.datasets.shapes;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The project's own 5x7 bitmap font for the small printed characters (never a system font, so every machine
 * draws the same pixels). Only characters that cannot be mistaken for each other are included: no letter that
 * looks like a digit (O/0, I/1, S/5, B/8, Z/2, G/6, D/0, Q/0, J) and no "A" (an article that VQA answer
 * normalisation deletes).
 */
final class BitmapFont {
    static final int WIDTH = 5;
    static final int HEIGHT = 7;
    /** Drawn at 2x: a 10x14 px glyph, about one 14 px patch, so it needs fine visual detail to read. */
    static final int SCALE = 2;

    private static final Map<Character, String[]> GLYPHS = new TreeMap<>();

    static {
        glyph('0', " ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### ");
        glyph('1', "  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### ");
        glyph('2', " ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####");
        glyph('3', "#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### ");
        glyph('4', "   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # ");
        glyph('5', "#####", "#    ", "#### ", "    #", "    #", "#   #", " ### ");
        glyph('6', "  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### ");
        glyph('7', "#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   ");
        glyph('8', " ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### ");
        glyph('9', " ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  ");
        glyph('C', " ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### ");
        glyph('E', "#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####");
        glyph('F', "#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    ");
        glyph('H', "#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #");
        glyph('K', "#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #");
        glyph('L', "#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####");
        glyph('M', "#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #");
        glyph('N', "#   #", "#   #", "##  #", "# # #", "#  ##", "#   #", "#   #");
        glyph('P', "#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    ");
        glyph('R', "#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #");
        glyph('T', "#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ");
        glyph('U', "#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### ");
        glyph('V', "#   #", "#   #", "#   #", "#   #", "#   #", " # # ", "  #  ");
        glyph('W', "#   #", "#   #", "#   #", "# # #", "# # #", "# # #", " # # ");
        glyph('X', "#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #");
        glyph('Y', "#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  ");
    }

    private BitmapFont() {}

    private static void glyph(char c, String... rows) {
        if (rows.length != HEIGHT) {
            throw new IllegalStateException("glyph " + c + " needs " + HEIGHT + " rows");
        }
        for (String r : rows) {
            if (r.length() != WIDTH) {
                throw new IllegalStateException("glyph " + c + " row '" + r + "' is not " + WIDTH + " wide");
            }
        }
        GLYPHS.put(c, rows);
    }

    /** Every printable character, digits first, in a fixed order. */
    static List<Character> characters() {
        return new ArrayList<>(GLYPHS.keySet());
    }

    static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Whether font cell (col, row) of {@code c} is ink. */
    static boolean ink(char c, int col, int row) {
        String[] rows = GLYPHS.get(c);
        if (rows == null) {
            throw new IllegalArgumentException("no glyph for '" + c + "'");
        }
        return rows[row].charAt(col) == '#';
    }

    /** Pixel size of a drawn glyph. */
    static int drawnWidth() {
        return WIDTH * SCALE;
    }

    static int drawnHeight() {
        return HEIGHT * SCALE;
    }
}
