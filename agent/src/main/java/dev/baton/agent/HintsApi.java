package dev.baton.agent;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.baton.agent.api.ApiException;
import dev.baton.agent.api.ApiServer;
import dev.baton.agent.api.Request;
import dev.baton.agent.api.Response;
import java.util.List;
import java.util.Optional;

/**
 * {@code /v1/hints}: operators' hints for one task or cgroup, through the same {@link Hints}
 * path the policies use.
 *
 * <pre>
 * GET    /v1/hints                  {"tasks": [TaskEntry...], "cgroups": [CgroupEntry...]}
 * GET    /v1/hints/{pid}            200 TaskState, hinted or not; 404 if no task has that pid
 * PUT    /v1/hints/{pid}            body HintBody; 200 TaskEntry, 404 if no task has that pid
 * DELETE /v1/hints/{pid}            204, 404 if it has no hint
 * PUT    /v1/hints/cgroups/{id}     body HintBody; 200 CgroupEntry (id: the cgroup's inode number)
 * DELETE /v1/hints/cgroups/{id}     204, 404 if it has no hint
 * </pre>
 *
 * Every hint route answers 503 while no scheduler is attached: there is nowhere to write.
 */
final class HintsApi {

  /** A hint as the API takes it; absent or zero numbers mean "the default", as in {@link Hint}. */
  record HintBody(
      @JsonProperty("class") String schedClass, Integer weight, Integer sliceUs, Integer deadlineUs) {
    Hint toHint() {
      if (schedClass == null) {
        throw ApiException.badRequest("field 'class' is required");
      }
      try {
        return new Hint(SchedClass.parse(schedClass), orZero(weight), orZero(sliceUs), orZero(deadlineUs));
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest(e.getMessage());
      }
    }
  }

  private static int orZero(Integer n) {
    return n == null ? 0 : n;
  }

  /**
   * A task hint. {@code alive} says whether the task it was keyed to still runs; {@code
   * scheduledAs} is the class the BPF side last scheduled it in (the hint's, unless the agent's
   * heartbeat was stale or the task has not run since), null once the task is gone.
   */
  record TaskEntry(
      int pid,
      int tgid,
      long startNs,
      @JsonProperty("class") String schedClass,
      int weight,
      int sliceUs,
      int deadlineUs,
      boolean alive,
      String comm,
      String scheduledAs,
      String origin) {

    static TaskEntry of(Hints.TaskHint h) {
      Hint hint = h.hint();
      return new TaskEntry(
          h.pid(),
          h.task().map(Hints.TaskInfo::tgid).orElse(0),
          h.startNs(),
          hint.schedClass().label(),
          hint.weight(),
          hint.sliceUs(),
          hint.deadlineUs(),
          h.task().isPresent(),
          h.task().map(Hints.TaskInfo::comm).orElse(null),
          h.task().map(t -> t.schedClass().label()).orElse(null),
          h.origin().label());
    }
  }

  record CgroupEntry(
      long cgroupId,
      @JsonProperty("class") String schedClass,
      int weight,
      int sliceUs,
      int deadlineUs,
      String origin) {
    static CgroupEntry of(Hints.CgroupHint h) {
      Hint hint = h.hint();
      return new CgroupEntry(
          h.cgroupId(), hint.schedClass().label(), hint.weight(), hint.sliceUs(), hint.deadlineUs(),
          h.origin().label());
    }
  }

  record Listing(List<TaskEntry> tasks, List<CgroupEntry> cgroups) {}

  /**
   * How the BPF side schedules a task now, whatever put it there (its hint, its process's or its
   * cgroup's, or the default: NORMAL, kernel threads INTERACTIVE): the class it was last scheduled
   * in and the weight its virtual time advances with.
   */
  record TaskState(int pid, int tgid, long startNs, String comm, String scheduledAs, int weight) {}

  private volatile Hints hints;

  /** Hints go to {@code hints} from now on; null while no scheduler is attached. */
  void attach(Hints hints) {
    this.hints = hints;
  }

  void register(ApiServer api) {
    api.route("GET", "/v1/hints", req -> Response.ok(list()));
    api.route("GET", "/v1/hints/{pid}", this::getTask);
    api.route("PUT", "/v1/hints/{pid}", this::putTask);
    api.route("DELETE", "/v1/hints/{pid}", this::deleteTask);
    api.route("PUT", "/v1/hints/cgroups/{id}", this::putCgroup);
    api.route("DELETE", "/v1/hints/cgroups/{id}", this::deleteCgroup);
  }

  private Listing list() throws Exception {
    Hints h = attached();
    return new Listing(
        h.taskHints().stream().map(TaskEntry::of).toList(),
        h.cgroupHints().stream().map(CgroupEntry::of).toList());
  }

  private Response getTask(Request req) throws Exception {
    int pid = pid(req);
    Hints.TaskInfo t =
        attached().task(pid).orElseThrow(() -> ApiException.notFound("no task has pid " + pid));
    return Response.ok(
        new TaskState(t.pid(), t.tgid(), t.startNs(), t.comm(), t.schedClass().label(), t.weight()));
  }

  private Response putTask(Request req) throws Exception {
    int pid = pid(req);
    Hint hint = req.json(HintBody.class).toHint();
    Hints h = attached();
    Hints.TaskInfo task =
        h.setTask(pid, hint).orElseThrow(() -> ApiException.notFound("no task has pid " + pid));
    return Response.ok(
        TaskEntry.of(new Hints.TaskHint(pid, task.startNs(), hint, Hints.Origin.OPERATOR, Optional.of(task))));
  }

  private Response deleteTask(Request req) throws Exception {
    int pid = pid(req);
    if (!attached().clearTask(pid)) {
      throw ApiException.notFound("task " + pid + " has no hint (or no task has that pid)");
    }
    return Response.noContent();
  }

  private Response putCgroup(Request req) throws Exception {
    long id = cgroupId(req);
    Hint hint = req.json(HintBody.class).toHint();
    attached().setCgroup(id, hint);
    return Response.ok(CgroupEntry.of(new Hints.CgroupHint(id, hint, Hints.Origin.OPERATOR)));
  }

  private Response deleteCgroup(Request req) throws Exception {
    long id = cgroupId(req);
    if (!attached().clearCgroup(id)) {
      throw ApiException.notFound("cgroup " + id + " has no hint");
    }
    return Response.noContent();
  }

  private Hints attached() {
    Hints h = hints;
    if (h == null) {
      throw new ApiException(503, "no scheduler is attached: hints cannot be written now");
    }
    return h;
  }

  private static int pid(Request req) {
    String s = req.param("pid");
    try {
      int pid = Integer.parseInt(s);
      if (pid > 0) {
        return pid;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw ApiException.badRequest("a pid is a positive whole number, not '" + s + "'");
  }

  private static long cgroupId(Request req) {
    String s = req.param("id");
    try {
      long id = Long.parseLong(s);
      if (id > 0) {
        return id;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw ApiException.badRequest(
        "a cgroup id is a positive whole number (the cgroup directory's inode), not '" + s + "'");
  }
}
