package dev.baton.agent;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How many CPUs the scheduler manages: the host's online CPUs, which sched_ext schedules all of.
 * Not the JVM's {@code availableProcessors()}: that is the agent's own share (its affinity, its
 * cgroup's CPU quota), and an agent confined to a housekeeping CPU, as operators confine daemons
 * (taskset, systemd's CPUAffinity= or CPUQuota=), would have the policy plan live work for one CPU
 * of a 64-CPU host and report every job past the first CPU's worth infeasible.
 *
 * <p>Read when the agent starts, for what it decides before a scheduler is attached (jobs
 * restored or registered early). From the attach on, the BPF side's count takes over: it follows
 * CPUs going offline and coming online ({@code baton_live.nr_cpus}).
 */
final class HostCpus {

  static final Path ONLINE = Path.of("/sys/devices/system/cpu/online");

  private HostCpus() {}

  /** The online CPUs, or the JVM's count (with a line on {@code log}) if the file cannot be read. */
  static int online(Path file, int fallback, PrintStream log) {
    try {
      return count(Files.readString(file));
    } catch (IOException | IllegalArgumentException e) {
      log.printf(
          "baton: cannot count the online CPUs from %s (%s); planning for the %d this process may use%n",
          file, e.getMessage(), fallback);
      return fallback;
    }
  }

  /**
   * The number of CPUs in a kernel CPU list ({@code "0-3,8,10-11"}, as sysfs prints them).
   *
   * @throws IllegalArgumentException if {@code list} is not one, or names no CPU
   */
  static int count(String list) {
    String s = list.strip();
    int n = 0;
    for (String part : s.split(",", -1)) {
      int dash = part.indexOf('-');
      int lo = cpu(dash < 0 ? part : part.substring(0, dash), list);
      int hi = dash < 0 ? lo : cpu(part.substring(dash + 1), list);
      if (hi < lo) {
        throw new IllegalArgumentException("not a CPU list: '" + list.strip() + "'");
      }
      n += hi - lo + 1;
    }
    return n;
  }

  private static int cpu(String s, String list) {
    if (s.isEmpty() || s.length() > 7 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new IllegalArgumentException("not a CPU list: '" + list.strip() + "'");
    }
    return Integer.parseInt(s);
  }
}
