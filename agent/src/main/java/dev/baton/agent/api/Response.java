package dev.baton.agent.api;

import java.nio.charset.StandardCharsets;

/** What a handler answers: status, content type and body. */
public record Response(int status, String contentType, byte[] body) {

  public static Response json(int status, Object value) {
    return new Response(status, "application/json", Json.write(value));
  }

  public static Response ok(Object value) {
    return json(200, value);
  }

  public static Response noContent() {
    return new Response(204, "application/json", new byte[0]);
  }

  public static Response text(int status, String contentType, String body) {
    return new Response(status, contentType, body.getBytes(StandardCharsets.UTF_8));
  }
}
