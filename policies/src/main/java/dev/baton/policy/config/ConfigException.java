package dev.baton.policy.config;

/**
 * A config file that cannot be used, and where: {@code source:line:column: problem}. Line and
 * column are 1-based; 0 when the problem has no place (the file could not be read at all).
 */
public final class ConfigException extends Exception {

  private final String source;
  private final int line;
  private final int column;
  private final String problem;

  public ConfigException(String source, int line, int column, String problem) {
    super(source + (line > 0 ? ":" + line + ":" + column : "") + ": " + problem);
    this.source = source;
    this.line = line;
    this.column = column;
    this.problem = problem;
  }

  public String source() {
    return source;
  }

  public int line() {
    return line;
  }

  public int column() {
    return column;
  }

  /** The message without the place. */
  public String problem() {
    return problem;
  }
}
