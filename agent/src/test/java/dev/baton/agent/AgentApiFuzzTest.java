package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.baton.agent.api.ApiOptions;
import dev.baton.agent.api.ApiServer;
import dev.baton.agent.api.Response;
import dev.baton.agent.metrics.Metrics;
import dev.baton.bpf.abi.BatonStat;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random requests against the agent's real handlers (routed as over HTTP, without the
 * network), with and without a bearer token: every request gets a response, never an exception;
 * errors are JSON; and a refused request changes nothing (the stop and handover flags).
 */
class AgentApiFuzzTest {

  private static final long SEED = 0xA91_2026L;
  private static final int REQUESTS = 12_000;
  private static final String TOKEN = "0123456789abcdef-token";
  private static final List<String> METHODS =
      List.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get", "BREW", "");
  private static final List<String> PATHS =
      List.of(
          "/v1/status", "/metrics", "/v1/handover", "/v1/reload", "/v1/handover/", "/v1", "/", "//", "/v1//status",
          "/v1/status?x=1&x=2", "/metrics?name[]=a", "/v1/%2e%2e/status", "/v1/handover%00",
          "/v1/st%61tus", "/%ff%fe", "/v1/jobs/a%2Fb", "/v1/../metrics", "/v1/status#frag",
          "/" + "a".repeat(5000));
  private static final List<String> BODIES =
      List.of("", "{}", "null", "[]", "{\"a\":1}", "{", "\u0000", "{\"handover\":true}", "x".repeat(70_000));

  @TempDir Path dir;
  private final Random random = new Random(SEED);
  private final ObjectMapper json = new ObjectMapper();

  @Test
  void randomRequestsNeverEscapeAndRefusalsChangeNothing() throws Exception {
    Path token = dir.resolve("token");
    Files.writeString(token, TOKEN);
    Files.setPosixFilePermissions(token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    int accepted = 0;
    for (String[] setup : new String[][] {{"--no-pin"}, {"--pin-dir", dir.resolve("pins").toString()}, {"--token-file", token.toString()}}) {
      List<String> args = new java.util.ArrayList<>(List.of("--listen", "127.0.0.1:0", "--max-tasks", "16"));
      args.addAll(List.of(setup));
      RunOptions options = RunOptions.parse(args);
      boolean needsToken = options.api().tokenFile() != null;
      Metrics metrics = new Metrics(BatonStat.VALUES, x -> 0, new Agent(options, quiet(), quiet(), new AtomicBoolean(), fairPolicy()));
      for (int i = 0; i < REQUESTS / 3; i++) {
        AtomicBoolean stop = new AtomicBoolean();
        Agent agent = new Agent(options, quiet(), quiet(), stop, fairPolicy());
        {
          ApiServer api = new ApiServer(options.api()); // routes only: never started
          agent.routes(api, metrics);
          String method = pick(METHODS);
          String path = random.nextInt(4) == 0 ? randomPath() : pick(PATHS);
          String auth = randomAuth(needsToken);
          byte[] body = random.nextInt(5) == 0 ? randomBytes() : pick(BODIES).getBytes(StandardCharsets.UTF_8);
          Response r = api.handle(method, path, auth, body);
          String what = method + " " + path + " auth=" + auth + " body=" + body.length + "B";
          assertThat(r.status()).as(what).isBetween(200, 599);
          if (r.status() >= 400) {
            assertThat(json.readTree(r.body()).get("error").asText()).as(what).isNotBlank();
            assertThat(stop.get()).as(what).isFalse();
            assertThat(agent.handoverRequested()).as(what).isFalse();
          } else {
            accepted++;
            boolean isHandover = method.equals("POST") && path.startsWith("/v1/handover");
            assertThat(stop.get()).as(what).isEqualTo(isHandover);
          }
          if (needsToken && !("Bearer " + TOKEN).equals(auth) && !("Bearer  " + TOKEN).equals(auth)) {
            assertThat(r.status()).as(what).isEqualTo(401);
          }
        }
      }
      metrics.close();
    }
    assertThat(accepted).isBetween(REQUESTS / 100, REQUESTS / 2);
  }

  private String randomPath() {
    StringBuilder b = new StringBuilder();
    for (int n = 1 + random.nextInt(4); n > 0; n--) {
      b.append('/');
      for (int k = random.nextInt(8); k > 0; k--) {
        int c = random.nextInt(6);
        b.append(
            switch (c) {
              case 0 -> "%" + Integer.toHexString(16 + random.nextInt(240));
              case 1 -> (char) (33 + random.nextInt(94));
              default -> (char) ('a' + random.nextInt(26));
            });
      }
    }
    return b.toString();
  }

  private String randomAuth(boolean needsToken) {
    return switch (random.nextInt(6)) {
      case 0 -> null;
      case 1 -> "Bearer " + TOKEN;
      case 2 -> "Bearer " + TOKEN.substring(0, random.nextInt(TOKEN.length()));
      case 3 -> "Basic " + TOKEN;
      case 4 -> "Bearer " + TOKEN + "x";
      default -> needsToken ? "bearer " + TOKEN : new String(randomBytes(), StandardCharsets.ISO_8859_1);
    };
  }

  private byte[] randomBytes() {
    byte[] b = new byte[random.nextInt(64)];
    random.nextBytes(b);
    return b;
  }

  private <T> T pick(List<T> from) {
    return from.get(random.nextInt(from.size()));
  }

  private static PolicyDriver fairPolicy() throws Exception {
    return new PolicyDriver(null, 2, System::nanoTime, quiet());
  }

  private static PrintStream quiet() {
    return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
  }
}
