package dev.baton.agent.api;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** The CLI's side of the API: one request, and an error message a person can act on. */
public final class ApiClient {

  /** An answer from the agent: status and body text. */
  public record Reply(int status, String body) {
    public boolean ok() {
      return status / 100 == 2;
    }
  }

  private final URI base;
  private final String token;
  // Generous: on a loaded host (or in an emulated test guest) the CLI's own JVM is slow to get
  // its first connection going, and the agent to answer its first request.
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(15)).build();

  public ApiClient(String hostPort, Path tokenFile) throws IOException {
    this.base = URI.create("http://" + hostPort);
    this.token = tokenFile == null ? null : Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
  }

  public Reply send(String method, String path, String jsonBody) throws IOException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(Duration.ofSeconds(30))
            .method(
                method,
                jsonBody == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(jsonBody, StandardCharsets.UTF_8));
    if (jsonBody != null) {
      b.header("Content-Type", "application/json");
    }
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.body());
    } catch (ConnectException e) {
      throw new IOException("no Baton agent is listening on " + base.getAuthority() + " (is 'baton run' running?)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
