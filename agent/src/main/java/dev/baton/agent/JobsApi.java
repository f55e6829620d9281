package dev.baton.agent;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.baton.agent.api.ApiException;
import dev.baton.agent.api.ApiServer;
import dev.baton.agent.api.Request;
import dev.baton.agent.api.Response;
import dev.baton.policy.Job;
import dev.baton.policy.JobClass;
import dev.baton.policy.JobSpec;
import dev.baton.policy.JobStatus;
import dev.baton.policy.LiveSpec;
import dev.baton.policy.Match;
import dev.baton.policy.PolicyEngine;
import dev.baton.policy.Selector;
import dev.baton.policy.TrackedJob;
import dev.baton.policy.TrackedTask;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The job control API, a front for {@link PolicyDriver}:
 *
 * <pre>
 * GET    /v1/tasks                  the tasks the policy knows, with their job and hint
 * GET    /v1/jobs                   every job (API and rule-made) with its status
 * PUT    /v1/jobs/{id}              body JobBody; registers or replaces the job; 200 JobEntry;
 *                                   409 if it is new and PolicyEngine.MAX_API_JOBS are registered
 * DELETE /v1/jobs/{id}              204; 404 if no API job has that id
 * POST   /v1/jobs/{id}/progress     body {"frames": N}, a running total; 204
 * POST   /v1/reload                 re-reads the policy config; 400 (file:line:column) keeps the old
 * </pre>
 *
 * Every body is validated completely before anything changes. With a {@link JobStore}, a PUT or
 * DELETE is answered once it is recorded there; one that cannot be is 500 and changes nothing.
 * Handlers run one at a time (ApiServer's one handler thread), so a change and its journal line
 * are never interleaved with another's.
 */
final class JobsApi {

  /** At most this many pids in one job: a larger list is a mistake, or wants a cgroup. */
  static final int MAX_PIDS = 4096;

  /** A job as the API takes it. Exactly one of pids and cgroup; period_us or fps for live. */
  record JobBody(
      @JsonProperty("class") String jobClass,
      String tenant,
      Long periodUs,
      Double fps,
      Long frameCostUs,
      Integer weight,
      List<Integer> pids,
      String cgroup) {

    Job toJob(String id) {
      if (jobClass == null) {
        throw ApiException.badRequest("field 'class' is required (live, vod or batch)");
      }
      if ((pids == null) == (cgroup == null)) {
        throw ApiException.badRequest("a job needs exactly one of 'pids' and 'cgroup'");
      }
      if (pids != null && pids.size() > MAX_PIDS) {
        throw ApiException.badRequest("at most " + MAX_PIDS + " pids; use a cgroup for more");
      }
      try {
        JobClass c = JobClass.fromConfigName(jobClass);
        LiveSpec live = null;
        if (c == JobClass.LIVE) {
          if ((periodUs == null) == (fps == null)) {
            throw new IllegalArgumentException("a live job needs exactly one of 'period_us' and 'fps'");
          }
          long cost = frameCostUs == null ? 0 : frameCostUs;
          live = periodUs != null ? new LiveSpec(periodUs, cost) : LiveSpec.ofFps(fps, cost);
        } else if (periodUs != null || fps != null || frameCostUs != null) {
          throw new IllegalArgumentException("period_us, fps and frame_cost_us are for live jobs only");
        }
        JobSpec spec =
            new JobSpec(
                c,
                tenant == null ? JobSpec.DEFAULT_TENANT : tenant,
                weight == null ? (int) dev.baton.policy.Hint.WEIGHT.defaultValue() : weight,
                live);
        Selector selector;
        if (pids != null) {
          if (pids.contains(null)) {
            throw new IllegalArgumentException("pids must be whole numbers");
          }
          selector = new Selector.Pids(Set.copyOf(pids));
        } else {
          selector = Selector.matching(Match.cgroup(cgroup));
        }
        return new Job(id, selector, spec);
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest(e.getMessage());
      }
    }
  }

  record ProgressBody(Long frames) {}

  record JobEntry(
      String id,
      String origin,
      @JsonProperty("class") String jobClass,
      String tenant,
      int weight,
      Long periodUs,
      Long frameCostUs,
      List<Integer> pids,
      String cgroup,
      int tasks,
      long cpuNs,
      long waitNs,
      long framesDone,
      long framesMissed,
      String health,
      int lagLevel,
      Double demandCpus,
      String reason) {

    static JobEntry of(TrackedJob j, JobStatus s) {
      JobSpec spec = j.spec();
      List<Integer> pids = null;
      String cgroup = null;
      if (j.registration() != null) {
        switch (j.registration().selector()) {
          case Selector.Pids p -> pids = List.copyOf(new TreeSet<>(p.tgids()));
          case Selector.Matching m -> cgroup = m.match().cgroupPrefix();
        }
      }
      return new JobEntry(
          j.id(),
          j.origin().name().toLowerCase(java.util.Locale.ROOT),
          spec.jobClass().configName(),
          spec.tenant(),
          spec.weight(),
          spec.live() == null ? null : spec.live().framePeriodUs(),
          spec.live() == null ? null : spec.live().frameCostUs(),
          pids,
          cgroup,
          j.tasks().size(),
          j.cpuNs(),
          j.waitNs(),
          j.framesDone(),
          j.framesMissed(),
          s == null ? null : s.health().name().toLowerCase(java.util.Locale.ROOT),
          s == null ? 0 : s.lagLevel(),
          s == null || Double.isNaN(s.demandCpus()) ? null : s.demandCpus(),
          s == null ? null : s.reason());
    }
  }

  record TaskEntry(
      int pid, int tgid, String comm, String job, @JsonProperty("class") String schedClass,
      Integer deadlineUs, long cpuNs, long waitNs, long wakeups) {
    static TaskEntry of(TrackedTask t) {
      var h = t.hint();
      return new TaskEntry(
          t.pid(), t.tgid(), t.comm(), t.job() == null ? null : t.job().id(),
          h == null ? "normal" : h.schedClass().name().toLowerCase(java.util.Locale.ROOT),
          h == null || h.deadlineUs() == 0 ? null : h.deadlineUs(),
          t.cpuNs(), t.waitNs(), t.wakeups());
    }
  }

  /** Where registrations are recorded before they are answered ({@link JobStore}). */
  interface Journal {
    void put(Job job) throws java.io.IOException;

    void remove(String id) throws java.io.IOException;
  }

  private final PolicyDriver driver;
  private final Journal store;

  /** @param store where registrations are recorded; null: memory only */
  JobsApi(PolicyDriver driver, Journal store) {
    this.driver = driver;
    this.store = store;
  }

  void register(ApiServer api) {
    api.route("GET", "/v1/tasks", req -> Response.ok(Map.of("tasks", tasks())));
    api.route("GET", "/v1/jobs", req -> Response.ok(Map.of("jobs", jobs())));
    api.route("PUT", "/v1/jobs/{id}", this::put);
    api.route("DELETE", "/v1/jobs/{id}", this::delete);
    api.route("POST", "/v1/jobs/{id}/progress", this::progress);
  }

  List<TaskEntry> tasks() {
    return driver.read(
        e -> {
          List<TaskEntry> list = new ArrayList<>();
          for (TrackedJob j : e.jobs()) {
            j.tasks().forEach(t -> list.add(TaskEntry.of(t)));
          }
          return list;
        });
  }

  List<JobEntry> jobs() {
    return driver.read(e -> e.jobs().stream().map(j -> JobEntry.of(j, e.status(j.id()).orElse(null))).toList());
  }

  private Response put(Request req) {
    String id = req.param("id");
    try {
      dev.baton.policy.Names.check("job id", id);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    Job job = req.json(JobBody.class).toJob(id);
    Job before = driver.read(e -> e.job(id).map(TrackedJob::registration).orElse(null));
    try {
      driver.registerJob(job);
    } catch (PolicyEngine.JobLimitException e) {
      throw new ApiException(409, e.getMessage());
    } catch (PolicyDriver.PolicyFailedException e) {
      undo(id, before);
      throw new ApiException(500, e.getMessage() + "; the job was not changed");
    }
    if (store != null) {
      try {
        store.put(job);
      } catch (java.io.IOException e) {
        undo(id, before);
        throw new ApiException(500, e.getMessage() + "; the job was not changed");
      }
    }
    return Response.ok(driver.read(e -> JobEntry.of(e.job(id).orElseThrow(), e.status(id).orElse(null))));
  }

  /** Puts back what a PUT replaced, or removes what it added. */
  private void undo(String id, Job before) {
    try {
      if (before != null) {
        driver.registerJob(before);
      } else {
        driver.removeJob(id);
      }
    } catch (PolicyDriver.PolicyFailedException e) {
      // Contained and logged; the rebuilt (or stopped) policy is what runs now.
    }
  }

  private Response delete(Request req) {
    String id = req.param("id");
    boolean registered = driver.read(e -> e.job(id).filter(j -> j.origin() == TrackedJob.Origin.API).isPresent());
    if (!registered) {
      throw ApiException.notFound("no job '" + id + "' was registered through the API");
    }
    if (store != null) {
      try {
        store.remove(id); // first: a removal that cannot be recorded would come back at a restart
      } catch (java.io.IOException e) {
        throw new ApiException(500, e.getMessage() + "; the job was not removed");
      }
    }
    driver.removeJob(id);
    return Response.noContent();
  }

  private Response progress(Request req) {
    String id = req.param("id");
    ProgressBody body = req.json(ProgressBody.class);
    if (body.frames() == null || body.frames() < 0) {
      throw ApiException.badRequest("field 'frames' is required: frames done so far, 0 or more");
    }
    try {
      if (!driver.frameProgress(id, body.frames())) {
        throw ApiException.notFound("no job '" + id + "'");
      }
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    return Response.noContent();
  }

  /** The engine's view for /v1/status. */
  static Map<String, Object> summary(PolicyEngine e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("jobs", e.jobs().size());
    m.put("tasks_classified", e.taskCount());
    return m;
  }
}
