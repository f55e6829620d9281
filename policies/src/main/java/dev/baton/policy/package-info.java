/**
 * Scheduling policies: pure functions from what tasks do to hints. Knows nothing of FFM or the
 * agent, so every policy is testable with synthetic event streams and a fake clock.
 */
package dev.baton.policy;
