package io.tokensieve.core.prune;

import java.util.List;

/**
 * One parameter a pruner accepts in its spec string.
 *
 * @param name key in the spec ({@code layer} in {@code fastv:layer=2})
 * @param type int, double, bool, enum, int-list or double-list (lists separated by '/')
 * @param defaultValue default as written in a spec ("auto" where the default depends on the model)
 * @param description one line
 * @param choices allowed values of an enum
 */
public record ParamSpec(String name, String type, String defaultValue, String description, List<String> choices) {
    public static ParamSpec ofInt(String name, String def, String description) {
        return new ParamSpec(name, "int", def, description, List.of());
    }

    public static ParamSpec ofDouble(String name, String def, String description) {
        return new ParamSpec(name, "double", def, description, List.of());
    }

    public static ParamSpec ofBool(String name, String def, String description) {
        return new ParamSpec(name, "bool", def, description, List.of());
    }

    public static ParamSpec ofEnum(String name, String def, String description, String... choices) {
        return new ParamSpec(name, "enum", def, description, List.of(choices));
    }

    public static ParamSpec ofIntList(String name, String def, String description) {
        return new ParamSpec(name, "int-list", def, description, List.of());
    }

    public static ParamSpec ofDoubleList(String name, String def, String description) {
        return new ParamSpec(name, "double-list", def, description, List.of());
    }
}
