package io.tokensieve.datasets.shapes;

import io.tokensieve.core.image.RgbImage;

/**
 * One rendered view of a 3D scene: the data its {@code posed_images/} files hold, and which object each pixel shows
 * (from the scene graph; not written to the files, used for training targets).
 *
 * @param frame frame number ({@code <frame 5 digits>.png})
 * @param colour the colour image
 * @param depthMm row-major z-depth in millimetres, 0 = no hit (the 16-bit depth PNG)
 * @param camera pose and intrinsics (the {@code .txt} files)
 * @param patchXyz world xyz of each of the 16x16 visual tokens, from {@link PatchXyz#compute}
 * @param objectIds row-major id of the object each pixel shows, -1 for floor and sky
 */
public record PosedView(int frame, RgbImage colour, int[] depthMm, Camera camera, float[][] patchXyz, int[] objectIds) {}
