package dev.baton.policy;

import java.util.Objects;

/**
 * A job registered through the control API. Registration beats config rules for the processes it
 * selects.
 *
 * @param id unique among API jobs (see {@link Names}); rule-made jobs have ids with a {@code /}
 * @param selector which processes are the job's
 * @param spec class, tenant, weight, frame timing
 */
public record Job(String id, Selector selector, JobSpec spec) {
  public Job {
    Names.check("job id", id);
    Objects.requireNonNull(selector, "selector");
    Objects.requireNonNull(spec, "spec");
  }
}
