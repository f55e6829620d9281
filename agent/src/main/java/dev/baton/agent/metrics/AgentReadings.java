package dev.baton.agent.metrics;

/** What the agent itself knows, read at scrape time (cheap: published fields, no locks). */
public interface AgentReadings {
  /** Ring-buffer records the agent has consumed. */
  long eventsReceived();

  /** Hint-map entries the agent has written. */
  long hintsWritten();

  /** Hint changes the kernel refused (a full hint map). */
  long hintsRefused();

  /** Live tasks in the task table. */
  long tasksTracked();

  /** Tasks the full task table could not take. */
  long tasksDropped();

  /** Jobs of a class (live, vod, batch) the agent is running a policy for. */
  long jobs(String jobClass);

  /**
   * Deadlines of live jobs that passed before their frame was done, as the agent sees them: frames
   * due but not done when a job reported its progress.
   */
  long liveDeadlineMisses();

  /**
   * cmdline_regex searches that gave up (their budget of characters read, or the stack overflowed)
   * and counted as no match: a rule may be missing processes it should select.
   */
  long abandonedRegexSearches();

  /**
   * Exceptions out of the policy that the agent contained: each rebuilt the policy, or turned it
   * off until a reload (the log says which, with the stack trace).
   */
  long policyFailures();

  /**
   * cgroups that set a cgroup v2 CPU control Baton does not apply ({@code control}: cpu.max,
   * cpu.weight or cpu.idle) to anything but its default; may be up to a minute old.
   */
  long unappliedCgroups(String control);

  /** Whether Baton's scheduler is attached (by this agent, or adopted by it). */
  boolean schedulerEnabled();
}
