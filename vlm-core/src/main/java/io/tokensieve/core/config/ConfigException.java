package io.tokensieve.core.config;

/** A configuration file is missing, malformed or describes an unsupported model. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
