package dev.baton.agent;

import dev.baton.agent.api.ApiClient;
import dev.baton.agent.api.ApiServer;
import dev.baton.agent.metrics.Metrics;
import dev.baton.bpf.abi.BatonStat;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The training run of the JVM's AOT cache ({@code bin/baton aot-cache}, which the build runs; JDK
 * 25's {@code -XX:AOTCacheOutput}): the classes it loads are stored loaded and linked, and every
 * later {@code baton} JVM maps them instead of reading, verifying and linking them from the jars.
 * Measured in an emulated guest, where the VM tests start JVMs dozens of times: an agent
 * attached and answering in 14 s instead of 24-27, {@code baton job ls} in 4 s instead of 10; on
 * a build host, {@code baton job ls} 0.74 s instead of 0.91.
 *
 * <p>It runs where the build and the installer do, which may have no sched_ext: so it runs what
 * {@code baton run} loads short of attaching (the command line, the config and policy parsers,
 * the transcode policy, the control API on loopback and the CLI's client of it, the metrics),
 * and changes nothing of the host. What only attaching loads (libbpf's bindings, the scheduler's
 * loop) comes from the jars as before. Classes are cached, never state: no static initializer of
 * Baton's runs ahead of time (JEP 483).
 */
final class AotTraining {

  private AotTraining() {}

  public static void main(String[] argv) throws Exception {
    PrintStream quiet = new PrintStream(OutputStream.nullOutputStream(), true);
    Path dir = Files.createTempDirectory("baton-aot-training");
    try {
      Path policy = dir.resolve("policy.yaml");
      Files.writeString(
          policy,
          """
          policy: transcode
          tenants:
            a: {weight: 200}
            b: {}
          rules:
            - name: live-cams
              match: {comm: no-such-comm, cmdline_regex: "-preset (slow|fast)"}
              job: {class: live, tenant: a, fps: 59.94, frame_cost_us: 9000}
          transcode:
            window_ms: 3000
          """);
      Main.run(List.of("help"), quiet, quiet);
      RunOptions options =
          RunOptions.parse(List.of("--listen", "127.0.0.1:0", "--no-pin", "--max-tasks", "64", "--policy-config", policy.toString()));
      PolicyDriver driver = PolicyDriver.of(options, 2, System::nanoTime, quiet);
      Agent agent = new Agent(options, quiet, quiet, new AtomicBoolean(), driver);
      try (Metrics metrics = new Metrics(BatonStat.VALUES, Scheduler.CLASSES, new BpfStats(), agent);
          ApiServer api = new ApiServer(options.api())) {
        agent.routes(api, metrics);
        api.start();
        String where = api.where();
        String self = Long.toString(ProcessHandle.current().pid());
        for (List<String> command :
            List.of(
                List.of("status"),
                List.of("job", "put", "cam", "--class", "live", "--fps", "50", "--pid", self),
                List.of("job", "put", "vod", "--class", "vod", "--tenant", "b", "--pid", self),
                List.of("job", "progress", "cam", "--frames", "10"),
                List.of("job", "ls"),
                List.of("hint", "--list"),
                List.of("hint", self),
                List.of("job", "rm", "cam"),
                List.of("job", "rm", "vod"),
                List.of("job", "put", "bad", "--class", "nonsense", "--pid", self),
                List.of("reload"))) {
          List<String> args = new ArrayList<>(command);
          args.addAll(List.of("--api", where));
          Main.run(args, quiet, quiet);
        }
        new ApiClient(where, null, Duration.ofSeconds(10)).send("GET", "/metrics", null); // as Prometheus
      }
    } finally {
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) {
          Files.delete(f);
        }
      }
      Files.delete(dir);
    }
  }
}
