package io.tokensieve.datasets.shapes;

import java.util.ArrayList;
import java.util.List;

/**
 * Samples 3D scenes: 3-7 primitives with unique (colour, shape) pairs standing apart on the floor inside a
 * disc of radius {@link #AREA_RADIUS} m, and in most scenes one small primitive stacked on a cube or cylinder.
 */
final class SceneSampler3d {
    static final double AREA_RADIUS = 1.15;
    static final double STACK_CHANCE = 0.85;

    private SceneSampler3d() {}

    static Scene3d sample(Rng rng) {
        while (true) {
            Scene3d s = attempt(rng);
            if (s != null) {
                return s;
            }
        }
    }

    private static Scene3d attempt(Rng rng) {
        int n = rng.nextInt(3, 6);
        List<Object3d> objects = new ArrayList<>();
        for (int t = 0; t < 300 && objects.size() < n; t++) {
            Colour colour = Colour.values()[rng.weighted(Colour.priors())];
            Shape3d shape = Shape3d.values()[rng.nextInt(Shape3d.values().length)];
            if (taken(objects, colour, shape)) {
                continue;
            }
            Size size = rng.nextBoolean() ? Size.SMALL : Size.LARGE;
            double r = size == Size.SMALL ? rng.uniform(0.12, 0.18) : rng.uniform(0.24, 0.34);
            double h = height(shape, size, r, rng);
            double angle = rng.uniform(0, 2 * StrictMath.PI);
            double dist = AREA_RADIUS * Math.sqrt(rng.nextDouble());
            double x = dist * StrictMath.cos(angle);
            double y = dist * StrictMath.sin(angle);
            boolean free = true;
            for (Object3d o : objects) {
                free &= StrictMath.hypot(x - o.x(), y - o.y()) >= (r + o.radius()) * 1.42 + 0.12;
            }
            if (free) {
                objects.add(new Object3d(objects.size(), colour, shape, size, x, y, 0, r, h, -1));
            }
        }
        if (objects.size() < 3) {
            return null;
        }
        if (rng.nextDouble() < STACK_CHANCE) {
            stack(objects, rng);
        }
        double la = rng.uniform(0, 2 * StrictMath.PI);
        double[] light = normalise(new double[] {0.5 * StrictMath.cos(la), 0.5 * StrictMath.sin(la), 1.0});
        return new Scene3d(objects, light, rng.nextLong());
    }

    private static double height(Shape3d shape, Size size, double r, Rng rng) {
        return switch (shape) {
            case SPHERE, CUBE -> 2 * r;
            case CYLINDER, CONE -> size == Size.SMALL ? rng.uniform(0.22, 0.40) : rng.uniform(0.55, 0.95);
        };
    }

    /** Puts one small primitive on a flat-topped object, when one exists. */
    private static void stack(List<Object3d> objects, Rng rng) {
        List<Object3d> bases = new ArrayList<>();
        for (Object3d o : objects) {
            if (o.shape().flatTop() && o.radius() >= 0.2) {
                bases.add(o);
            }
        }
        if (bases.isEmpty()) {
            return;
        }
        Object3d base = rng.pick(bases);
        for (int t = 0; t < 50; t++) {
            Colour colour = Colour.values()[rng.weighted(Colour.priors())];
            Shape3d shape = Shape3d.values()[rng.nextInt(Shape3d.values().length)];
            if (taken(objects, colour, shape)) {
                continue;
            }
            double r = Math.min(0.16, base.radius() * 0.7);
            double h = shape == Shape3d.SPHERE || shape == Shape3d.CUBE ? 2 * r : rng.uniform(0.22, 0.36);
            objects.add(new Object3d(objects.size(), colour, shape, Size.SMALL, base.x(), base.y(), base.top(), r, h,
                    base.id()));
            return;
        }
    }

    private static boolean taken(List<Object3d> objects, Colour c, Shape3d s) {
        for (Object3d o : objects) {
            if (o.colour() == c && o.shape() == s) {
                return true;
            }
        }
        return false;
    }

    static double[] normalise(double[] v) {
        double len = Math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
        return new double[] {v[0] / len, v[1] / len, v[2] / len};
    }
}
