package dev.baton.policy;

/**
 * A tenant and its weight: tenants with runnable VOD work share the VOD CPU in proportion to their
 * weights, however many jobs each has.
 */
public record Tenant(String name, int weight) {
  public Tenant {
    Names.check("tenant", name);
    Hint.WEIGHT.check(weight);
  }
}
