package dev.baton.policy.transcode;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.policy.FakeClock;
import dev.baton.policy.Hint;
import dev.baton.policy.Job;
import dev.baton.policy.JobSpec;
import dev.baton.policy.PolicyEngine;
import dev.baton.policy.SchedClass;
import dev.baton.policy.Selector;
import dev.baton.policy.Tasks;
import dev.baton.policy.Tenant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/**
 * Tenants share VOD CPU by weight on a simulated host, even when one tenant's weight is spread over
 * threads that barely run.
 */
class TenantShareTest {

  /** Tenant of each simulated pid. */
  private final Map<Integer, String> tenantOf = new HashMap<>();

  private HostSim host(int gainPct, int windowMs) {
    FakeClock clock = new FakeClock(1_000_000_000L);
    TranscodeSettings settings =
        TranscodeSettings.of(Map.of("vod_gain_pct", (long) gainPct, "window_ms", (long) windowMs));
    TranscodePolicy policy =
        new TranscodePolicy(
            settings, List.of(new Tenant("a", 100), new Tenant("b", 100), new Tenant("c", 200)), 2);
    PolicyEngine engine = new PolicyEngine(policy, List.of(), clock);
    HostSim sim = new HostSim(2, engine, clock, 20, 100);
    Tasks tasks = new Tasks();
    // Tenant a: one job, one busy thread and seven that wake for 1 ms every 30 ms.
    spawn(engine, tasks, sim, "a1", "a", 100, 1, 7);
    // Tenant b: two jobs of two busy threads each.
    spawn(engine, tasks, sim, "b1", "b", 200, 2, 0);
    spawn(engine, tasks, sim, "b2", "b", 300, 2, 0);
    // Tenant c (twice the weight): one job of two busy threads.
    spawn(engine, tasks, sim, "c1", "c", 400, 2, 0);
    return sim;
  }

  private void spawn(
      PolicyEngine e,
      Tasks tasks,
      HostSim sim,
      String job,
      String tenant,
      int tgid,
      int busy,
      int light) {
    for (int i = 0; i < busy + light; i++) {
      int pid = tgid + i;
      e.taskAppeared(tasks.task(pid, tgid, "enc", 1000, "/farm/vod", ""));
      tenantOf.put(pid, tenant);
      if (i < busy) {
        sim.busy(pid);
      } else {
        sim.bursty(pid, 1, 30);
      }
    }
    e.registerJob(new Job(job, Selector.pids(tgid), JobSpec.vod(tenant)));
  }

  /** Each tenant's share of the VOD CPU over the next {@code ms}. */
  private Map<String, Double> measure(HostSim sim, long ms) {
    Map<String, Double> before = cpuByTenant(sim);
    sim.run(ms);
    Map<String, Double> after = cpuByTenant(sim);
    double total = 0;
    Map<String, Double> share = new HashMap<>();
    for (String t : after.keySet()) {
      double d = after.get(t) - before.getOrDefault(t, 0.0);
      share.put(t, d);
      total += d;
    }
    for (String t : share.keySet()) {
      share.put(t, share.get(t) / total);
    }
    return share;
  }

  private Map<String, Double> cpuByTenant(HostSim sim) {
    Map<String, Double> cpu = new HashMap<>();
    for (HostSim.SimTask t : sim.tasks) {
      cpu.merge(tenantOf.get(t.pid), t.totalCpuMs, Double::sum);
    }
    return cpu;
  }

  @Test
  void sharesConvergeToTenantWeights() {
    HostSim sim = host(50, 2_000);
    sim.run(30_000); // fifteen windows: settling takes about eight
    Map<String, Double> share = measure(sim, 10_000);
    assertThat(share.get("a")).isCloseTo(0.25, Offset.offset(0.02));
    assertThat(share.get("b")).isCloseTo(0.25, Offset.offset(0.02));
    assertThat(share.get("c")).isCloseTo(0.50, Offset.offset(0.02));
  }

  @Test
  void withoutCorrectionTheThinlySpreadTenantFallsShort() {
    HostSim sim = host(0, 2_000);
    sim.run(20_000);
    Map<String, Double> share = measure(sim, 10_000);
    assertThat(share.get("a")).as("the scenario needs the correction loop").isLessThan(0.20);
  }

  @Test
  void sharesStaySettledOnceConverged() {
    HostSim sim = host(50, 2_000);
    sim.run(30_000);
    for (int i = 0; i < 5; i++) {
      Map<String, Double> share = measure(sim, 4_000);
      assertThat(share.get("a")).isCloseTo(0.25, Offset.offset(0.03));
      assertThat(share.get("c")).isCloseTo(0.50, Offset.offset(0.03));
    }
  }

  @Test
  void vodTasksRunTheVodSlice() {
    Tasks tasks = new Tasks();
    FakeClock clock = new FakeClock(1_000_000_000L);
    PolicyEngine e =
        new PolicyEngine(new TranscodePolicy(TranscodeSettings.DEFAULTS, List.of(new Tenant("a", 100)), 2), List.of(), clock);
    e.taskAppeared(tasks.task(10, 10, "enc", 0, "/", ""));
    e.registerJob(new Job("v", Selector.pids(10), JobSpec.vod("a")));
    e.tick();
    assertThat(e.task(10).orElseThrow().hint())
        .isEqualTo(Hint.of(SchedClass.NORMAL, 100, 60_000));

    // vod_slice_us 0: the class default.
    PolicyEngine f =
        new PolicyEngine(
            new TranscodePolicy(TranscodeSettings.of(Map.of("vod_slice_us", 0L)), List.of(new Tenant("a", 100)), 2),
            List.of(),
            clock);
    f.taskAppeared(tasks.task(10, 10, "enc", 0, "/", ""));
    f.registerJob(new Job("v", Selector.pids(10), JobSpec.vod("a")));
    f.tick();
    assertThat(f.task(10).orElseThrow().hint().sliceUs()).isZero();
  }
}
