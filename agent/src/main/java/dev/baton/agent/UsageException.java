package dev.baton.agent;

/** The command line was wrong: the message says how, and nothing was done. */
final class UsageException extends RuntimeException {
  UsageException(String message) {
    super(message);
  }
}
