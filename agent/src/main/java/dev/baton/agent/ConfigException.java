package dev.baton.agent;

/**
 * A config file the agent refuses: the message is one line, {@code FILE:LINE:COLUMN: problem},
 * and nothing was applied.
 */
final class ConfigException extends RuntimeException {
  ConfigException(String message) {
    super(message);
  }
}
