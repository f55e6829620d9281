package dev.baton.agent;

import dev.baton.agent.api.ApiClient;
import dev.baton.agent.api.ApiOptions;
import dev.baton.agent.api.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code baton hint}: sets, clears or lists hints on the running agent through its API. The hint
 * is validated here first, so a mistake is reported before anything is sent.
 */
final class HintCommand {

  static final String USAGE =
      """
        hint PID --class CLASS [--weight W] [--slice-us S] [--deadline-us D]
        hint PID --clear           set or clear one task's hint (a process id covers its
                                   threads); classes: live (needs --deadline-us),
                                   interactive, normal, batch, idle
        hint --cgroup DIR ...      the same for every task of a cgroup (v2) without its own
        hint PID                   how a task is scheduled now, hinted or not
        hint --list                the hints in force
            --api HOST:PORT        the agent's API (default 127.0.0.1:9755)
            --token-file FILE      bearer token, if the agent requires one
      """;

  private HintCommand() {}

  static int run(List<String> args, PrintStream out, PrintStream err) {
    String api = ApiOptions.DEFAULT_HOST + ":" + ApiOptions.DEFAULT_PORT;
    Path token = null;
    Integer pid = null;
    Path cgroup = null;
    SchedClass schedClass = null;
    int weight = 0;
    int sliceUs = 0;
    int deadlineUs = 0;
    boolean clear = false;
    boolean list = false;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      switch (a) {
        case "--api" -> api = Main.optionValue(args, ++i, a);
        case "--token-file" -> token = Path.of(Main.optionValue(args, ++i, a));
        case "--cgroup" -> cgroup = Path.of(Main.optionValue(args, ++i, a));
        case "--class" -> {
          try {
            schedClass = SchedClass.parse(Main.optionValue(args, ++i, a));
          } catch (IllegalArgumentException e) {
            throw new UsageException("--class: " + e.getMessage());
          }
        }
        case "--weight" -> weight = intValue(a, Main.optionValue(args, ++i, a));
        case "--slice-us" -> sliceUs = intValue(a, Main.optionValue(args, ++i, a));
        case "--deadline-us" -> deadlineUs = intValue(a, Main.optionValue(args, ++i, a));
        case "--clear" -> clear = true;
        case "--list" -> list = true;
        default -> {
          if (a.startsWith("-") || pid != null) {
            throw new UsageException("unknown option for hint: " + a);
          }
          pid = intValue("PID", a);
          if (pid <= 0) {
            throw new UsageException("PID must be positive, not " + a);
          }
        }
      }
    }
    try {
      ApiClient client = new ApiClient(api, token, java.time.Duration.ofSeconds(Main.DEFAULT_STATUS_TIMEOUT_S));
      if (list) {
        if (pid != null || cgroup != null || schedClass != null || clear) {
          throw new UsageException("--list takes no task, cgroup or hint");
        }
        return list(client, out, err);
      }
      if ((pid == null) == (cgroup == null)) {
        throw new UsageException("name one task (PID) or one --cgroup DIR, or use --list");
      }
      String path = pid != null ? "/v1/hints/" + pid : "/v1/hints/cgroups/" + cgroupId(cgroup);
      String what = pid != null ? "task " + pid : "cgroup " + cgroup;
      if (clear) {
        if (schedClass != null) {
          throw new UsageException("--clear takes no --class");
        }
        return report(client.send("DELETE", path, null), out, err, "baton: cleared the hint of " + what);
      }
      if (schedClass == null) {
        if (pid != null && weight == 0 && sliceUs == 0 && deadlineUs == 0) {
          return show(client, pid, out, err);
        }
        throw new UsageException("--class is required (or --clear, or --list)");
      }
      Hint hint;
      try {
        hint = new Hint(schedClass, weight, sliceUs, deadlineUs);
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      }
      String body =
          new String(
              Json.write(
                  new HintsApi.HintBody(
                      hint.schedClass().label(), hint.weight(), hint.sliceUs(), hint.deadlineUs())),
              java.nio.charset.StandardCharsets.UTF_8);
      return report(client.send("PUT", path, body), out, err, "baton: " + what + ": " + describe(hint));
    } catch (IOException e) {
      err.println("baton: " + e.getMessage());
      return Main.FAILED;
    }
  }

  private static int list(ApiClient client, PrintStream out, PrintStream err) throws IOException {
    ApiClient.Reply reply = client.send("GET", "/v1/hints", null);
    if (!reply.ok()) {
      return report(reply, out, err, "");
    }
    HintsApi.Listing listing = Json.read(reply.body(), HintsApi.Listing.class);
    out.printf("%-8s %-8s %-12s %6s %9s %11s %-12s %-8s %s%n",
        "PID", "TGID", "CLASS", "WEIGHT", "SLICE_US", "DEADLINE_US", "SCHEDULED", "BY", "COMM");
    for (HintsApi.TaskEntry t : listing.tasks()) {
      out.printf("%-8d %-8s %-12s %6s %9s %11s %-12s %-8s %s%n",
          t.pid(), t.alive() ? Integer.toString(t.tgid()) : "-", t.schedClass(), dflt(t.weight()),
          dflt(t.sliceUs()), dflt(t.deadlineUs()), t.alive() ? t.scheduledAs() : "(exited)",
          t.origin(), t.alive() ? t.comm() : "");
    }
    for (HintsApi.CgroupEntry c : listing.cgroups()) {
      out.printf("cgroup %-10d %-12s %6s %9s %11s %-12s %s%n",
          c.cgroupId(), c.schedClass(), dflt(c.weight()), dflt(c.sliceUs()), dflt(c.deadlineUs()), "", c.origin());
    }
    return Main.OK;
  }

  private static int show(ApiClient client, int pid, PrintStream out, PrintStream err) throws IOException {
    ApiClient.Reply reply = client.send("GET", "/v1/hints/" + pid, null);
    if (!reply.ok()) {
      return report(reply, out, err, "");
    }
    HintsApi.TaskState t = Json.read(reply.body(), HintsApi.TaskState.class);
    out.printf("baton: task %d (%s, process %d) is scheduled as %s, weight %d%n",
        t.pid(), t.comm(), t.tgid(), t.scheduledAs(), t.weight());
    return Main.OK;
  }

  private static int report(ApiClient.Reply reply, PrintStream out, PrintStream err, String done) {
    if (reply.ok()) {
      out.println(done);
      return Main.OK;
    }
    String message = reply.body();
    try {
      @SuppressWarnings("unchecked") // the API's error bodies are {"error": "..."}
      Map<String, Object> error = Json.read(reply.body(), Map.class);
      message = String.valueOf(error.get("error"));
    } catch (RuntimeException e) {
      // not the API's JSON: show it as it came
    }
    err.println("baton: " + message + " (HTTP " + reply.status() + ")");
    return Main.FAILED;
  }

  static String describe(Hint h) {
    StringBuilder sb = new StringBuilder(h.schedClass().label());
    if (h.weight() != 0) {
      sb.append(", weight ").append(h.weight());
    }
    if (h.sliceUs() != 0) {
      sb.append(", slice ").append(h.sliceUs()).append(" us");
    }
    if (h.deadlineUs() != 0) {
      sb.append(", deadline ").append(h.deadlineUs()).append(" us");
    }
    return sb.toString();
  }

  private static String dflt(int v) {
    return v == 0 ? "-" : Integer.toString(v);
  }

  /** A cgroup (v2) directory's id: the kernel's kernfs node id, which is its inode number. */
  static long cgroupId(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new UsageException("--cgroup: " + dir + " is not a directory");
    }
    return ((Number) Files.getAttribute(dir, "unix:ino")).longValue();
  }

  private static int intValue(String option, String v) {
    long n = RunOptions.number(option, v);
    if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
      throw new UsageException(option + " is out of range: " + v);
    }
    return (int) n;
  }
}
