package io.tokensieve.datasets.shapes;

/**
 * One object of a 2D scene graph. Answers are computed from these fields only.
 *
 * @param id index in the scene's draw order (0 = bottom)
 * @param colour fill colour
 * @param shape outline kind
 * @param size size class
 * @param cx centre x (pixel)
 * @param cy centre y (pixel)
 * @param radius circumradius in pixels
 * @param outline the filled polygon (integer vertices)
 * @param glyph printed character, or {@code 0} when the object carries none
 * @param glyphX left column of the 10x14 glyph box (meaningful when {@link #hasGlyph()})
 * @param glyphY top row of the glyph box
 * @param area pixels of the whole polygon
 * @param visible pixels not covered by objects drawn later
 */
public record SceneObject(int id, Colour colour, Shape2d shape, Size size, int cx, int cy, int radius,
                          Polygon outline, char glyph, int glyphX, int glyphY, int area, int visible) {
    public boolean hasGlyph() {
        return glyph != 0;
    }

    /** "red circle". */
    public String name() {
        return colour.word() + " " + shape.word();
    }

    SceneObject withVisible(int v) {
        return new SceneObject(id, colour, shape, size, cx, cy, radius, outline, glyph, glyphX, glyphY, area, v);
    }
}
