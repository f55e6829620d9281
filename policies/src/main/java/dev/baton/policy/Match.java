package dev.baton.policy;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which processes a rule (or an API job registered by rule or cgroup) selects. Every given
 * criterion must hold; a null criterion (uid {@link #ANY_UID}) matches anything. At least one is
 * required.
 *
 * @param cgroupPrefix a cgroup v2 path ({@code /farm/live}); matches that cgroup and those below it
 * @param comm the exact task name (at most 15 bytes, as the kernel keeps it)
 * @param cmdlineRegex a regular expression found anywhere in the command line, whose arguments are
 *     joined by single spaces; a search that reads more than {@link #CMDLINE_REGEX_STEPS}
 *     characters of one command line, or overflows the stack, counts as no match (see {@link
 *     #searchCmdline})
 * @param uid the real user id, or {@link #ANY_UID}
 */
public record Match(String cgroupPrefix, String comm, String cmdlineRegex, int uid) {

  public static final int ANY_UID = -1;
  public static final int COMM_MAX_BYTES = 15;

  /**
   * How many characters one cmdline_regex search may read: a few milliseconds natively. A plain
   * pattern reads each character of a command line a few times; a naive one can read it far more
   * often ({@code .*a.*b} over 5000 characters without a b: 6e10 reads, 100 s, measured), and
   * classification runs on the agent's event loop, which must keep beating the heartbeat.
   */
  public static final int CMDLINE_REGEX_STEPS = 5_000_000;

  public Match {
    if (cgroupPrefix != null) {
      checkCgroupPath(cgroupPrefix);
    }
    if (comm != null
        && (comm.isEmpty() || comm.getBytes(StandardCharsets.UTF_8).length > COMM_MAX_BYTES)) {
      throw new IllegalArgumentException(
          "comm must be 1.."
              + COMM_MAX_BYTES
              + " bytes (the kernel truncates longer names), got '"
              + comm
              + "'");
    }
    if (cmdlineRegex != null) {
      compile(cmdlineRegex);
    }
    if (uid < ANY_UID) {
      throw new IllegalArgumentException("uid must be 0.." + Integer.MAX_VALUE + ", got " + uid);
    }
    if (cgroupPrefix == null && comm == null && cmdlineRegex == null && uid == ANY_UID) {
      throw new IllegalArgumentException(
          "a match needs at least one of cgroup_prefix, comm, cmdline_regex, uid");
    }
  }

  /** Selects a cgroup and every cgroup below it. */
  public static Match cgroup(String path) {
    return new Match(path, null, null, ANY_UID);
  }

  /** How many criteria are given: more criteria make a more specific match. */
  public int criteria() {
    return (cgroupPrefix != null ? 1 : 0)
        + (comm != null ? 1 : 0)
        + (cmdlineRegex != null ? 1 : 0)
        + (uid != ANY_UID ? 1 : 0);
  }

  /** Components of the cgroup prefix ({@code /} is 0, {@code /farm/live} is 2); -1 if none. */
  public int cgroupDepth() {
    if (cgroupPrefix == null) {
      return -1;
    }
    return cgroupPrefix.equals("/") ? 0 : (int) cgroupPrefix.chars().filter(c -> c == '/').count();
  }

  /** True when the cgroup is the only criterion: every task in those cgroups is selected. */
  public boolean cgroupOnly() {
    return cgroupPrefix != null && criteria() == 1;
  }

  /** Whether {@code path} is {@link #cgroupPrefix} or lies below it (whole components only). */
  public boolean cgroupMatches(String path) {
    if (path == null) {
      return false;
    }
    if (cgroupPrefix.equals("/")) {
      return path.startsWith("/");
    }
    return path.startsWith(cgroupPrefix)
        && (path.length() == cgroupPrefix.length() || path.charAt(cgroupPrefix.length()) == '/');
  }

  /** What a bounded search found. */
  enum Search {
    FOUND,
    NOT_FOUND,
    /**
     * Read {@link #CMDLINE_REGEX_STEPS} characters, or overflowed the stack, without an answer;
     * counts as no match.
     */
    GAVE_UP
  }

  /**
   * {@code regex.matcher(cmdline).find()}, but it gives up once the search has read {@link
   * #CMDLINE_REGEX_STEPS} characters, or when it overflows the thread's stack: a process cannot
   * stall the agent through its own command line, nor kill its event loop, whatever the pattern.
   * java.util.regex recurses once per repetition of a group, so {@code (-\w+ \w+ )*} over a few
   * thousand characters of arguments overflows a 1 MB stack. Catching the overflow is safe here:
   * the search holds no lock and shares no state; the matcher is dropped with its stack.
   */
  static Search searchCmdline(Pattern regex, String cmdline) {
    try {
      return regex.matcher(new Metered(cmdline)).find() ? Search.FOUND : Search.NOT_FOUND;
    } catch (StepsExhausted | StackOverflowError e) {
      return Search.GAVE_UP;
    }
  }

  /** The characters of a string, counting reads; past the budget every read throws. */
  private static final class Metered implements CharSequence {
    private final String s;
    private int left = CMDLINE_REGEX_STEPS;

    Metered(String s) {
      this.s = s;
    }

    @Override
    public char charAt(int index) {
      if (--left < 0) {
        throw StepsExhausted.INSTANCE;
      }
      return s.charAt(index);
    }

    @Override
    public int length() {
      return s.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return s.subSequence(start, end);
    }

    @Override
    public String toString() {
      return s;
    }
  }

  /** Control flow only: shared, without a stack trace. */
  private static final class StepsExhausted extends RuntimeException {
    static final StepsExhausted INSTANCE = new StepsExhausted();

    private StepsExhausted() {
      super("cmdline_regex search budget exhausted", null, false, false);
    }
  }

  static Pattern compile(String regex) {
    try {
      return Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(
          "cmdline_regex is not a valid regular expression: "
              + e.getDescription()
              + " near index "
              + e.getIndex());
    }
  }

  private static void checkCgroupPath(String path) {
    boolean ok = path.startsWith("/") && path.length() <= 4096;
    if (ok && path.length() > 1) {
      for (String part : path.substring(1).split("/", -1)) {
        if (part.isEmpty() || part.equals(".") || part.equals("..")) {
          ok = false;
          break;
        }
      }
    }
    if (!ok) {
      throw new IllegalArgumentException(
          "cgroup_prefix must be an absolute cgroup path like /farm/live (no trailing /, no . or"
              + " .. parts), got '"
              + path
              + "'");
    }
  }
}
