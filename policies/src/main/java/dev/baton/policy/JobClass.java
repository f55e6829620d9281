package dev.baton.policy;

import java.util.Locale;

/** What kind of work a job is; a policy turns it into a {@link SchedClass}. */
public enum JobClass {
  /** Frames are due on time (a live encoder): deadline-driven. */
  LIVE,
  /** Throughput work with tenant fair share (video on demand). */
  VOD,
  /** Background work: runs when the CPU is otherwise idle, never starved. */
  BATCH;

  /** The name used in the config file and the API: {@code live}, {@code vod}, {@code batch}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The class named {@code name} in the config file or the API. */
  public static JobClass fromConfigName(String name) {
    for (JobClass c : values()) {
      if (c.configName().equals(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException("class must be one of live, vod, batch, got '" + name + "'");
  }
}
