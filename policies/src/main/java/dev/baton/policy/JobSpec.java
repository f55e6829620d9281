package dev.baton.policy;

import java.util.Objects;

/**
 * What a job is, apart from which tasks it has: its class, tenant, weight and, for a live job, its
 * frame timing. Shared by API-registered jobs and config rules.
 *
 * @param jobClass live, vod or batch
 * @param tenant who the work is for; tenants share VOD CPU by their weights
 * @param weight the job's share within its tenant (VOD) or its class
 * @param live frame timing; required for LIVE jobs, null for the others
 */
public record JobSpec(JobClass jobClass, String tenant, int weight, LiveSpec live) {

  public static final String DEFAULT_TENANT = "default";

  public JobSpec {
    Objects.requireNonNull(jobClass, "jobClass");
    Names.check("tenant", tenant);
    Hint.WEIGHT.check(weight);
    if (jobClass == JobClass.LIVE && live == null) {
      throw new IllegalArgumentException("a live job needs fps or frame_period_us");
    }
    if (jobClass != JobClass.LIVE && live != null) {
      throw new IllegalArgumentException("frame timing is for live jobs only");
    }
  }

  public static JobSpec live(String tenant, LiveSpec live) {
    return new JobSpec(JobClass.LIVE, tenant, (int) Hint.WEIGHT.defaultValue(), live);
  }

  public static JobSpec vod(String tenant) {
    return new JobSpec(JobClass.VOD, tenant, (int) Hint.WEIGHT.defaultValue(), null);
  }

  public static JobSpec batch(String tenant) {
    return new JobSpec(JobClass.BATCH, tenant, (int) Hint.WEIGHT.defaultValue(), null);
  }

  public JobSpec withWeight(int newWeight) {
    return new JobSpec(jobClass, tenant, newWeight, live);
  }
}
