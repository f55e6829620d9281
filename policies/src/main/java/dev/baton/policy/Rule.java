package dev.baton.policy;

import java.util.Objects;

/**
 * A config rule: processes the match selects become jobs with this spec, one job per process, named
 * {@code <rule name>/<tgid>}.
 *
 * @param name unique among rules; {@code rule<N>} (1-based position) when the file gives none
 * @param match which processes
 * @param spec what they become
 */
public record Rule(String name, Match match, JobSpec spec) {
  public Rule {
    Names.check("rule name", name);
    Objects.requireNonNull(match, "match");
    Objects.requireNonNull(spec, "spec");
  }
}
