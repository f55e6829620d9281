package dev.baton.policy.transcode;

import dev.baton.policy.Setting;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The tunables of the transcode policy (the {@code transcode:} section of the config file). Each is
 * declared once below with its name, unit, default and range.
 */
public record TranscodeSettings(
    int windowMs,
    int liveMarginPct,
    int liveLagPeriods,
    int liveTolerancePct,
    int liveLagLevels,
    int liveLagStepPct,
    int liveSliceUs,
    int liveLagSliceUs,
    int liveMinSliceUs,
    int liveCapacityPct,
    int vodGainPct,
    int vodSliceUs) {

  public static final Setting WINDOW_MS =
      new Setting("window_ms", 100, 600_000, 3_000, "sliding window of the VOD tenant shares");
  public static final Setting LIVE_MARGIN_PCT =
      new Setting("live_margin_pct", 0, 50, 10, "live deadline = period minus this share of it");
  public static final Setting LIVE_LAG_PERIODS =
      new Setting("live_lag_periods", 1, 10_000, 30, "frame periods over which progress is judged");
  public static final Setting LIVE_TOLERANCE_PCT =
      new Setting("live_tolerance_pct", 0, 50, 5, "shortfall of CPU or frames still on time");
  public static final Setting LIVE_LAG_LEVELS =
      new Setting("live_lag_levels", 0, 8, 3, "steps by which a lagging job's hints tighten");
  public static final Setting LIVE_LAG_STEP_PCT =
      new Setting("live_lag_step_pct", 1, 25, 10, "deadline pulled earlier per step, % of period");
  public static final Setting LIVE_SLICE_US =
      new Setting("live_slice_us", 0, 1_000_000, 0, "slice of on-time live tasks; 0 class default");
  public static final Setting LIVE_LAG_SLICE_US =
      new Setting(
          "live_lag_slice_us", 0, 1_000_000, 0, "slice at lag step 1, halved per step; 0 = keep");
  public static final Setting LIVE_MIN_SLICE_US =
      new Setting("live_min_slice_us", 50, 1_000_000, 250, "floor of the halving slice");
  public static final Setting LIVE_CAPACITY_PCT =
      new Setting("live_capacity_pct", 10, 100, 90, "share of the host's CPUs live jobs may claim");
  public static final Setting VOD_GAIN_PCT =
      new Setting("vod_gain_pct", 0, 100, 50, "how hard tenant shares are corrected; 0 = off");
  public static final Setting VOD_SLICE_US =
      new Setting("vod_slice_us", 0, 1_000_000, 60_000, "slice of VOD tasks; 0 = class default");

  /** Every tunable, in declaration (and record component) order. */
  public static final List<Setting> ALL =
      List.of(
          WINDOW_MS,
          LIVE_MARGIN_PCT,
          LIVE_LAG_PERIODS,
          LIVE_TOLERANCE_PCT,
          LIVE_LAG_LEVELS,
          LIVE_LAG_STEP_PCT,
          LIVE_SLICE_US,
          LIVE_LAG_SLICE_US,
          LIVE_MIN_SLICE_US,
          LIVE_CAPACITY_PCT,
          VOD_GAIN_PCT,
          VOD_SLICE_US);

  public static final TranscodeSettings DEFAULTS = of(Map.of());

  public TranscodeSettings {
    WINDOW_MS.check(windowMs);
    LIVE_MARGIN_PCT.check(liveMarginPct);
    LIVE_LAG_PERIODS.check(liveLagPeriods);
    LIVE_TOLERANCE_PCT.check(liveTolerancePct);
    LIVE_LAG_LEVELS.check(liveLagLevels);
    LIVE_LAG_STEP_PCT.check(liveLagStepPct);
    LIVE_SLICE_US.check(liveSliceUs);
    LIVE_LAG_SLICE_US.check(liveLagSliceUs);
    LIVE_MIN_SLICE_US.check(liveMinSliceUs);
    LIVE_CAPACITY_PCT.check(liveCapacityPct);
    VOD_GAIN_PCT.check(vodGainPct);
    VOD_SLICE_US.check(vodSliceUs);
    if (liveLagSliceUs > 0 && liveMinSliceUs > liveLagSliceUs) {
      throw new IllegalArgumentException(
          "live_min_slice_us ("
              + liveMinSliceUs
              + ") must not exceed live_lag_slice_us ("
              + liveLagSliceUs
              + ")");
    }
  }

  /** Settings from name/value pairs; names not given take their defaults. */
  public static TranscodeSettings of(Map<String, Long> values) {
    Map<String, Long> v = new HashMap<>(values);
    long[] x = new long[ALL.size()];
    for (int i = 0; i < x.length; i++) {
      Setting s = ALL.get(i);
      Long given = v.remove(s.name());
      x[i] = s.check(given == null ? s.defaultValue() : given);
    }
    if (!v.isEmpty()) {
      throw new IllegalArgumentException("unknown transcode setting(s): " + v.keySet());
    }
    return new TranscodeSettings(
        (int) x[0],
        (int) x[1],
        (int) x[2],
        (int) x[3],
        (int) x[4],
        (int) x[5],
        (int) x[6],
        (int) x[7],
        (int) x[8],
        (int) x[9],
        (int) x[10],
        (int) x[11]);
  }

  /** The tunable named {@code name}, or null. */
  public static Setting byName(String name) {
    for (Setting s : ALL) {
      if (s.name().equals(name)) {
        return s;
      }
    }
    return null;
  }
}
