package dev.baton.policy;

/**
 * The {@code fair} policy: no hints at all, so the BPF side schedules every task by its own fair
 * default. The baseline to compare other policies with, and the safe choice when in doubt.
 */
public final class FairPolicy implements Policy {

  public static final String NAME = "fair";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void decide(PolicyInput in, PolicyOutput out) {}
}
