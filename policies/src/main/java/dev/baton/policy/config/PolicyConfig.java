package dev.baton.policy.config;

import dev.baton.policy.FairPolicy;
import dev.baton.policy.Policy;
import dev.baton.policy.PolicyEngine;
import dev.baton.policy.Rule;
import dev.baton.policy.Tenant;
import dev.baton.policy.transcode.TranscodePolicy;
import dev.baton.policy.transcode.TranscodeSettings;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * A parsed config file (see {@link ConfigParser} for the format).
 *
 * @param policy {@code fair} or {@code transcode}
 * @param tenants declared tenants by name, in file order
 * @param rules classification rules, in file order
 * @param transcode the transcode policy's tunables
 */
public record PolicyConfig(
    String policy, Map<String, Tenant> tenants, List<Rule> rules, TranscodeSettings transcode) {

  /** Names {@link #newPolicy} knows. */
  public static final List<String> POLICIES = List.of(FairPolicy.NAME, TranscodePolicy.NAME);

  /** No file: the fair policy, no tenants, no rules. */
  public static final PolicyConfig DEFAULT =
      new PolicyConfig(FairPolicy.NAME, Map.of(), List.of(), TranscodeSettings.DEFAULTS);

  public PolicyConfig {
    if (!POLICIES.contains(policy)) {
      throw new IllegalArgumentException("policy must be one of " + POLICIES + ", got " + policy);
    }
    tenants = Collections.unmodifiableMap(new LinkedHashMap<>(tenants));
    rules = List.copyOf(rules);
    Objects.requireNonNull(transcode, "transcode");
  }

  /** A new instance of the configured policy for a host with {@code nrCpus} CPUs. */
  public Policy newPolicy(int nrCpus) {
    return switch (policy) {
      case TranscodePolicy.NAME -> new TranscodePolicy(transcode, tenants.values(), nrCpus);
      default -> new FairPolicy();
    };
  }

  /** An engine running the configured policy and rules. */
  public PolicyEngine newEngine(int nrCpus, LongSupplier clockNs) {
    return new PolicyEngine(newPolicy(nrCpus), rules, clockNs);
  }
}
