package io.tokensieve.datasets.shapes;

import java.util.ArrayList;
import java.util.List;

/**
 * Referring phrases ("the red circle", {@code is_sentence=false}) and reasoning sentences ("Which shape is to
 * the left of the blue triangle?", {@code is_sentence=true}) for ReasonSeg-style masks. Only objects that no
 * other object covers can be targets, so the target polygon is exactly the visible region. Every expression
 * matches exactly one object of the scene graph.
 */
final class SegExpressions {
    static final String REFERRING = "referring";
    static final String REASONING = "reasoning";
    /** Offsets (px) at or above this count as "left of" etc.; at or below {@link #CLEAR} as clearly not. */
    static final int MARGIN = 16;
    static final int CLEAR = 4;

    /**
     * @param anchorId the object a reasoning sentence finds its target through ("the blue triangle" of "Which shape is
     *     to the left of the blue triangle?"), -1 for phrases and for sentences that name none ("the largest")
     */
    record Expression(String text, boolean isSentence, int targetId, String family, int anchorId) {}

    private SegExpressions() {}

    static Expression make(Scene2d scene, boolean reasoning, Rng rng) {
        List<Expression> pool = reasoning ? reasoning(scene) : referring(scene);
        if (pool.isEmpty()) {
            pool = reasoning ? referring(scene) : reasoning(scene);
        }
        return pool.isEmpty() ? null : rng.pick(pool);
    }

    static boolean unoccluded(SceneObject o) {
        return o.visible() == o.area();
    }

    static List<Expression> referring(Scene2d scene) {
        List<Expression> out = new ArrayList<>();
        for (SceneObject t : scene.objects()) {
            if (!unoccluded(t)) {
                continue;
            }
            List<Referent> forms = List.of(new Referent(null, t.colour(), t.shape()), new Referent(null, null, t.shape()),
                    new Referent(null, t.colour(), null), new Referent(t.size(), null, t.shape()),
                    new Referent(t.size(), t.colour(), null));
            List<String> seen = new ArrayList<>();
            for (Referent r : forms) {
                String text = r.definite();
                if (r.unique(scene) && !seen.contains(text)) {
                    seen.add(text);
                    out.add(new Expression(text, false, t.id(), REFERRING, -1));
                }
            }
        }
        return out;
    }

    static List<Expression> reasoning(Scene2d scene) {
        List<Expression> out = new ArrayList<>();
        List<SceneObject> all = scene.objects();
        for (SceneObject a : all) {
            String an = Referent.of(a).definite();
            directional(scene, a, 0, "Which shape is to the left of " + an + "?", out);
            directional(scene, a, 1, "Which shape is to the right of " + an + "?", out);
            directional(scene, a, 2, "Which shape is above " + an + "?", out);
            directional(scene, a, 3, "Which shape is below " + an + "?", out);
            distance(scene, a, true, "Which shape is closest to " + an + "?", out);
            distance(scene, a, false, "Which shape is farthest from " + an + "?", out);
            for (Referent byShape : Referent.uniqueWithout(scene, a, true, false)) {
                sameAttribute(scene, a, true, "Which shape has the same colour as " + byShape.definite() + "?", out);
            }
            for (Referent byColour : Referent.uniqueWithout(scene, a, false, true)) {
                sameAttribute(scene, a, false, "Which object has the same shape as " + byColour.definite() + "?", out);
            }
        }
        extreme(scene, 0, "Which shape is furthest to the left?", out);
        extreme(scene, 1, "Which shape is furthest to the right?", out);
        extreme(scene, 2, "Which shape is at the top?", out);
        extreme(scene, 3, "Which shape is at the bottom?", out);
        bySize(scene, true, "Which shape is the largest?", out);
        bySize(scene, false, "Which shape is the smallest?", out);
        return out;
    }

    /** Signed offset of {@code o} from {@code a} in direction 0 left, 1 right, 2 up, 3 down. */
    static int offset(SceneObject a, SceneObject o, int dir) {
        return switch (dir) {
            case 0 -> a.cx() - o.cx();
            case 1 -> o.cx() - a.cx();
            case 2 -> a.cy() - o.cy();
            default -> o.cy() - a.cy();
        };
    }

    private static void directional(Scene2d scene, SceneObject a, int dir, String text, List<Expression> out) {
        SceneObject hit = null;
        for (SceneObject o : scene.objects()) {
            if (o == a) {
                continue;
            }
            int d = offset(a, o, dir);
            if (d >= MARGIN) {
                if (hit != null) {
                    return;
                }
                hit = o;
            } else if (d > CLEAR) {
                return;
            }
        }
        if (hit != null && unoccluded(hit)) {
            out.add(new Expression(text, true, hit.id(), REASONING, a.id()));
        }
    }

    private static void distance(Scene2d scene, SceneObject a, boolean nearest, String text, List<Expression> out) {
        SceneObject best = null;
        double bestD = 0;
        double second = Double.NaN;
        for (SceneObject o : scene.objects()) {
            if (o == a) {
                continue;
            }
            double d = StrictMath.hypot(o.cx() - a.cx(), o.cy() - a.cy());
            if (best == null || (nearest ? d < bestD : d > bestD)) {
                second = best == null ? Double.NaN : bestD;
                best = o;
                bestD = d;
            } else if (Double.isNaN(second) || (nearest ? d < second : d > second)) {
                second = d;
            }
        }
        if (best == null || scene.objects().size() < 3 || !unoccluded(best)) {
            return;
        }
        boolean clear = nearest ? bestD <= 0.75 * second : bestD >= 1.25 * second;
        if (clear) {
            out.add(new Expression(text, true, best.id(), REASONING, a.id()));
        }
    }

    private static void sameAttribute(Scene2d scene, SceneObject a, boolean colour, String text, List<Expression> out) {
        SceneObject hit = null;
        for (SceneObject o : scene.objects()) {
            if (o != a && (colour ? o.colour() == a.colour() : o.shape() == a.shape())) {
                if (hit != null) {
                    return;
                }
                hit = o;
            }
        }
        if (hit != null && unoccluded(hit)) {
            out.add(new Expression(text, true, hit.id(), REASONING, a.id()));
        }
    }

    private static void extreme(Scene2d scene, int dir, String text, List<Expression> out) {
        // the object furthest in the direction, at least MARGIN beyond every other
        SceneObject best = null;
        for (SceneObject o : scene.objects()) {
            if (best == null || offset(best, o, dir) > 0) {
                best = o;
            }
        }
        for (SceneObject o : scene.objects()) {
            if (o != best && offset(o, best, dir) < MARGIN) {
                return;
            }
        }
        if (best != null && unoccluded(best) && scene.objects().size() >= 2) {
            out.add(new Expression(text, true, best.id(), REASONING, -1));
        }
    }

    private static void bySize(Scene2d scene, boolean largest, String text, List<Expression> out) {
        SceneObject best = null;
        for (SceneObject o : scene.objects()) {
            if (best == null || (largest ? o.area() > best.area() : o.area() < best.area())) {
                best = o;
            }
        }
        for (SceneObject o : scene.objects()) {
            if (o != best && (largest ? best.area() < 1.5 * o.area() : best.area() * 1.5 > o.area())) {
                return;
            }
        }
        if (best != null && unoccluded(best) && scene.objects().size() >= 2) {
            out.add(new Expression(text, true, best.id(), REASONING, -1));
        }
    }
}
