package dev.baton.policy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decides which job a process belongs to. Precedence, first difference wins:
 *
 * <ol>
 *   <li>API jobs beat config rules;
 *   <li>a pid selector beats a match;
 *   <li>more criteria beat fewer;
 *   <li>a deeper cgroup prefix beats a shallower one (or none);
 *   <li>the earlier registered job, or the rule earlier in the file.
 * </ol>
 *
 * <p>Candidates are tried in that order and the first that matches wins, so a lower one's criteria
 * are never evaluated. Within a match the free criteria (uid, comm) go first and the ones that read
 * /proc (cgroup path, command line) last, each read at most once per process. Pid selectors, which
 * go first, are looked up by process id rather than tried one by one: registering a job
 * re-classifies every process, and trying each pid job against each process made registering
 * thousands of them quadratic (measured: 5000 jobs over 1000 processes, 58 s).
 */
final class Classifier {

  /** A selector ready to test: an API job's or a rule's; by pids (tgids) or by a match. */
  record Candidate(TrackedJob apiJob, Rule rule, Set<Integer> tgids, Match match, Pattern cmdline) {
    /** For match candidates; pid candidates are looked up in apiByTgid instead. */
    Match.Search matches(TaskInfo p) {
      if (match.uid() != Match.ANY_UID && match.uid() != p.uid()) {
        return Match.Search.NOT_FOUND;
      }
      if (match.comm() != null && !match.comm().equals(p.comm())) {
        return Match.Search.NOT_FOUND;
      }
      if (match.cgroupPrefix() != null && !match.cgroupMatches(p.cgroupPath())) {
        return Match.Search.NOT_FOUND;
      }
      if (cmdline != null) {
        String c = p.cmdline();
        return c == null ? Match.Search.NOT_FOUND : Match.searchCmdline(cmdline, c);
      }
      return Match.Search.FOUND;
    }

    /** The rule's name or the API job's id. */
    String name() {
      return rule != null ? rule.name() : apiJob.id();
    }

    private int criteria() {
      return match.criteria();
    }

    private int depth() {
      return match.cgroupDepth();
    }
  }

  /** Stable sort: equal candidates keep registration or file order. */
  private static final Comparator<Candidate> MOST_SPECIFIC_FIRST =
      Comparator.comparingInt(Candidate::criteria).thenComparingInt(Candidate::depth).reversed();

  private final List<Candidate> rules;
  /** API jobs that select by pid: the earliest registered one naming each process id. */
  private Map<Integer, Candidate> apiByTgid = Map.of();
  /** API jobs that select by a match, most specific first. */
  private List<Candidate> api = List.of();
  /** Searches that gave up ({@link Match.Search#GAVE_UP}), and the last one's selector and pid. */
  private long cmdlineGiveUps;
  private String lastGiveUp;

  Classifier(List<Rule> rules) {
    List<Candidate> list = new ArrayList<>(rules.size());
    for (Rule r : rules) {
      list.add(of(null, r, new Selector.Matching(r.match())));
    }
    list.sort(MOST_SPECIFIC_FIRST);
    this.rules = List.copyOf(list);
  }

  /** Replaces the API jobs, given in registration order. */
  void setApiJobs(Iterable<TrackedJob> jobs) {
    Map<Integer, Candidate> byTgid = new HashMap<>();
    List<Candidate> list = new ArrayList<>();
    for (TrackedJob j : jobs) {
      if (j.origin() == TrackedJob.Origin.API) {
        Candidate c = of(j, null, j.job.selector());
        if (c.tgids() != null) {
          for (Integer tgid : c.tgids()) {
            byTgid.putIfAbsent(tgid, c);
          }
        } else {
          list.add(c);
        }
      }
    }
    list.sort(MOST_SPECIFIC_FIRST);
    apiByTgid = byTgid;
    api = List.copyOf(list);
  }

  /** The winning candidate for a process, or null when nothing selects it. */
  Candidate classify(TaskInfo process) {
    Candidate byPid = apiByTgid.get(process.tgid());
    if (byPid != null) {
      return byPid;
    }
    for (int i = 0; i < api.size(); i++) {
      if (matches(api.get(i), process)) {
        return api.get(i);
      }
    }
    for (int i = 0; i < rules.size(); i++) {
      if (matches(rules.get(i), process)) {
        return rules.get(i);
      }
    }
    return null;
  }

  private boolean matches(Candidate c, TaskInfo process) {
    Match.Search s = c.matches(process);
    if (s == Match.Search.GAVE_UP) {
      cmdlineGiveUps++;
      lastGiveUp = c.name() + " on process " + process.tgid();
    }
    return s == Match.Search.FOUND;
  }

  long cmdlineGiveUps() {
    return cmdlineGiveUps;
  }

  String lastGiveUp() {
    return lastGiveUp;
  }

  private static Candidate of(TrackedJob apiJob, Rule rule, Selector selector) {
    return switch (selector) {
      case Selector.Pids p -> new Candidate(apiJob, rule, p.tgids(), null, null);
      case Selector.Matching m ->
          new Candidate(
              apiJob,
              rule,
              null,
              m.match(),
              m.match().cmdlineRegex() == null ? null : Match.compile(m.match().cmdlineRegex()));
    };
  }
}
