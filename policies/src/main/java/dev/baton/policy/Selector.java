package dev.baton.policy;

import java.util.Objects;
import java.util.Set;

/** How a job picks its tasks. A process (all its threads) belongs to one job at a time. */
public sealed interface Selector {

  /** The processes with these ids (tgids), and all their threads. */
  record Pids(Set<Integer> tgids) implements Selector {
    public Pids {
      tgids = Set.copyOf(tgids);
      if (tgids.isEmpty()) {
        throw new IllegalArgumentException("a pid selector needs at least one pid");
      }
      for (int p : tgids) {
        if (p <= 0) {
          throw new IllegalArgumentException("pids must be positive, got " + p);
        }
      }
    }
  }

  /** The processes a {@link Match} selects (a cgroup subtree is {@code Match.cgroup(path)}). */
  record Matching(Match match) implements Selector {
    public Matching {
      Objects.requireNonNull(match, "match");
    }
  }

  static Selector pids(int... tgids) {
    Integer[] boxed = new Integer[tgids.length];
    for (int i = 0; i < tgids.length; i++) {
      boxed[i] = tgids[i];
    }
    return new Pids(Set.of(boxed));
  }

  static Selector cgroup(String path) {
    return new Matching(Match.cgroup(path));
  }

  static Selector matching(Match match) {
    return new Matching(match);
  }
}
