package io.tokensieve.datasets.shapes;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An independent reader of the generated questions: parses the text back into attributes and recomputes the
 * answer from the scene graph, without using the generator's question code.
 */
final class Oracle2d {
    private Oracle2d() {}

    /** Objects matching a noun phrase such as "small red circle", "blue object", "squares", "objects". */
    static List<SceneObject> matching(Scene2d scene, String phrase) {
        Size size = null;
        Colour colour = null;
        Shape2d shape = null;
        boolean noun = false;
        for (String w : phrase.trim().split(" ")) {
            if (w.equals("object") || w.equals("objects")) {
                noun = true;
                continue;
            }
            Size sz = bySize(w);
            Colour c = byColour(w);
            Shape2d s = byShape(w);
            if (sz != null) {
                size = sz;
            } else if (c != null) {
                colour = c;
            } else if (s != null) {
                shape = s;
                noun = true;
            } else {
                throw new AssertionError("unknown word '" + w + "' in '" + phrase + "'");
            }
        }
        if (!noun) {
            throw new AssertionError("no noun in '" + phrase + "'");
        }
        List<SceneObject> out = new ArrayList<>();
        for (SceneObject o : scene.objects()) {
            if ((size == null || o.size() == size) && (colour == null || o.colour() == colour)
                    && (shape == null || o.shape() == shape)) {
                out.add(o);
            }
        }
        return out;
    }

    /** The one object "the ..." names; fails when the phrase is ambiguous or names nothing. */
    static SceneObject definite(Scene2d scene, String phrase) {
        if (!phrase.startsWith("the ")) {
            throw new AssertionError("not a definite phrase: " + phrase);
        }
        List<SceneObject> m = matching(scene, phrase.substring(4));
        if (m.size() != 1) {
            throw new AssertionError("'" + phrase + "' matches " + m.size() + " objects");
        }
        return m.get(0);
    }

    static Size bySize(String w) {
        for (Size s : Size.values()) {
            if (s.word().equals(w)) {
                return s;
            }
        }
        return null;
    }

    static Colour byColour(String w) {
        for (Colour c : Colour.values()) {
            if (c.word().equals(w)) {
                return c;
            }
        }
        return null;
    }

    static Shape2d byShape(String w) {
        for (Shape2d s : Shape2d.values()) {
            if (s.word().equals(w) || s.plural().equals(w)) {
                return s;
            }
        }
        return null;
    }

    /** The answer of a VQA question recomputed from the graph. */
    static String vqaAnswer(Scene2d scene, String q) {
        Matcher m;
        if ((m = match("Is there (?:a|an) (.+)\\?", q)) != null) {
            return matching(scene, m.group(1)).isEmpty() ? "no" : "yes";
        }
        if ((m = match("How many (.+) are there\\?", q)) != null) {
            return Integer.toString(matching(scene, m.group(1)).size());
        }
        if ((m = match("What colour is (the .+)\\?", q)) != null) {
            return definite(scene, m.group(1)).colour().word();
        }
        if ((m = match("What shape is (the .+)\\?", q)) != null) {
            return definite(scene, m.group(1)).shape().word();
        }
        if ((m = match("Is (the .+) small or large\\?", q)) != null) {
            return definite(scene, m.group(1)).size().word();
        }
        if ((m = match("Is (the .+) to the left or to the right of (the .+)\\?", q)) != null) {
            SceneObject a = definite(scene, m.group(1));
            SceneObject b = definite(scene, m.group(2));
            if (Math.abs(a.cx() - b.cx()) < 20) {
                throw new AssertionError("too close to tell: " + q);
            }
            return a.cx() < b.cx() ? "left" : "right";
        }
        if ((m = match("Is (the .+) above or below (the .+)\\?", q)) != null) {
            SceneObject a = definite(scene, m.group(1));
            SceneObject b = definite(scene, m.group(2));
            if (Math.abs(a.cy() - b.cy()) < 20) {
                throw new AssertionError("too close to tell: " + q);
            }
            return a.cy() < b.cy() ? "above" : "below";
        }
        if ((m = match("What is written on (the .+)\\?", q)) != null) {
            SceneObject o = definite(scene, m.group(1));
            if (!o.hasGlyph()) {
                throw new AssertionError("nothing is written on " + m.group(1));
            }
            return String.valueOf(Character.toLowerCase(o.glyph()));
        }
        throw new AssertionError("unparsed question: " + q);
    }

