package dev.baton.policy;

import java.util.regex.Pattern;

/** The one rule for names that travel through the API, the config file and metrics labels. */
public final class Names {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}");

  private Names() {}

  /**
   * Returns {@code name} if it is 1..64 characters of letters, digits, {@code _ . : -}, starting
   * with a letter or digit; else throws naming {@code what}.
   */
  public static String check(String what, String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          what
              + " must be 1..64 of [A-Za-z0-9_.:-] starting with a letter or digit, got "
              + (name == null ? "nothing" : "'" + name + "'"));
    }
    return name;
  }
}
