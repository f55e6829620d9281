package dev.baton.agent.api;

/**
 * A request the agent refuses, with the HTTP status and a message naming the problem. Thrown
 * by handlers before they change anything, so a refused request leaves no trace.
 */
public final class ApiException extends RuntimeException {
  private final int status;

  public ApiException(int status, String message) {
    super(message);
    this.status = status;
  }

  public int status() {
    return status;
  }

  public static ApiException badRequest(String message) {
    return new ApiException(400, message);
  }

  public static ApiException notFound(String message) {
    return new ApiException(404, message);
  }
}
