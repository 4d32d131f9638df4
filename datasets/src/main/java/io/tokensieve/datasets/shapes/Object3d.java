package io.tokensieve.datasets.shapes;

/**
 * One primitive of a 3D scene, in world metres (z up, floor at z = 0).
 *
 * @param id index in the scene
 * @param colour colour
 * @param shape primitive kind
 * @param size size class
 * @param x footprint centre x
 * @param y footprint centre y
 * @param z0 bottom height (0 on the floor, the supporter's top when stacked)
 * @param radius footprint radius (half side for a cube)
 * @param height own height (2 radius for spheres and cubes)
 * @param supportId id of the object it stands on, or -1 when it stands on the floor
 */
public record Object3d(int id, Colour colour, Shape3d shape, Size size, double x, double y, double z0, double radius,
                       double height, int supportId) {
    /** "red sphere". */
    public String name() {
        return colour.word() + " " + shape.word();
    }

    public double top() {
        return z0 + height;
    }

    /** Centre of the bounding box. */
    public double[] centre() {
        return new double[] {x, y, z0 + height / 2};
    }

    public double distanceTo(Object3d o) {
        double[] a = centre();
        double[] b = o.centre();
        double dx = a[0] - b[0];
        double dy = a[1] - b[1];
        double dz = a[2] - b[2];
        return Math.sqrt(dx * dx + dy * dy + dz * dz);
    }

    /**
     * Nearest hit of the ray {@code o + t d} with {@code t > tMin}; returns t (or +inf) and writes the outward
     * unit normal into {@code normal}.
     */
    double intersect(double ox, double oy, double oz, double dx, double dy, double dz, double tMin, double[] normal) {
        return switch (shape) {
            case SPHERE -> sphere(ox, oy, oz, dx, dy, dz, tMin, normal);
            case CUBE -> box(ox, oy, oz, dx, dy, dz, tMin, normal);
            case CYLINDER -> cylinder(ox, oy, oz, dx, dy, dz, tMin, normal);
            case CONE -> cone(ox, oy, oz, dx, dy, dz, tMin, normal);
        };
    }

    private double sphere(double ox, double oy, double oz, double dx, double dy, double dz, double tMin, double[] n) {
        double cz = z0 + radius;
        double px = ox - x;
        double py = oy - y;
        double pz = oz - cz;
        double a = dx * dx + dy * dy + dz * dz;
        double b = px * dx + py * dy + pz * dz;
        double c = px * px + py * py + pz * pz - radius * radius;
        double disc = b * b - a * c;
        if (disc < 0) {
            return Double.POSITIVE_INFINITY;
        }
        double s = Math.sqrt(disc);
        double t = (-b - s) / a;
        if (t <= tMin) {
            t = (-b + s) / a;
            if (t <= tMin) {
                return Double.POSITIVE_INFINITY;
            }
        }
        n[0] = (px + t * dx) / radius;
        n[1] = (py + t * dy) / radius;
        n[2] = (pz + t * dz) / radius;
        return t;
    }

    private double box(double ox, double oy, double oz, double dx, double dy, double dz, double tMin, double[] n) {
        double[] lo = {x - radius, y - radius, z0};
        double[] hi = {x + radius, y + radius, z0 + height};
        double[] o = {ox, oy, oz};
        double[] d = {dx, dy, dz};
        double tNear = Double.NEGATIVE_INFINITY;
        double tFar = Double.POSITIVE_INFINITY;
        int axis = -1;
        double sign = 0;
        for (int k = 0; k < 3; k++) {
            if (d[k] == 0) {
                if (o[k] < lo[k] || o[k] > hi[k]) {
                    return Double.POSITIVE_INFINITY;
                }
                continue;
            }
            double t1 = (lo[k] - o[k]) / d[k];
            double t2 = (hi[k] - o[k]) / d[k];
            double s = -1;
            if (t1 > t2) {
                double tmp = t1;
                t1 = t2;
                t2 = tmp;
                s = 1;
            }
            if (t1 > tNear) {
                tNear = t1;
                axis = k;
                sign = s;
            }
            tFar = Math.min(tFar, t2);
        }
        if (tNear > tFar || tNear <= tMin || axis < 0) {
            return Double.POSITIVE_INFINITY;
        }
        n[0] = 0;
        n[1] = 0;
        n[2] = 0;
        n[axis] = sign;
        return tNear;
    }

    private double cylinder(double ox, double oy, double oz, double dx, double dy, double dz, double tMin, double[] n) {
        double best = Double.POSITIVE_INFINITY;
        double px = ox - x;
        double py = oy - y;
        double a = dx * dx + dy * dy;
        if (a > 0) {
            double b = px * dx + py * dy;
            double c = px * px + py * py - radius * radius;
            double disc = b * b - a * c;
            if (disc >= 0) {
                double t = (-b - Math.sqrt(disc)) / a;
                double z = oz + t * dz;
                if (t > tMin && z >= z0 && z <= z0 + height) {
                    best = t;
                    n[0] = (px + t * dx) / radius;
                    n[1] = (py + t * dy) / radius;
                    n[2] = 0;
                }
            }
        }
        return cap(ox, oy, oz, dx, dy, dz, tMin, n, best, z0 + height, radius, 1);
    }

    private double cone(double ox, double oy, double oz, double dx, double dy, double dz, double tMin, double[] n) {
        double best = Double.POSITIVE_INFINITY;
        double k = radius / height;
        double k2 = k * k;
        double px = ox - x;
        double py = oy - y;
        double pw = z0 + height - oz;
        double a = dx * dx + dy * dy - k2 * dz * dz;
        double b = px * dx + py * dy + k2 * pw * dz;
        double c = px * px + py * py - k2 * pw * pw;
        double[] roots;
        if (Math.abs(a) < 1e-12) {
            roots = b == 0 ? new double[0] : new double[] {-c / (2 * b)};
        } else {
            double disc = b * b - a * c;
            if (disc < 0) {
                roots = new double[0];
            } else {
                double s = Math.sqrt(disc);
                roots = new double[] {(-b - s) / a, (-b + s) / a};
            }
        }
        double norm = Math.sqrt(height * height + radius * radius);
        for (double t : roots) {
            double w = pw - t * dz;
            if (t > tMin && t < best && w >= 0 && w <= height) {
                double qx = px + t * dx;
                double qy = py + t * dy;
                double rho = Math.sqrt(qx * qx + qy * qy);
                if (rho == 0) {
                    continue;
                }
                best = t;
                n[0] = height * qx / rho / norm;
                n[1] = height * qy / rho / norm;
                n[2] = radius / norm;
            }
        }
        return cap(ox, oy, oz, dx, dy, dz, tMin, n, best, z0, radius, -1);
    }

    /** A horizontal disc at height {@code zc} (top cap of a cylinder, base of a cone), if nearer than {@code best}. */
    private double cap(double ox, double oy, double oz, double dx, double dy, double dz, double tMin, double[] n,
                       double best, double zc, double r, double up) {
        if (dz == 0) {
            return best;
        }
        double t = (zc - oz) / dz;
        if (t <= tMin || t >= best) {
            return best;
        }
        double qx = ox + t * dx - x;
        double qy = oy + t * dy - y;
        if (qx * qx + qy * qy > r * r) {
            return best;
        }
        n[0] = 0;
        n[1] = 0;
        n[2] = up;
        return t;
    }
}