    /** The object a segmentation expression refers to, recomputed from the graph (fails when not unique). */
    /**
     * The object a reasoning sentence relates its target to ("the blue triangle" of "Which shape is to the left of
     * the blue triangle?"), read from the text; null for phrases and for sentences that name none.
     */
    static SceneObject segAnchor(Scene2d scene, String text) {
        Matcher m = match("Which (?:shape|object) (?:is to the left of|is to the right of|is above|is below|is closest to"
                + "|is farthest from|has the same colour as|has the same shape as) (the .+)\\?", text);
        return m == null ? null : definite(scene, m.group(1));
    }

    static SceneObject segTarget(Scene2d scene, String text) {
        Matcher m;
        List<SceneObject> all = scene.objects();
        if (!text.endsWith("?")) {
            return definite(scene, text);
        }
        String[] dirs = {"to the left of", "to the right of", "above", "below"};
        for (int d = 0; d < 4; d++) {
            if ((m = match("Which shape is " + dirs[d] + " (the .+)\\?", text)) != null) {
                SceneObject a = definite(scene, m.group(1));
                SceneObject hit = null;
                for (SceneObject o : all) {
                    int off = o == a ? 0 : directed(a, o, d);
                    if (off >= 16) {
                        assertNull(hit, text);
                        hit = o;
                    } else if (off > 4) {
                        throw new AssertionError("ambiguous: " + text);
                    }
                }
                return require(hit, text);
            }
        }
        if ((m = match("Which shape is (closest to|farthest from) (the .+)\\?", text)) != null) {
            SceneObject a = definite(scene, m.group(2));
            boolean near = m.group(1).startsWith("closest");
            List<SceneObject> others = new ArrayList<>(all);
            others.remove(a);
            others.sort((p, q) -> Double.compare(dist(a, p), dist(a, q)));
            SceneObject best = near ? others.get(0) : others.get(others.size() - 1);
            SceneObject next = near ? others.get(1) : others.get(others.size() - 2);
            double ratio = near ? dist(a, next) / dist(a, best) : dist(a, best) / dist(a, next);
            if (ratio < (near ? 1 / 0.75 : 1.25) - 1e-9) {
                throw new AssertionError("not clear: " + text + " ratio " + ratio);
            }
            return best;
        }
        if ((m = match("Which (?:shape|object) has the same (colour|shape) as (the .+)\\?", text)) != null) {
            SceneObject a = definite(scene, m.group(2));
            SceneObject hit = null;
            for (SceneObject o : all) {
                boolean same = m.group(1).equals("colour") ? o.colour() == a.colour() : o.shape() == a.shape();
                if (o != a && same) {
                    assertNull(hit, text);
                    hit = o;
                }
            }
            return require(hit, text);
        }
        String[] extremes = {"furthest to the left", "furthest to the right", "at the top", "at the bottom"};
        for (int d = 0; d < 4; d++) {
            if (text.equals("Which shape is " + extremes[d] + "?")) {
                SceneObject best = all.get(0);
                for (SceneObject o : all) {
                    if (directed(best, o, d) > 0) {
                        best = o;
                    }
                }
                for (SceneObject o : all) {
                    if (o != best && directed(o, best, d) < 16) {
                        throw new AssertionError("not clear: " + text);
                    }
                }
                return best;
            }
        }
        if (text.equals("Which shape is the largest?") || text.equals("Which shape is the smallest?")) {
            boolean largest = text.contains("largest");
            SceneObject best = all.get(0);
            for (SceneObject o : all) {
                if (largest ? o.area() > best.area() : o.area() < best.area()) {
                    best = o;
                }
            }
            for (SceneObject o : all) {
                double ratio = largest ? (double) best.area() / o.area() : (double) o.area() / best.area();
                if (o != best && ratio < 1.5) {
                    throw new AssertionError("not clear: " + text);
                }
            }
            return best;
        }
        throw new AssertionError("unparsed expression: " + text);
    }

    /** How far {@code o} lies from {@code a} towards direction 0 left, 1 right, 2 up, 3 down. */
    private static int directed(SceneObject a, SceneObject o, int d) {
        return switch (d) {
            case 0 -> a.cx() - o.cx();
            case 1 -> o.cx() - a.cx();
            case 2 -> a.cy() - o.cy();
            default -> o.cy() - a.cy();
        };
    }

    private static double dist(SceneObject a, SceneObject b) {
        return Math.hypot(a.cx() - b.cx(), a.cy() - b.cy());
    }

    private static void assertNull(Object o, String text) {
        if (o != null) {
            throw new AssertionError("more than one object fits: " + text);
        }
    }

    private static SceneObject require(SceneObject o, String text) {
        if (o == null) {
            throw new AssertionError("no object fits: " + text);
        }
        return o;
    }

    static Matcher match(String regex, String text) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.matches() ? m : null;
    }
}
