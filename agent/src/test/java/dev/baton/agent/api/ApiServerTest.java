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
    try (ApiServer second = new ApiServer(ApiOptions.loopback(port))) {
      assertThatThrownBy(second::start).hasMessageContaining("cannot listen on 127.0.0.1:" + port);
    }
  }
}
