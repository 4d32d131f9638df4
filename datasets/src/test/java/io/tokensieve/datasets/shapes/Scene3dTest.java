package io.tokensieve.datasets.shapes;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The 3D track: answers from the scene graph, and depth / poses / per-patch xyz that agree with the geometry. */
class Scene3dTest {
    private static final long SEED = 11;

    @Test
    void answersFollowFromTheSceneGraph() {
        Map<String, Integer> families = new TreeMap<>();
        for (int i = 0; i < 64; i++) {
            Scene3d scene = SceneSampler3d.sample(Rng.of(Track.THREE_D, SEED, i, 1));
            for (String family : ScanQaQuestions.FAMILIES) {
                ScanQaQuestions.Question q = ScanQaQuestions.family(scene, family, new Rng(i));
                if (q == null) {
                    continue;
                }
                families.merge(family, 1, Integer::sum);
                assertEquals(expected(scene, q.text()), q.answers().get(0), q.text());
                for (String a : q.answers().subList(1, q.answers().size())) {
                    long sameShape = scene.objects().stream().filter(o -> o.shape().word().equals(a)).count();
                    assertEquals(1, sameShape, "a bare shape answer must be unambiguous: " + a);
                }
            }
        }
        assertEquals(ScanQaQuestions.FAMILIES.size(), families.size(), families.toString());
        assertTrue(families.get("above") >= 20, "most scenes stack something: " + families);
    }

    private static String expected(Scene3d scene, String q) {
        Matcher m;
        List<Object3d> all = scene.objects();
        if ((m = Oracle2d.match("Which object is (closest to|farthest from) the (\\w+ \\w+)\\?", q)) != null) {
            Object3d a = named(scene, m.group(2));
            boolean near = m.group(1).startsWith("closest");
            List<Object3d> others = new ArrayList<>(all);
            others.remove(a);
            others.sort((x, y) -> Double.compare(a.distanceTo(x), a.distanceTo(y)));
            Object3d best = near ? others.get(0) : others.get(others.size() - 1);
            Object3d next = near ? others.get(1) : others.get(others.size() - 2);
            assertTrue(near ? a.distanceTo(next) >= 1.25 * a.distanceTo(best) - 1e-9
                    : a.distanceTo(best) >= 1.25 * a.distanceTo(next) - 1e-9, "clear winner: " + q);
            return best.name();
        }
        if (q.equals("Which object is the tallest?")) {
            Object3d best = all.stream().max((x, y) -> Double.compare(x.height(), y.height())).orElseThrow();
            all.stream().filter(o -> o != best).forEach(o -> assertTrue(best.height() >= 1.25 * o.height() - 1e-9));
            return best.name();
        }
        if ((m = Oracle2d.match("How many (\\w+) are there\\?", q)) != null) {
            String w = m.group(1);
            return Long.toString(all.stream().filter(o -> w.equals("objects") || o.shape().plural().equals(w)).count());
        }
        if ((m = Oracle2d.match("How many (\\w+) objects are there\\?", q)) != null) {
            String w = m.group(1);
            return Long.toString(all.stream().filter(o -> o.colour().word().equals(w)).count());
        }
        if ((m = Oracle2d.match("What colour is the (\\w+)\\?", q)) != null) {
            String w = m.group(1);
            List<Object3d> hits = all.stream().filter(o -> o.shape().word().equals(w)).toList();
            assertEquals(1, hits.size(), q);
            return hits.get(0).colour().word();
        }
        if ((m = Oracle2d.match("What shape is the (\\w+) object\\?", q)) != null) {
            String w = m.group(1);
            List<Object3d> hits = all.stream().filter(o -> o.colour().word().equals(w)).toList();
            assertEquals(1, hits.size(), q);
            return hits.get(0).shape().word();
        }
        if ((m = Oracle2d.match("What is on top of the (\\w+ \\w+)\\?", q)) != null) {
            Object3d base = named(scene, m.group(1));
            List<Object3d> hits = all.stream().filter(o -> Math.abs(o.z0() - base.top()) < 1e-9
                    && Math.hypot(o.x() - base.x(), o.y() - base.y()) < base.radius()).toList();
            assertEquals(1, hits.size(), q);
            return hits.get(0).name();
        }
        if ((m = Oracle2d.match("What is under the (\\w+ \\w+)\\?", q)) != null) {
            Object3d top = named(scene, m.group(1));
            List<Object3d> hits = all.stream().filter(o -> Math.abs(top.z0() - o.top()) < 1e-9
                    && Math.hypot(o.x() - top.x(), o.y() - top.y()) < o.radius()).toList();
            assertEquals(1, hits.size(), q);
            return hits.get(0).name();
        }
        throw new AssertionError("unparsed question: " + q);
    }

    private static Object3d named(Scene3d scene, String name) {
        List<Object3d> hits = scene.objects().stream().filter(o -> o.name().equals(name)).toList();
        assertEquals(1, hits.size(), name);
        return hits.get(0);
    }

