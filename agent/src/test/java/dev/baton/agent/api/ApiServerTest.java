package dev.baton.agent.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiServerTest {

  record Thing(String name, int size) {
    Thing {
      if (size < 0) {
        throw new IllegalArgumentException("size must be >= 0, not " + size);
      }
    }
  }

  @TempDir Path dir;
  private ApiServer server;
  private final List<Thing> stored = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  private ApiServer start(ApiOptions options) throws IOException {
    server = new ApiServer(options);
    server
        .route("GET", "/v1/things/{id}", req -> Response.ok(Map.of("id", req.param("id"))))
        .route(
            "PUT",
            "/v1/things/{id}",
            req -> {
              Thing t = req.json(Thing.class);
              stored.add(t);
              return Response.ok(t);
            })
        .route(
            "GET",
            "/v1/boom",
            req -> {
              throw new IllegalStateException("bug");
            });
    server.start();
    return server;
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private HttpResponse<String> send(String method, String path, String body, String token)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + path))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aRequestThatStopsTheServerStillGetsItsAnswer() throws Exception {
    java.util.concurrent.CountDownLatch handling = new java.util.concurrent.CountDownLatch(1);
    server = new ApiServer(ApiOptions.loopback(0));
    server.route(
        "POST",
        "/v1/handover",
        req -> {
          handling.countDown();
          Thread.sleep(300); // the agent is already closing the server meanwhile
          return Response.ok(Map.of("handover", "yes"));
        });
    server.start();
    var reply =
        http.sendAsync(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + "/v1/handover"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    handling.await();
    server.close();
    assertThat(reply.get().statusCode()).isEqualTo(200);
    assertThat(reply.get().body()).isEqualTo("{\"handover\":\"yes\"}");
  }

  @Test
  void routesWithPathParameters() throws Exception {
    start(ApiOptions.loopback(0));
    var r = send("GET", "/v1/things/live%2F1", null, null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"id\":\"live/1\"}");
  }

  @Test
  void unknownPathIs404AndWrongMethodIs405() throws Exception {
    start(ApiOptions.loopback(0));
    assertThat(send("GET", "/v1/nothing", null, null).statusCode()).isEqualTo(404);
    var r = send("DELETE", "/v1/things/x", null, null);
    assertThat(r.statusCode()).isEqualTo(405);
    assertThat(r.body()).contains("use GET, PUT");
  }

  @Test
  void badBodiesAre400sNamingTheProblemAndChangeNothing() throws Exception {
    start(ApiOptions.loopback(0));
    assertThat(send("PUT", "/v1/things/a", "{\"name\":", null).body()).contains("invalid JSON");
    assertThat(send("PUT", "/v1/things/a", "{\"name\":\"a\",\"size\":1,\"colour\":2}", null).body())
        .contains("unknown field 'colour'");
    assertThat(send("PUT", "/v1/things/a", "{\"name\":\"a\",\"size\":\"big\"}", null).statusCode()).isEqualTo(400);
    var r = send("PUT", "/v1/things/a", "{\"name\":\"a\",\"size\":-1}", null);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("size must be >= 0, not -1");
    assertThat(send("PUT", "/v1/things/a", null, null).body()).contains("a JSON body is required");
    assertThat(stored).isEmpty();
    assertThat(send("PUT", "/v1/things/a", "{\"name\":\"a\",\"size\":1}", null).statusCode()).isEqualTo(200);
    assertThat(stored).containsExactly(new Thing("a", 1));
  }

  @Test
  void oversizedBodyIs413() throws Exception {
    start(new ApiOptions("127.0.0.1", 0, null, 1024));
    var r = send("PUT", "/v1/things/a", "{\"name\":\"" + "x".repeat(4096) + "\",\"size\":1}", null);
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(stored).isEmpty();
  }

  @Test
  void handlerBugIsA500NotACrash() throws Exception {
    start(ApiOptions.loopback(0));
    assertThat(send("GET", "/v1/boom", null, null).statusCode()).isEqualTo(500);
    assertThat(send("GET", "/v1/things/still-up", null, null).statusCode()).isEqualTo(200);
  }

  @Test
  void tokenIsEnforcedWhenConfigured() throws Exception {
    Path token = dir.resolve("token");
    Files.writeString(token, "0123456789abcdef0123\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    start(new ApiOptions("127.0.0.1", 0, token, ApiOptions.DEFAULT_MAX_BODY_BYTES));
    assertThat(send("GET", "/v1/things/a", null, null).statusCode()).isEqualTo(401);
    assertThat(send("GET", "/v1/things/a", null, "wrong-token-wrong").statusCode()).isEqualTo(401);
    assertThat(send("GET", "/v1/things/a", null, "0123456789abcdef0123").statusCode()).isEqualTo(200);
  }

  @Test
  void exposedAddressWithoutTokenOrWithAnOpenTokenFileIsRefused() throws IOException {
    assertThatThrownBy(() -> new ApiServer(new ApiOptions("0.0.0.0", 0, null, 65536)))
        .hasMessageContaining("without a token");
    Path token = dir.resolve("token");
    Files.writeString(token, "0123456789abcdef0123\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> new ApiServer(new ApiOptions("0.0.0.0", 0, token, 65536)))
        .hasMessageContaining("chmod 600");
  }

  @Test
  void busyPortFailsToStartWithTheAddress() throws Exception {
    start(ApiOptions.loopback(0));
    int port = server.address().getPort();
    assertThat(server.where()).isEqualTo("127.0.0.1:" + port);
    try (ApiServer second = new ApiServer(ApiOptions.loopback(port))) {
      assertThatThrownBy(second::start).hasMessageContaining("cannot listen on 127.0.0.1:" + port);
    }
  }

  // ---- a Unix socket ----

  private ApiOptions unix(Path socket, Path token) {
    return ApiOptions.parse(ApiOptions.UNIX_PREFIX + socket, token);
  }

  @Test
  void aUnixSocketServesTheApiToItsOwnerOnlyAndGoesWithTheServer() throws Exception {
    Path socket = dir.resolve("api.sock");
    start(unix(socket, null));
    assertThat(server.where()).isEqualTo("unix:" + socket);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
    ApiClient client = new ApiClient("unix:" + socket, null, java.time.Duration.ofSeconds(10));
    assertThat(client.send("GET", "/v1/things/a%20b", null)).isEqualTo(new ApiClient.Reply(200, "{\"id\":\"a b\"}"));
    ApiClient.Reply bad = client.send("PUT", "/v1/things/x", "{\"name\":\"n\",\"size\":-1}");
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.body()).contains("size must be >= 0");
    assertThat(client.send("PUT", "/v1/things/x", "{\"name\":\"\u00e9t\u00e9\",\"size\":2}").body())
        .as("the body's length is in bytes, not characters")
        .isEqualTo("{\"name\":\"\u00e9t\u00e9\",\"size\":2}");
    assertThatThrownBy(server::address).hasMessageContaining("not TCP");
    server.close();
    assertThat(socket).doesNotExist();
    assertThatThrownBy(() -> client.send("GET", "/v1/things/a", null))
        .hasMessageContaining("no Baton agent is listening on unix:" + socket);
  }

  @Test
  void aTokenIsStillCheckedOnAUnixSocket() throws Exception {
    Path token = dir.resolve("token");
    Files.writeString(token, "0123456789abcdef0123\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    Path socket = dir.resolve("api.sock");
    start(unix(socket, token));
    assertThat(new ApiClient("unix:" + socket, null, java.time.Duration.ofSeconds(10)).send("GET", "/v1/things/a", null).status())
        .isEqualTo(401);
    assertThat(new ApiClient("unix:" + socket, token, java.time.Duration.ofSeconds(10)).send("GET", "/v1/things/a", null).status())
        .isEqualTo(200);
  }

  @Test
  void aStaleSocketIsReplacedButALiveOneOrAnythingElseIsLeftAlone() throws Exception {
    Path socket = dir.resolve("api.sock");
    // What a killed agent leaves: a socket file nobody answers on.
    java.nio.channels.ServerSocketChannel dead =
        java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
    dead.bind(java.net.UnixDomainSocketAddress.of(socket));
    dead.close(); // the JDK leaves the file behind
    assertThat(socket).exists();
    start(unix(socket, null));
    ApiClient client = new ApiClient("unix:" + socket, null, java.time.Duration.ofSeconds(10));
    assertThat(client.send("GET", "/v1/things/a", null).status()).isEqualTo(200);

    try (ApiServer second = new ApiServer(unix(socket, null))) {
      assertThatThrownBy(second::start).hasMessageContaining("another process answers on it");
    }
    assertThat(client.send("GET", "/v1/things/a", null).status()).as("the first still serves").isEqualTo(200);

    Path file = dir.resolve("not-a-socket");
    Files.writeString(file, "keep me");
    try (ApiServer third = new ApiServer(unix(file, null))) {
      assertThatThrownBy(third::start).hasMessageContaining("it exists and is not a socket");
    }
    assertThat(Files.readString(file)).isEqualTo("keep me");
  }

  @Test
  void anAgentThatNeverAnswersOnItsSocketTimesOut() throws Exception {
    Path socket = dir.resolve("mute.sock");
    try (java.nio.channels.ServerSocketChannel mute =
        java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
      mute.bind(java.net.UnixDomainSocketAddress.of(socket)); // accepts (backlog), never answers
      ApiClient client = new ApiClient("unix:" + socket, null, java.time.Duration.ofSeconds(1));
      assertThatThrownBy(() -> client.send("GET", "/v1/status", null))
          .hasMessageContaining("did not answer within 1 s");
    } finally {
      Files.deleteIfExists(socket);
    }
  }

  @Test
  @org.junit.jupiter.api.Timeout(30) // a client that hangs must fail the test, not the build
  void aConnectStuckOnAFullBacklogTimesOutToo() throws Exception {
    Path socket = dir.resolve("full.sock");
    List<java.nio.channels.SocketChannel> queued = new ArrayList<>();
    try (java.nio.channels.ServerSocketChannel full =
        java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
      full.bind(java.net.UnixDomainSocketAddress.of(socket), 1);
      while (queued.size() < 64) { // fill the backlog: a non-blocking connect then fails (EAGAIN)
        java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX);
        c.configureBlocking(false);
        queued.add(c);
        try {
          c.connect(java.net.UnixDomainSocketAddress.of(socket));
        } catch (IOException backlogFull) {
          break;
        }
      }
      assertThat(queued).as("the backlog filled").hasSizeLessThan(64);
      ApiClient client = new ApiClient("unix:" + socket, null, java.time.Duration.ofSeconds(1));
      assertThatThrownBy(() -> client.send("GET", "/v1/status", null))
          .hasMessageContaining("did not answer within 1 s");
    } finally {
      for (var c : queued) {
        c.close();
      }
      Files.deleteIfExists(socket);
    }
  }

  @Test
  void unixListenAddressesAreChecked() {
    assertThatThrownBy(() -> ApiOptions.parse("unix:", null)).hasMessageContaining("names no socket");
    assertThatThrownBy(() -> ApiOptions.parse("unix:run/api.sock", null)).hasMessageContaining("must be absolute");
    assertThatThrownBy(() -> ApiOptions.parse("unix:/" + "x".repeat(107), null))
        .hasMessageContaining("longer than 107 bytes");
    assertThat(ApiOptions.parse("unix:/" + "x".repeat(106), null).socket()).hasToString("/" + "x".repeat(106));
  }

  @Test
  void anAnswerThatIsNotHttpIsAnError() {
    assertThatThrownBy(() -> ApiClient.parse("hello".getBytes(java.nio.charset.StandardCharsets.UTF_8), "unix:/s"))
        .hasMessageContaining("is not HTTP");
    assertThatThrownBy(
            () ->
                ApiClient.parse(
                    "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n{}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    "unix:/s"))
        .hasMessageContaining("malformed HTTP");
  }
}
