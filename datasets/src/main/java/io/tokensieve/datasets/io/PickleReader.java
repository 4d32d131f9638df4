package io.tokensieve.datasets.io;

import io.tokensieve.datasets.DatasetException;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict reader for Python pickles of plain data, as the REFER {@code refs(*).p} files are: protocols
 * 0 to 4 restricted to dict, list, tuple, str/bytes/unicode, int/long, float, None and booleans. Any
 * opcode that would construct an object (GLOBAL, REDUCE, BUILD, ...) is refused, so reading an untrusted
 * file cannot run code. Tuples become {@link List}s, dicts {@link LinkedHashMap}s, ints {@link Long} (or
 * {@link BigInteger} when larger), floats {@link Double}, Python 2 byte strings
 * {@link String}s (UTF-8 where valid, else Latin-1).
 */
public final class PickleReader {
    private static final Object MARK = new Object();

    private final byte[] b;
    private final String name;
    private int pos;
    private final List<Object> stack = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private PickleReader(byte[] bytes, String name) {
        this.b = bytes;
        this.name = name;
    }

    public static Object read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read (" + e.getMessage() + ")");
        }
        return read(bytes, file.toString());
    }

    public static Object read(byte[] bytes, String name) {
        return new PickleReader(bytes, name).run();
    }

    private Object run() {
        while (true) {
            int at = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = u8();
                    if (proto > 5) {
                        throw error(at, "unsupported pickle protocol " + proto);
                    }
                }
                case 0x95 -> pos += 8; // FRAME: the length is only a read-ahead hint
                case '.' -> { // STOP
                    if (stack.size() != 1) {
                        throw error(at, "stack holds " + stack.size() + " items at STOP");
                    }
                    return stack.get(0);
                }
                case '(' -> push(MARK);
                case '}' -> push(new LinkedHashMap<Object, Object>());
                case ']' -> push(new ArrayList<>());
                case ')' -> push(List.of());
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'I' -> { // INT (text): also the protocol-0 spelling of booleans
                    String s = line(at);
                    push(s.equals("01") ? Boolean.TRUE : s.equals("00") ? Boolean.FALSE : parseInt(s, at));
                }
                case 'J' -> push((long) le(4)); // BININT
                case 'K' -> push((long) u8()); // BININT1
                case 'M' -> push((long) (u8() | (u8() << 8))); // BININT2
                case 'L' -> { // LONG (text, trailing L)
                    String s = line(at);
                    push(parseInt(s.endsWith("L") ? s.substring(0, s.length() - 1) : s, at));
                }
                case 0x8a -> push(longBytes(u8())); // LONG1
                case 0x8b -> push(longBytes(checkedLen(le(4), at))); // LONG4
                case 'F' -> {
                    String s = line(at);
                    try {
                        push(Double.parseDouble(s));
                    } catch (NumberFormatException e) {
                        throw error(at, "bad FLOAT '" + s + "'");
                    }
                }
                case 'G' -> push(ByteBuffer.wrap(bytes(8)).order(ByteOrder.BIG_ENDIAN).getDouble());
                case 'S' -> push(pythonStringLiteral(line(at), at)); // STRING (repr)
                case 'T' -> push(latin1(bytes(checkedLen(le(4), at)))); // BINSTRING
                case 'U' -> push(latin1(bytes(u8()))); // SHORT_BINSTRING
                case 'V' -> push(rawUnicode(line(at), at)); // UNICODE (raw-unicode-escape)
                case 'X' -> push(utf8(bytes(checkedLen(le(4), at)))); // BINUNICODE
                case 0x8c -> push(utf8(bytes(u8()))); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(bytes(checkedLen(le8(), at)))); // BINUNICODE8
                case 'B' -> push(latin1(bytes(checkedLen(le(4), at)))); // BINBYTES
                case 'C' -> push(latin1(bytes(u8()))); // SHORT_BINBYTES
                case 'a' -> { // APPEND
                    Object v = pop(at);
                    list(peek(at), at).add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popToMark(at);
                    list(peek(at), at).addAll(items);
                }
                case 's' -> { // SETITEM
                    Object v = pop(at);
                    Object k = pop(at);
                    dict(peek(at), at).put(k, v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popToMark(at);
                    Map<Object, Object> d = dict(peek(at), at);
                    for (int i = 0; i + 1 < items.size(); i += 2) {
                        d.put(items.get(i), items.get(i + 1));
                    }
                }
                case 'd' -> { // DICT
                    List<Object> items = popToMark(at);
                    Map<Object, Object> d = new LinkedHashMap<>();
                    for (int i = 0; i + 1 < items.size(); i += 2) {
                        d.put(items.get(i), items.get(i + 1));
                    }
                    push(d);
                }
                case 'l' -> push(new ArrayList<>(popToMark(at))); // LIST
                case 't' -> push(nullSafe(popToMark(at))); // TUPLE
                case 0x85 -> push(tuple(pop(at)));
                case 0x86 -> {
                    Object y = pop(at);
                    Object x = pop(at);
                    push(tuple(x, y));
                }
                case 0x87 -> {
                    Object z = pop(at);
                    Object y = pop(at);
                    Object x = pop(at);
                    push(tuple(x, y, z));
                }
                case 'p' -> memo.put(parseInt(line(at), at).longValue(), peek(at)); // PUT
                case 'q' -> memo.put((long) u8(), peek(at)); // BINPUT
                case 'r' -> memo.put((long) le(4) & 0xffffffffL, peek(at)); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), peek(at)); // MEMOIZE
                case 'g' -> push(memoGet(parseInt(line(at), at).longValue(), at)); // GET
                case 'h' -> push(memoGet(u8(), at)); // BINGET
                case 'j' -> push(memoGet((long) le(4) & 0xffffffffL, at)); // LONG_BINGET
                case '0' -> pop(at); // POP
                case '2' -> push(peek(at)); // DUP
                case '1' -> popToMark(at); // POP_MARK
                default -> throw error(at, String.format("opcode 0x%02x ('%s') is not allowed: only plain data "
                        + "(dict, list, tuple, str, int, float, None, bool) is read", op, printable(op)));
            }
        }
    }

    private static List<Object> tuple(Object... items) {
        List<Object> l = new ArrayList<>(items.length);
        for (Object o : items) {
            l.add(o);
        }
        return java.util.Collections.unmodifiableList(l);
    }

    private static List<Object> nullSafe(List<Object> items) {
        return tuple(items.toArray());
    }

    private Object memoGet(long key, int at) {
        if (!memo.containsKey(key)) {
            throw error(at, "memo key " + key + " was never stored");
        }
        return memo.get(key);
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, int at) {
        if (o instanceof ArrayList<?> l) {
            return (List<Object>) l;
        }
        throw error(at, "APPEND onto something that is not a list");
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o, int at) {
        if (o instanceof Map<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw error(at, "SETITEM onto something that is not a dict");
    }

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop(int at) {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
            throw error(at, "stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek(int at) {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
            throw error(at, "stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popToMark(int at) {
        int m = stack.lastIndexOf(MARK);
        if (m < 0) {
            throw error(at, "no MARK on the stack");
        }
        List<Object> items = new ArrayList<>(stack.subList(m + 1, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    private int u8() {
        if (pos >= b.length) {
            throw error(pos, "unexpected end of file");
        }
        return b[pos++] & 0xff;
    }

    private int le(int n) {
        int v = 0;
        for (int i = 0; i < n; i++) {
            v |= u8() << (8 * i);
        }
        return v;
    }

    private long le8() {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v |= (long) u8() << (8 * i);
        }
        return v;
    }

    private int checkedLen(long n, int at) {
        if (n < 0 || n > b.length - pos) {
            throw error(at, "length " + n + " runs past the end of the file");
        }
        return (int) n;
    }

    private byte[] bytes(int n) {
        if (n > b.length - pos) {
            throw error(pos, "unexpected end of file");
        }
        byte[] out = new byte[n];
        System.arraycopy(b, pos, out, 0, n);
        pos += n;
        return out;
    }

    private String line(int at) {
        int start = pos;
        while (pos < b.length && b[pos] != '\n') {
            pos++;
        }
        if (pos >= b.length) {
            throw error(at, "unterminated text argument");
        }
        String s = new String(b, start, pos - start, StandardCharsets.ISO_8859_1);
        pos++;
        return s;
    }

    private Object longBytes(int n) {
        byte[] le = bytes(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) {
            be[i] = le[n - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private Number parseInt(String s, int at) {
        try {
            BigInteger v = new BigInteger(s.strip());
            return v.bitLength() < 64 ? (Number) v.longValue() : v;
        } catch (NumberFormatException e) {
            throw error(at, "bad integer '" + s + "'");
        }
    }

    /** A Python 2 byte string: UTF-8 when it decodes as such (the usual case), else Latin-1. */
    private static String latin1(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
    }

    private int hex(String digits, int at) {
        try {
            return Integer.parseInt(digits, 16);
        } catch (NumberFormatException e) {
            throw error(at, "bad escape '" + digits + "'");
        }
    }

    private static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Protocol 0 STRING argument: a Python repr in single or double quotes with backslash escapes. */
    private String pythonStringLiteral(String s, int at) {
        if (s.length() < 2 || s.charAt(0) != s.charAt(s.length() - 1) || (s.charAt(0) != '\'' && s.charAt(0) != '"')) {
            throw error(at, "bad STRING argument");
        }
        String body = s.substring(1, s.length() - 1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c != '\\' || i + 1 >= body.length()) {
                out.append(c);
                continue;
            }
            char e = body.charAt(++i);
            switch (e) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case '\\' -> out.append('\\');
                case '\'' -> out.append('\'');
                case '"' -> out.append('"');
                case 'x' -> {
                    if (i + 2 >= body.length()) {
                        throw error(at, "bad \\x escape");
                    }
                    out.append((char) hex(body.substring(i + 1, i + 3), at));
                    i += 2;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int j = i;
                        while (j < body.length() && j < i + 3 && body.charAt(j) >= '0' && body.charAt(j) <= '7') {
                            j++;
                        }
                        out.append((char) Integer.parseInt(body.substring(i, j), 8));
                        i = j - 1;
                    } else {
                        out.append('\\').append(e);
                    }
                }
            }
        }
        return latin1(out.toString().getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Protocol 0 UNICODE argument: raw-unicode-escape (only backslash-u / backslash-U are escapes). */
    private String rawUnicode(String latin1, int at) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < latin1.length(); i++) {
            char c = latin1.charAt(i);
            if (c == '\\' && i + 6 <= latin1.length() && latin1.charAt(i + 1) == 'u') {
                out.append((char) hex(latin1.substring(i + 2, i + 6), at));
                i += 5;
            } else if (c == '\\' && i + 10 <= latin1.length() && latin1.charAt(i + 1) == 'U') {
                out.appendCodePoint(hex(latin1.substring(i + 2, i + 10), at));
                i += 9;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static String printable(int op) {
        return op >= 32 && op < 127 ? String.valueOf((char) op) : "?";
    }

    private DatasetException error(int at, String what) {
        return new DatasetException(name + ": pickle byte " + at + ": " + what);
    }
}
