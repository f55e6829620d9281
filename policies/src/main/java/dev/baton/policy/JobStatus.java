package dev.baton.policy;

/**
 * How a job is doing, as a policy judges it.
 *
 * @param jobId the job
 * @param health the verdict
 * @param lagLevel how far the policy has tightened the job's hints (0 = not at all)
 * @param demandCpus CPUs the job needs, measured or declared; NaN when unknown
 * @param why one line for people: why this verdict
 */
public record JobStatus(String jobId, Health health, int lagLevel, double demandCpus, Reason why) {

  /** A verdict on a job. */
  public enum Health {
    /** Too young to judge. */
    MEASURING,
    /** Getting what it needs. */
    ON_TIME,
    /** Getting less than it needs; the policy is tightening its hints. */
    LAGGING,
    /**
     * Its demand cannot be met on this host; it was demoted so that it does not drag others down.
     */
    INFEASIBLE
  }

  /** Why this verdict, as text. */
  public String reason() {
    return why.text();
  }

  /** Same verdict (health and lag level): a change in either is an event, a new number is not. */
  public boolean sameVerdict(JobStatus other) {
    return other != null && health == other.health && lagLevel == other.lagLevel;
  }
}
