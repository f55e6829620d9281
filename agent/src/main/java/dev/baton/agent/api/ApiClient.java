package dev.baton.agent.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SocketChannel;
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
  private final Path socket;
  private final String token;
  private final Duration timeout;
  private final HttpClient http;

  /**
   * @param address HOST:PORT, or unix:PATH for an agent listening on a Unix socket
   * @param timeout bounds the connect and, again, the whole request
   */
  public ApiClient(String address, Path tokenFile, Duration timeout) throws IOException {
    this.socket =
        address.startsWith(ApiOptions.UNIX_PREFIX) ? Path.of(address.substring(ApiOptions.UNIX_PREFIX.length())) : null;
    this.base = socket == null ? URI.create("http://" + address) : null;
    this.token = tokenFile == null ? null : Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
    this.timeout = timeout;
    this.http = socket == null ? HttpClient.newBuilder().connectTimeout(timeout).build() : null;
  }

  public Reply send(String method, String path, String jsonBody) throws IOException {
    if (socket != null) {
      return sendUnix(method, path, jsonBody);
    }
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
      throw noAnswer(base.getAuthority(), e);
    } catch (ConnectException e) {
      throw noAgent(base.getAuthority(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /**
   * One HTTP/1.1 exchange over the Unix socket (java.net.http cannot reach one): the request with
   * Connection: close, then the answer read to the end, as the agent closes after answering it.
   */
  private Reply sendUnix(String method, String path, String jsonBody) throws IOException {
    String where = ApiOptions.UNIX_PREFIX + socket;
    byte[] body = jsonBody == null ? new byte[0] : jsonBody.getBytes(StandardCharsets.UTF_8);
    StringBuilder head =
        new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: localhost\r\n")
            .append("Connection: close\r\nContent-Length: ").append(body.length).append("\r\n");
    if (jsonBody != null) {
      head.append("Content-Type: application/json\r\n");
    }
    if (token != null) {
      head.append("Authorization: Bearer ").append(token).append("\r\n");
    }
    head.append("\r\n");
    // Channels have no timeouts: a watchdog closes this one when the time is up, which also ends
    // a connect stuck on an agent whose backlog is full.
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    Thread watchdog =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    Thread.sleep(timeout);
                    ch.close();
                  } catch (InterruptedException | IOException done) {
                    // answered in time, or closed already
                  }
                });
    ByteArrayOutputStream answer = new ByteArrayOutputStream();
    try (ch) {
      try {
        ch.connect(UnixDomainSocketAddress.of(socket));
      } catch (SocketException e) {
        if (e instanceof ConnectException || !Files.exists(socket)) {
          throw noAgent(where, e);
        }
        throw new IOException("cannot connect to " + where + ": " + e.getMessage(), e); // permission
      }
      ch.write(ByteBuffer.wrap(head.toString().getBytes(StandardCharsets.UTF_8)));
      ch.write(ByteBuffer.wrap(body));
      ByteBuffer buf = ByteBuffer.allocate(8192);
      while (ch.read(buf) >= 0) {
        answer.write(buf.array(), 0, buf.position());
        buf.clear();
      }
    } catch (AsynchronousCloseException e) {
      throw noAnswer(where, e);
    } finally {
      watchdog.interrupt();
    }
    return parse(answer.toByteArray(), where);
  }

  private static IOException noAgent(String where, Exception e) {
    return new IOException("no Baton agent is listening on " + where + " (is 'baton run' running?)", e);
  }

  private IOException noAnswer(String where, Exception e) {
    return new IOException(
        "the agent on " + where + " did not answer within " + timeout.toSeconds() + " s (--timeout-s)", e);
  }

  /** Status and body of an HTTP/1.1 answer; the body ends where Content-Length says, else at EOF. */
  static Reply parse(byte[] raw, String where) throws IOException {
    String text = new String(raw, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    String[] status = end < 0 ? new String[0] : text.substring(0, text.indexOf("\r\n")).split(" ", 3);
    if (status.length < 2 || !status[0].startsWith("HTTP/1.")) {
      throw new IOException("the answer on " + where + " is not HTTP");
    }
    try {
      int length = raw.length - end - 4;
      for (String line : text.substring(0, end).split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("Content-Length")) {
          length = Math.clamp(Integer.parseInt(line.substring(colon + 1).trim()), 0, length);
        }
      }
      return new Reply(Integer.parseInt(status[1]), new String(raw, end + 4, length, StandardCharsets.UTF_8));
    } catch (NumberFormatException e) {
      throw new IOException("the answer on " + where + " is malformed HTTP: " + e.getMessage(), e);
    }
  }
}
