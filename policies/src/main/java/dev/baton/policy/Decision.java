package dev.baton.policy;

import java.util.List;

/**
 * What changed at one tick.
 *
 * @param hints hint changes to write, in order (removals of exited tasks first)
 * @param statusChanges job statuses whose verdict changed, or that are new
 */
public record Decision(List<HintChange> hints, List<JobStatus> statusChanges) {
  public Decision {
    hints = List.copyOf(hints);
    statusChanges = List.copyOf(statusChanges);
  }

  public boolean isEmpty() {
    return hints.isEmpty() && statusChanges.isEmpty();
  }
}
