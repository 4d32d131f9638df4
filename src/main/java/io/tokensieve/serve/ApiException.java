package io.tokensieve.serve;

/**
 * A request the server refuses, with the HTTP status and the OpenAI-style error it answers:
 * {@code {"error": {"message", "type", "code"}}}. The message names the input and what is wrong with it.
 *
 * <pre>{@code
 * throw ApiException.invalid("missing_field", "missing required field messages");   // 400
 * throw new ApiException(429, "rate_limit_error", "too_many_requests", "server is busy; retry later");
 * }</pre>
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String code;

    public ApiException(int status, String type, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.code = code;
    }

    /** 400 {@code invalid_request_error} with a specific code. */
    public static ApiException invalid(String code, String message) {
        return new ApiException(400, "invalid_request_error", code, message);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String code() {
        return code;
    }
}
