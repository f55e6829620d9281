package dev.baton.policy;

/**
 * One tunable or bounded value: its one name (with its unit), its one default and its one
 * validation. The config parser and the Java API both validate through {@link #check}, so a value
 * is judged the same way whichever way it arrives.
 */
public record Setting(String name, long min, long max, long defaultValue, String doc) {

  public Setting {
    if (min > max || defaultValue < min || defaultValue > max) {
      throw new IllegalArgumentException(name + ": inconsistent bounds");
    }
  }

  /** Returns {@code value} if it is in range, else throws with a message naming the setting. */
  public long check(long value) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + " must be in " + min + ".." + max + ", got " + value);
    }
    return value;
  }

  /** {@link #check} for settings whose range fits an int. */
  public int checkInt(long value) {
    return Math.toIntExact(check(value));
  }
}
