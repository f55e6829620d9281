package dev.baton.agent;

import dev.baton.agent.api.ApiClient;
import dev.baton.agent.api.ApiOptions;
import dev.baton.agent.api.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code baton job} and {@code baton reload}: clients of /v1/jobs and /v1/reload. The agent
 * validates; this only shapes the request and prints the answer (or the error, exiting 1).
 */
final class JobCommand {

  static final String USAGE =
      """
        job put ID --class CLASS [--tenant T] [--weight W] [--period-us N | --fps F]
                [--frame-cost-us C] (--pid P ... | --cgroup PATH)
                                   register or replace a job (class live, vod or batch;
                                   live needs --period-us or --fps)
        job rm ID                  remove a job registered through the API
        job ls                     the jobs and their status
        job progress ID --frames N a live job's frames done so far
        reload                     re-read the agent's policy config
            --api HOST:PORT        the agent's API (default 127.0.0.1:9755), for job and reload
            --token-file FILE      bearer token, if the agent requires one
            --timeout-s S          how long to wait for the agent's answer (default 10)
      """;

  private JobCommand() {}

  static int reload(List<String> args, PrintStream out, PrintStream err) {
    Conn c = new Conn();
    for (int i = 0; i < args.size(); i++) {
      i = c.option(args, i, "reload");
    }
    return c.call("POST", "/v1/reload", "{}", out, err);
  }

  static int run(List<String> args, PrintStream out, PrintStream err) {
    if (args.isEmpty()) {
      throw new UsageException("job needs a subcommand: put, rm, ls or progress");
    }
    String sub = args.get(0);
    List<String> rest = args.subList(1, args.size());
    Conn c = new Conn();
    String id = null;
    Map<String, Object> body = new LinkedHashMap<>();
    List<Long> pids = new ArrayList<>();
    Long frames = null;
    for (int i = 0; i < rest.size(); i++) {
      String a = rest.get(i);
      switch (a) {
        case "--api", "--token-file", "--timeout-s" -> i = c.option(rest, i, "job");
        case "--class" -> body.put("class", Main.optionValue(rest, ++i, a));
        case "--tenant" -> body.put("tenant", Main.optionValue(rest, ++i, a));
        case "--weight" -> body.put("weight", RunOptions.number(a, Main.optionValue(rest, ++i, a)));
        case "--period-us" -> body.put("period_us", RunOptions.number(a, Main.optionValue(rest, ++i, a)));
        case "--frame-cost-us" ->
            body.put("frame_cost_us", RunOptions.number(a, Main.optionValue(rest, ++i, a)));
        case "--fps" -> body.put("fps", decimal(a, Main.optionValue(rest, ++i, a)));
        case "--cgroup" -> body.put("cgroup", Main.optionValue(rest, ++i, a));
        case "--pid" -> pids.add(RunOptions.number(a, Main.optionValue(rest, ++i, a)));
        case "--frames" -> frames = RunOptions.number(a, Main.optionValue(rest, ++i, a));
        default -> {
          if (a.startsWith("-") || id != null) {
            throw new UsageException("unknown option for job " + sub + ": " + a);
          }
          id = a;
        }
      }
    }
    if (!pids.isEmpty()) {
      body.put("pids", pids);
    }
    switch (sub) {
      case "ls" -> {
        requireNone(id, body, frames, "ls");
        return c.call("GET", "/v1/jobs", null, out, err);
      }
      case "rm" -> {
        requireNone(null, body, frames, "rm");
        return c.call("DELETE", jobPath(id, sub), null, out, err);
      }
      case "put" -> {
        if (frames != null) {
          throw new UsageException("--frames is for job progress");
        }
        return c.call("PUT", jobPath(id, sub), json(body), out, err);
      }
      case "progress" -> {
        requireNone(null, body, null, "progress");
        if (frames == null) {
          throw new UsageException("job progress needs --frames N");
        }
        return c.call("POST", jobPath(id, sub) + "/progress", json(Map.of("frames", frames)), out, err);
      }
      default -> throw new UsageException("unknown job subcommand '" + sub + "': put, rm, ls or progress");
    }
  }

  private static void requireNone(String id, Map<String, Object> body, Long frames, String sub) {
    if (id != null || !body.isEmpty() || frames != null) {
      throw new UsageException("job " + sub + " takes no " + (id != null ? "ID" : "job options"));
    }
  }

  private static String jobPath(String id, String sub) {
    if (id == null) {
      throw new UsageException("job " + sub + " needs a job ID");
    }
    return "/v1/jobs/" + URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String json(Object body) {
    return new String(Json.write(body), StandardCharsets.UTF_8);
  }

  private static double decimal(String option, String v) {
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new UsageException(option + " takes a number, not '" + v + "'");
    }
  }

  /** --api and --token-file, and the call itself. */
  private static final class Conn {
    String api = ApiOptions.DEFAULT_HOST + ":" + ApiOptions.DEFAULT_PORT;
    Path token;
    long timeoutS = Main.DEFAULT_STATUS_TIMEOUT_S;

    int option(List<String> args, int i, String cmd) {
      String a = args.get(i);
      switch (a) {
        case "--api" -> api = Main.optionValue(args, ++i, a);
        case "--token-file" -> token = Path.of(Main.optionValue(args, ++i, a));
        case "--timeout-s" -> timeoutS = Main.timeoutSeconds(Main.optionValue(args, ++i, a));
        default -> throw new UsageException("unknown option for " + cmd + ": " + a);
      }
      return i;
    }

    int call(String method, String path, String body, PrintStream out, PrintStream err) {
      try {
        ApiClient client = new ApiClient(api, token, Duration.ofSeconds(timeoutS));
        ApiClient.Reply reply = client.send(method, path, body);
        if (reply.ok()) {
          out.println(reply.body().isEmpty() ? "ok" : reply.body());
          return Main.OK;
        }
        err.println("baton: " + reply.body() + " (HTTP " + reply.status() + ")");
        return Main.FAILED;
      } catch (IOException e) {
        err.println("baton: " + e.getMessage());
        return Main.FAILED;
      }
    }
  }
}
