package io.tokensieve.core.prune;

/**
 * One image of a request in the original visual-token space and in the unpruned sequence.
 *
 * @param image image index in the request (prompt order)
 * @param firstVisual original index of its first visual token
 * @param count visual tokens of this image
 * @param gridRows patch rows
 * @param gridCols patch columns
 * @param sequenceStart position of its first visual token in the unpruned prompt
 * @param multiView whether its tokens carry xyz origins (multi-view 3D input)
 */
public record ImageSpan(int image, int firstVisual, int count, int gridRows, int gridCols, int sequenceStart,
                        boolean multiView) {
    public int endVisual() {
        return firstVisual + count;
    }

    public boolean contains(int visualIndex) {
        return visualIndex >= firstVisual && visualIndex < firstVisual + count;
    }
}
