package dev.baton.policy;

import java.util.Collection;

/** What a policy sees on a tick. Valid only during {@link Policy#decide}. */
public interface PolicyInput {

  /** The engine's clock now (monotonic ns). */
  long nowNs();

  /** Time since the previous tick; 0 on the first. The {@code recent} counters cover it. */
  long intervalNs();

  /** Every job: API jobs in registration order, then rule jobs. */
  Collection<TrackedJob> jobs();

  /** Every task, including those no job selects. */
  Iterable<TrackedTask> tasks();
}
