package dev.baton.policy;

/**
 * A scheduling policy: from what tasks do (the engine's task table and job registry) to hints.
 *
 * <p>The {@link PolicyEngine} keeps the table, classifies tasks into jobs, and calls {@link
 * #decide} on each tick; a policy states the hints it wants now, for every task and cgroup it cares
 * about, and the engine turns that into the changes since the previous tick. A policy may keep
 * state between ticks (per job in {@link TrackedJob#setPolicyState}). It reads time only from
 * {@link PolicyInput#nowNs()}, so a fake clock drives it in tests.
 */
public interface Policy {

  /** The name the config file selects it by. */
  String name();

  /** States the hints (and job statuses) wanted now; anything not stated is removed. */
  void decide(PolicyInput in, PolicyOutput out);
}
