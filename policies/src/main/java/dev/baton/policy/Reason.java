package dev.baton.policy;

import java.util.Locale;

/**
 * One line for people, formatted when someone reads it. A policy explains every job on every tick
 * and almost nobody reads those lines: formatting them eagerly ({@code String.format} of three
 * numbers per live job, ten times a second) was a third of what the agent's ticks cost under
 * emulation.
 *
 * <p>Immutable apart from the cached text; reading it from any thread is safe (a race formats the
 * same text twice).
 */
public final class Reason {
  private final String format;
  private final double a;
  private final double b;
  private final double c;
  private String text;

  private Reason(String format, double a, double b, double c, String text) {
    this.format = format;
    this.a = a;
    this.b = b;
    this.c = c;
    this.text = text;
  }

  /** A fixed text. */
  public static Reason of(String text) {
    return new Reason(null, 0, 0, 0, text);
  }

  /** A {@link String#format} pattern with up to three floating-point arguments. */
  public static Reason of(String format, double a, double b, double c) {
    return new Reason(format, a, b, c, null);
  }

  public String text() {
    String t = text;
    if (t == null) {
      t = String.format(Locale.ROOT, format, a, b, c);
      text = t;
    }
    return t;
  }

  @Override
  public String toString() {
    return text();
  }
}
