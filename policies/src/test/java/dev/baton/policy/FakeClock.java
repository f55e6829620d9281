package dev.baton.policy;

import java.util.function.LongSupplier;

/** A clock that moves only when told. */
public final class FakeClock implements LongSupplier {

  private long nowNs;

  public FakeClock(long startNs) {
    nowNs = startNs;
  }

  @Override
  public long getAsLong() {
    return nowNs;
  }

  public void advanceMs(long ms) {
    nowNs += ms * 1_000_000;
  }

  public void advanceNs(long ns) {
    nowNs += ns;
  }
}
