package dev.baton.agent.api;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
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
  private final Duration timeout;
  private final HttpClient http;

  /** timeout bounds the connect and, again, the whole request. */
  public ApiClient(String hostPort, Path tokenFile, Duration timeout) throws IOException {
    this.base = URI.create("http://" + hostPort);
    this.token = tokenFile == null ? null : Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  public Reply send(String method, String path, String jsonBody) throws IOException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(timeout)
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
    } catch (HttpTimeoutException e) {
      throw new IOException(
          "the agent on " + base.getAuthority() + " did not answer within "
              + timeout.toSeconds() + " s (--timeout-s)",
          e);
    } catch (ConnectException e) {
      throw new IOException("no Baton agent is listening on " + base.getAuthority() + " (is 'baton run' running?)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
