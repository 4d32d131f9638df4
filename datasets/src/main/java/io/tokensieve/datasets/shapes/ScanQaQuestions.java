package io.tokensieve.datasets.shapes;

import java.util.ArrayList;
import java.util.List;

/**
 * ScanQA-style questions about 3D relations in world coordinates, computed from the {@link Scene3d} graph.
 * Object answers are names ("blue cube"); counts are digits (ScanQA's answer cleaning maps digits and number
 * words to the same form on both sides).
 */
final class ScanQaQuestions {
    static final String NEAREST = "nearest";
    static final String FARTHEST = "farthest";
    static final String TALLEST = "tallest";
    static final String COUNT = "count";
    static final String COLOUR = "colour";
    static final String SHAPE = "shape";
    static final String ABOVE = "above";
    static final String BELOW = "below";
    static final List<String> FAMILIES = List.of(NEAREST, FARTHEST, TALLEST, COUNT, COLOUR, SHAPE, ABOVE, BELOW);
    /** The winner of nearest/farthest/tallest must beat the runner-up by this factor. */
    static final double CLEAR_RATIO = 1.25;

    /** A question, its answers, and the objects it is about (ScanQA object_ids). */
    record Question(String family, String text, List<String> answers, List<Integer> objectIds) {}

    private ScanQaQuestions() {}

    static Question ask(Scene3d scene, int firstFamily, Rng rng) {
        for (int k = 0; k < FAMILIES.size(); k++) {
            Question q = family(scene, FAMILIES.get((firstFamily + k) % FAMILIES.size()), rng);
            if (q != null) {
                return q;
            }
        }
        throw new IllegalStateException("no 3D family fits the scene");
    }

    static Question family(Scene3d scene, String family, Rng rng) {
        return switch (family) {
            case NEAREST -> distance(scene, true, rng);
            case FARTHEST -> distance(scene, false, rng);
            case TALLEST -> tallest(scene);
            case COUNT -> count(scene, rng);
            case COLOUR -> colour(scene, rng);
            case SHAPE -> shape(scene, rng);
            case ABOVE -> above(scene);
            case BELOW -> below(scene);
            default -> throw new IllegalArgumentException("unknown 3D family " + family);
        };
    }

    /** The object's name, plus its bare shape word when no other object has that shape. */
    static List<String> answersFor(Scene3d scene, Object3d o) {
        int same = 0;
        for (Object3d x : scene.objects()) {
            same += x.shape() == o.shape() ? 1 : 0;
        }
        return same == 1 ? List.of(o.name(), o.shape().word()) : List.of(o.name());
    }

    private static Question distance(Scene3d scene, boolean nearest, Rng rng) {
        List<Question> pool = new ArrayList<>();
        for (Object3d a : scene.objects()) {
            Object3d best = null;
            double bestD = 0;
            double second = Double.NaN;
            for (Object3d o : scene.objects()) {
                if (o == a) {
                    continue;
                }
                double d = a.distanceTo(o);
                if (best == null || (nearest ? d < bestD : d > bestD)) {
                    second = best == null ? Double.NaN : bestD;
                    best = o;
                    bestD = d;
                } else if (Double.isNaN(second) || (nearest ? d < second : d > second)) {
                    second = d;
                }
            }
            if (best == null || Double.isNaN(second)) {
                continue;
            }
            if (nearest ? bestD * CLEAR_RATIO <= second : bestD >= second * CLEAR_RATIO) {
                String text = nearest ? "Which object is closest to the " + a.name() + "?"
                        : "Which object is farthest from the " + a.name() + "?";
                pool.add(new Question(nearest ? NEAREST : FARTHEST, text, answersFor(scene, best), List.of(best.id())));
            }
        }
        return pool.isEmpty() ? null : rng.pick(pool);
    }

    private static Question tallest(Scene3d scene) {
        Object3d best = null;
        for (Object3d o : scene.objects()) {
            if (best == null || o.height() > best.height()) {
                best = o;
            }
        }
        for (Object3d o : scene.objects()) {
            if (o != best && best.height() < o.height() * CLEAR_RATIO) {
                return null;
            }
        }
        return new Question(TALLEST, "Which object is the tallest?", answersFor(scene, best), List.of(best.id()));
    }

    private static Question count(Scene3d scene, Rng rng) {
        Object3d any = rng.pick(scene.objects());
        int form = rng.nextInt(3);
        List<Integer> ids = new ArrayList<>();
        for (Object3d o : scene.objects()) {
            boolean match = switch (form) {
                case 0 -> o.shape() == any.shape();
                case 1 -> o.colour() == any.colour();
                default -> true;
            };
            if (match) {
                ids.add(o.id());
            }
        }
        String text = switch (form) {
            case 0 -> "How many " + any.shape().plural() + " are there?";
            case 1 -> "How many " + any.colour().word() + " objects are there?";
            default -> "How many objects are there?";
        };
        return new Question(COUNT, text, List.of(Integer.toString(ids.size())), ids);
    }

    private static Question colour(Scene3d scene, Rng rng) {
        List<Object3d> pool = new ArrayList<>();
        for (Object3d o : scene.objects()) {
            int same = 0;
            for (Object3d x : scene.objects()) {
                same += x.shape() == o.shape() ? 1 : 0;
            }
            if (same == 1) {
                pool.add(o);
            }
        }
        if (pool.isEmpty()) {
            return null;
        }
        Object3d o = rng.pick(pool);
        return new Question(COLOUR, "What colour is the " + o.shape().word() + "?", List.of(o.colour().word()),
                List.of(o.id()));
    }

    private static Question shape(Scene3d scene, Rng rng) {
        List<Object3d> pool = new ArrayList<>();
        for (Object3d o : scene.objects()) {
            int same = 0;
            for (Object3d x : scene.objects()) {
                same += x.colour() == o.colour() ? 1 : 0;
            }
            if (same == 1) {
                pool.add(o);
            }
        }
        if (pool.isEmpty()) {
            return null;
        }
        Object3d o = rng.pick(pool);
        return new Question(SHAPE, "What shape is the " + o.colour().word() + " object?", List.of(o.shape().word()),
                List.of(o.id()));
    }

    private static Question above(Scene3d scene) {
        for (Object3d top : scene.objects()) {
            if (top.supportId() >= 0) {
                Object3d base = scene.object(top.supportId());
                return new Question(ABOVE, "What is on top of the " + base.name() + "?", answersFor(scene, top),
                        List.of(top.id()));
            }
        }
        return null;
    }

    private static Question below(Scene3d scene) {
        for (Object3d top : scene.objects()) {
            if (top.supportId() >= 0) {
                Object3d base = scene.object(top.supportId());
                return new Question(BELOW, "What is under the " + top.name() + "?", answersFor(scene, base),
                        List.of(base.id()));
            }
        }
        return null;
    }
}