    /** Every valid depth pixel back-projects onto the floor or onto an object's surface. */
    @Test
    void depthPosesAndPatchXyzAgreeWithTheGeometry() {
        for (int s = 0; s < 4; s++) {
            ShapesBench.Posed posed = ShapesBench.posedScene(SEED, s, 3);
            Scene3d scene = posed.scene();
            int onObjects = 0;
            for (PosedView v : posed.views()) {
                double[] pose = v.camera().pose();
                double[] k = v.camera().intrinsic();
                assertEquals(Camera.format(pose), Camera.format(Camera.parse(Camera.format(pose))));
                // rotation part is orthonormal and the camera looks down at the scene
                for (int r = 0; r < 3; r++) {
                    double norm = pose[r] * pose[r] + pose[4 + r] * pose[4 + r] + pose[8 + r] * pose[8 + r];
                    assertEquals(1.0, norm, 1e-5);
                }
                assertTrue(pose[10] < 0, "forward axis points down");
                assertTrue(pose[11] > 1, "camera above the floor");
                for (int p = 0; p < v.depthMm().length; p += 7) {
                    int mm = v.depthMm()[p];
                    if (mm == 0) {
                        continue;
                    }
                    double[] w = PatchXyz.backProject(p % 224, p / 224, mm, k, pose);
                    onObjects += onSurface(scene, w) ? 1 : 0;
                }
                float[][] xyz = v.patchXyz();
                assertEquals(256, xyz.length);
                for (int t = 0; t < 256; t++) {
                    int u = (t % 16) * 14 + 7;
                    int row = (t / 16) * 14 + 7;
                    assertTrue(Float.isFinite(xyz[t][0]), "patch " + t);
                    double[] w = {xyz[t][0], xyz[t][1], xyz[t][2]};
                    onSurface(scene, w);
                    if (v.depthMm()[row * 224 + u] != 0) {
                        double[] c = PatchXyz.backProject(u, row, v.depthMm()[row * 224 + u], k, pose);
                        assertEquals((float) c[0], xyz[t][0]);
                        assertEquals((float) c[2], xyz[t][2]);
                    }
                }
            }
            assertTrue(onObjects > 100, "objects are visible");
        }
    }

    /** Fails unless {@code w} lies on the floor or within 1.5 cm of an object; true when on an object. */
    private static boolean onSurface(Scene3d scene, double[] w) {
        double tol = 0.015;
        if (Math.abs(w[2]) < 0.002 && Math.abs(w[0]) <= RayCaster.FLOOR_HALF + tol
                && Math.abs(w[1]) <= RayCaster.FLOOR_HALF + tol) {
            return false;
        }
        for (Object3d o : scene.objects()) {
            double reach = o.shape() == Shape3d.CUBE ? o.radius() * Math.sqrt(2) : o.radius();
            if (Math.hypot(w[0] - o.x(), w[1] - o.y()) <= reach + tol && w[2] >= o.z0() - tol && w[2] <= o.top() + tol) {
                return true;
            }
        }
        throw new AssertionError("point " + w[0] + "," + w[1] + "," + w[2] + " is on no surface");
    }

    @Test
    void sharedRenderGivesTheSameQuestions() {
        ShapesBench.Posed posed = ShapesBench.posedScene(SEED, 1, 2);
        for (int i = 4; i < 8; i++) {
            Scene3dExample shared = ShapesBench.scene3d(posed, i, "val");
            Scene3dExample fresh = ShapesBench.scene3d(SEED, i, 2);
            assertEquals(fresh.questionId(), shared.questionId());
            assertEquals(fresh.question(), shared.question());
            assertEquals(fresh.answers(), shared.answers());
            assertEquals(fresh.objectIds(), shared.objectIds());
            assertArrayEquals(fresh.views().get(1).depthMm(), shared.views().get(1).depthMm());
        }
        assertThrows(IllegalArgumentException.class,
                () -> ShapesBench.scene3d(posed, 8, "val"));
    }

    @Test
    void nearestValidDepthIsUsedWhenThePatchCentreMisses() {
        int[] depth = new int[224 * 224];
        depth[10 * 224 + 30] = 2000;
        depth[12 * 224 + 5] = 1000;
        assertEquals(List.of(5, 12), List.of(PatchXyz.nearestWithDepth(depth, 224, 7, 7)[0],
                PatchXyz.nearestWithDepth(depth, 224, 7, 7)[1]));
        depth[7 * 224 + 7] = 500;
        assertEquals(7, PatchXyz.nearestWithDepth(depth, 224, 7, 7)[0]);
        // equal distances: the upper row wins
        int[] tie = new int[224 * 224];
        tie[5 * 224 + 10] = 1;
        tie[9 * 224 + 10] = 1;
        assertEquals(5, PatchXyz.nearestWithDepth(tie, 224, 10, 7)[1]);
    }
}
