package dev.baton.policy;

/**
 * The timing of a live job.
 *
 * @param framePeriodUs time between frames (1e6 / fps)
 * @param frameCostUs CPU time one frame takes, summed over the job's threads; 0 when unknown (the
 *     transcode policy then measures it from frame progress, if the job reports any)
 */
public record LiveSpec(long framePeriodUs, long frameCostUs) {

  public static final Setting FRAME_PERIOD_US =
      new Setting("frame_period_us", 1_000, 10_000_000, 16_667, "time between frames");
  public static final Setting FRAME_COST_US =
      new Setting("frame_cost_us", 0, 600_000_000, 0, "CPU per frame over all threads; 0 unknown");
  public static final double MIN_FPS = 0.1;
  public static final double MAX_FPS = 1000;

  public LiveSpec {
    FRAME_PERIOD_US.check(framePeriodUs);
    FRAME_COST_US.check(frameCostUs);
  }

  /** A live job at {@code fps} frames a second (fractional rates such as 29.97 are fine). */
  public static LiveSpec ofFps(double fps, long frameCostUs) {
    return new LiveSpec(periodUs(fps), frameCostUs);
  }

  /**
   * The frame period of {@code fps}, after checking it is in {@value #MIN_FPS}..{@value #MAX_FPS}.
   */
  public static long periodUs(double fps) {
    if (!(fps >= MIN_FPS && fps <= MAX_FPS)) {
      throw new IllegalArgumentException(
          "fps must be in " + MIN_FPS + ".." + (int) MAX_FPS + ", got " + fps);
    }
    return Math.round(1e6 / fps);
  }

  public long framePeriodNs() {
    return framePeriodUs * 1000;
  }

  public long frameCostNs() {
    return frameCostUs * 1000;
  }
}
