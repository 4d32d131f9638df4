package io.tokensieve.datasets.shapes;

/**
 * What a track asks of its 2D scenes.
 *
 * @param minObjects fewest objects
 * @param maxObjects most objects
 * @param overlapChance probability that an object may be placed partly over earlier ones
 * @param glyphChance probability that a large object carries a printed character
 * @param minGlyphs fewest objects with a printed character
 */
record SceneSpec(int minObjects, int maxObjects, double overlapChance, double glyphChance, int minGlyphs) {
    static final SceneSpec VQA = new SceneSpec(2, 8, 0.3, 0.6, 1);
    static final SceneSpec POPE = new SceneSpec(3, 8, 0.3, 0.4, 0);
    static final SceneSpec SEG = new SceneSpec(2, 8, 0.3, 0.4, 0);
}
