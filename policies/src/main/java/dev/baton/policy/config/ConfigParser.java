package dev.baton.policy.config;

import dev.baton.policy.FairPolicy;
import dev.baton.policy.Hint;
import dev.baton.policy.JobClass;
import dev.baton.policy.JobSpec;
import dev.baton.policy.LiveSpec;
import dev.baton.policy.Match;
import dev.baton.policy.Names;
import dev.baton.policy.Rule;
import dev.baton.policy.Setting;
import dev.baton.policy.Tenant;
import dev.baton.policy.transcode.TranscodeSettings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.ReaderException;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Reads the policy config file. The format, every key optional unless marked:
 *
 * <pre>{@code
 * policy: transcode              # fair (default: no hints) or transcode
 * tenants:                       # VOD CPU is shared between tenants by weight
 *   acme: {weight: 200}          # weight 1..10000, default 100
 *   globex: {}
 * rules:                         # which processes are which jobs (API registrations win)
 *   - name: acme-live            # optional, unique; default rule<N>
 *     match:                     # required, at least one criterion; all must hold
 *       cgroup_prefix: /farm/live  # this cgroup and those below it
 *       comm: ffmpeg             # exact task name, at most 15 bytes
 *       cmdline_regex: "-preset (slow|veryslow)"  # found in the arguments joined by spaces
 *       uid: 1001
 *     job:                       # required
 *       class: live              # required: live, vod or batch
 *       tenant: acme             # a declared tenant; default "default"
 *       weight: 100              # 1..10000, the job's share in its tenant or class
 *       fps: 59.94               # live only, required there: fps or frame_period_us
 *       frame_period_us: 16683
 *       frame_cost_us: 9000      # live only: CPU per frame over all threads, if known
 * transcode:                     # tunables of the transcode policy, see TranscodeSettings
 *   window_ms: 5000
 * }</pre>
 *
 * <p>Strict: an unknown key, a duplicate key, a value of the wrong type or out of range, is a
 * {@link ConfigException} with the line and column of the offending node. Integers are plain
 * decimal. The parser composes the YAML into nodes (never into objects, so no tags are
 * instantiated) with limits on size, nesting and aliases, and throws nothing but {@link
 * ConfigException} for any input.
 */
public final class ConfigParser {

  /** Bigger than any sensible config; bounds the work a hostile file can cause. */
  public static final int MAX_CODE_POINTS = 1 << 20;

  private static final Pattern DECIMAL_INT = Pattern.compile("[-+]?[0-9]{1,18}");
  private static final Pattern DECIMAL_NUMBER =
      Pattern.compile("[-+]?([0-9]{1,18}(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]{1,3})?");

  private static final Setting UID = new Setting("uid", 0, Integer.MAX_VALUE, 0, "real user id");

  private final String source;

  private ConfigParser(String source) {
    this.source = source;
  }

  /** Reads and parses a config file (UTF-8). */
  public static PolicyConfig parse(Path file) throws ConfigException {
    String text;
    try {
      byte[] bytes = Files.readAllBytes(file);
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      throw new ConfigException(file.toString(), 0, 0, "not UTF-8 text");
    } catch (IOException | RuntimeException e) {
      throw new ConfigException(file.toString(), 0, 0, "cannot read: " + e);
    }
    return parse(text, file.toString());
  }

  /**
   * Parses config text.
   *
   * @param source names the text in error messages (a file name)
   */
  public static PolicyConfig parse(String text, String source) throws ConfigException {
    return new ConfigParser(source).document(compose(text, source));
  }

  /**
   * Parses a policy config that is part of another YAML document (the agent config's {@code
   * policy:} section): errors name {@code source} and the node's own line and column.
   */
  public static PolicyConfig parse(Node root, String source) throws ConfigException {
    return new ConfigParser(source).document(root);
  }

  // ---- YAML to nodes ----

  private static Node compose(String text, String source) throws ConfigException {
    LoaderOptions options = new LoaderOptions();
    options.setCodePointLimit(MAX_CODE_POINTS);
    options.setNestingDepthLimit(20);
    options.setMaxAliasesForCollections(20);
    options.setAllowRecursiveKeys(false);
    options.setProcessComments(false);
    if (text.codePointCount(0, text.length()) > MAX_CODE_POINTS) {
      throw new ConfigException(source, 1, 1, "longer than " + MAX_CODE_POINTS + " characters");
    }
    try {
      Node root =
          new Composer(new ParserImpl(new StreamReader(text), options), new Resolver(), options)
              .getSingleNode();
      if (root == null) {
        throw new ConfigException(source, 1, 1, "the config is empty");
      }
      return root;
    } catch (MarkedYAMLException e) {
      Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String problem = e.getProblem() != null ? e.getProblem() : e.getContext();
      String what = "YAML: " + (problem == null ? "malformed" : problem.strip());
      if (m == null) {
        throw new ConfigException(source, 1, 1, what);
      }
      throw new ConfigException(source, m.getLine() + 1, m.getColumn() + 1, what);
    } catch (ReaderException e) {
      int[] lc = lineColumn(text, e.getPosition());
      throw new ConfigException(
          source,
          lc[0],
          lc[1],
          "YAML: special character U+" + Integer.toHexString(e.getCodePoint()) + " is not allowed");
    } catch (YAMLException | IllegalArgumentException | IndexOutOfBoundsException e) {
      // The library's own limits (size, aliases), or a slip of it: still a clean rejection.
      throw new ConfigException(source, 1, 1, "YAML: " + e.getMessage());
    }
  }

  /** 1-based line and column of a code point index. */
  private static int[] lineColumn(String text, int codePointIndex) {
    int line = 1;
    int col = 1;
    int i = 0;
    for (int n = 0; n < codePointIndex && i < text.length(); n++) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (cp == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    return new int[] {line, col};
  }

  // ---- nodes to the model ----

  private PolicyConfig document(Node root) throws ConfigException {
    Map<String, Node> top = fields(root, "the config", "policy", "tenants", "rules", "transcode");
    String policy = FairPolicy.NAME;
    if (top.containsKey("policy")) {
      Node n = top.get("policy");
      policy = string(n, "policy");
      if (!PolicyConfig.POLICIES.contains(policy)) {
        throw error(n, "policy must be one of " + PolicyConfig.POLICIES + ", got '" + policy + "'");
      }
    }
    Map<String, Tenant> tenants =
        top.containsKey("tenants") ? tenants(top.get("tenants")) : Map.of();
    List<Rule> rules = top.containsKey("rules") ? rules(top.get("rules"), tenants) : List.of();
    TranscodeSettings transcode =
        top.containsKey("transcode") ? transcode(top.get("transcode")) : TranscodeSettings.DEFAULTS;
    return new PolicyConfig(policy, tenants, rules, transcode);
  }

  private Map<String, Tenant> tenants(Node node) throws ConfigException {
    MappingNode map = mapping(node, "tenants");
    Map<String, Tenant> tenants = new LinkedHashMap<>();
    Set<String> seen = new HashSet<>();
    for (NodeTuple t : map.getValue()) {
      String name = key(t.getKeyNode(), seen);
      valid(t.getKeyNode(), () -> Names.check("tenant", name));
      Map<String, Node> f = fields(t.getValueNode(), "tenant " + name, "weight");
      int weight =
          f.containsKey("weight")
              ? (int) integer(f.get("weight"), Hint.WEIGHT)
              : (int) Hint.WEIGHT.defaultValue();
      tenants.put(name, new Tenant(name, weight));
    }
    return tenants;
  }

  private List<Rule> rules(Node node, Map<String, Tenant> tenants) throws ConfigException {
    if (!(node instanceof SequenceNode seq)) {
      throw error(node, "rules must be a list, got " + kind(node));
    }
    List<Rule> rules = new ArrayList<>();
    Map<String, Node> names = new HashMap<>();
    for (Node item : seq.getValue()) {
      Map<String, Node> f = fields(item, "a rule", "name", "match", "job");
      String name = "rule" + (rules.size() + 1);
      if (f.containsKey("name")) {
        Node n = f.get("name");
        name = string(n, "name");
        String checked = name;
        valid(n, () -> Names.check("rule name", checked));
        if (names.containsKey(name)) {
          throw error(n, "rule name '" + name + "' is already used at " + where(names.get(name)));
        }
      }
      names.putIfAbsent(name, item);
      Match match = match(required(f, "match", item, "a rule"));
      JobSpec spec = job(required(f, "job", item, "a rule"), tenants);
      String ruleName = name;
      rules.add(valid(item, () -> new Rule(ruleName, match, spec)));
    }
    return rules;
  }

  private Match match(Node node) throws ConfigException {
    Map<String, Node> f = fields(node, "match", "cgroup_prefix", "comm", "cmdline_regex", "uid");
    String cgroup =
        f.containsKey("cgroup_prefix") ? string(f.get("cgroup_prefix"), "cgroup_prefix") : null;
    String comm = f.containsKey("comm") ? string(f.get("comm"), "comm") : null;
    String regex =
        f.containsKey("cmdline_regex") ? string(f.get("cmdline_regex"), "cmdline_regex") : null;
    int uid = f.containsKey("uid") ? (int) integer(f.get("uid"), UID) : Match.ANY_UID;
    // Check each criterion alone first, so the error points at the one that is wrong.
    if (cgroup != null) {
      valid(f.get("cgroup_prefix"), () -> Match.cgroup(cgroup));
    }
    if (comm != null) {
      valid(f.get("comm"), () -> new Match(null, comm, null, Match.ANY_UID));
    }
    if (regex != null) {
      valid(f.get("cmdline_regex"), () -> new Match(null, null, regex, Match.ANY_UID));
    }
    return valid(node, () -> new Match(cgroup, comm, regex, uid));
  }

  private JobSpec job(Node node, Map<String, Tenant> tenants) throws ConfigException {
    Map<String, Node> f =
        fields(node, "job", "class", "tenant", "weight", "fps", "frame_period_us", "frame_cost_us");
    Node classNode = required(f, "class", node, "job");
    String className = string(classNode, "class");
    JobClass jobClass = valid(classNode, () -> JobClass.fromConfigName(className));
    String tenant = JobSpec.DEFAULT_TENANT;
    if (f.containsKey("tenant")) {
      Node n = f.get("tenant");
      tenant = string(n, "tenant");
      if (!tenants.containsKey(tenant)) {
        throw error(
            n,
            "tenant '"
                + tenant
                + "' is not declared under tenants (declared: "
                + tenants.keySet()
                + ")");
      }
    }
    int weight =
        f.containsKey("weight")
            ? (int) integer(f.get("weight"), Hint.WEIGHT)
            : (int) Hint.WEIGHT.defaultValue();
    LiveSpec live = null;
    boolean timed =
        f.containsKey("fps") || f.containsKey("frame_period_us") || f.containsKey("frame_cost_us");
    if (jobClass != JobClass.LIVE) {
      if (timed) {
        Node n =
            f.containsKey("fps")
                ? f.get("fps")
                : f.containsKey("frame_period_us")
                    ? f.get("frame_period_us")
                    : f.get("frame_cost_us");
        throw error(n, "fps, frame_period_us and frame_cost_us are for class live only");
      }
    } else {
      if (f.containsKey("fps") == f.containsKey("frame_period_us")) {
        throw error(
            f.containsKey("fps") ? f.get("frame_period_us") : classNode,
            "a live job needs exactly one of fps and frame_period_us");
      }
      long period;
      if (f.containsKey("fps")) {
        double fps = number(f.get("fps"), "fps");
        period = valid(f.get("fps"), () -> LiveSpec.periodUs(fps));
      } else {
        period = integer(f.get("frame_period_us"), LiveSpec.FRAME_PERIOD_US);
      }
      long cost =
          f.containsKey("frame_cost_us")
              ? integer(f.get("frame_cost_us"), LiveSpec.FRAME_COST_US)
              : 0;
      live = valid(node, () -> new LiveSpec(period, cost));
    }
    String t = tenant;
    LiveSpec l = live;
    return valid(node, () -> new JobSpec(jobClass, t, weight, l));
  }

  private TranscodeSettings transcode(Node node) throws ConfigException {
    MappingNode map = mapping(node, "transcode");
    Map<String, Long> values = new HashMap<>();
    Set<String> seen = new HashSet<>();
    for (NodeTuple t : map.getValue()) {
      String name = key(t.getKeyNode(), seen);
      Setting s = TranscodeSettings.byName(name);
      if (s == null) {
        throw error(
            t.getKeyNode(),
            "unknown key '" + name + "' in transcode (known: " + settingNames() + ")");
      }
      values.put(name, integer(t.getValueNode(), s));
    }
    return valid(node, () -> TranscodeSettings.of(values));
  }

  private static String settingNames() {
    List<String> names = new ArrayList<>();
    for (Setting s : TranscodeSettings.ALL) {
      names.add(s.name());
    }
    return String.join(", ", names);
  }

  // ---- typed access with places ----

  /** A mapping's values by key, after rejecting unknown and duplicate keys. */
  private Map<String, Node> fields(Node node, String what, String... known) throws ConfigException {
    MappingNode map = mapping(node, what);
    Map<String, Node> out = new LinkedHashMap<>();
    Set<String> seen = new HashSet<>();
    for (NodeTuple t : map.getValue()) {
      String k = key(t.getKeyNode(), seen);
      if (!List.of(known).contains(k)) {
        throw error(
            t.getKeyNode(),
            "unknown key '" + k + "' in " + what + " (known: " + String.join(", ", known) + ")");
      }
      out.put(k, t.getValueNode());
    }
    return out;
  }

  private MappingNode mapping(Node node, String what) throws ConfigException {
    if (!(node instanceof MappingNode map)) {
      throw error(node, what + " must be a mapping, got " + kind(node));
    }
    return map;
  }

  private String key(Node node, Set<String> seen) throws ConfigException {
    if (!(node instanceof ScalarNode s) || s.getTag().equals(Tag.NULL)) {
      throw error(node, "keys must be plain names, got " + kind(node));
    }
    if (!seen.add(s.getValue())) {
      throw error(node, "duplicate key '" + s.getValue() + "'");
    }
    return s.getValue();
  }

  private Node required(Map<String, Node> f, String key, Node parent, String what)
      throws ConfigException {
    Node n = f.get(key);
    if (n == null) {
      throw error(parent, what + " needs '" + key + "'");
    }
    return n;
  }

  private String string(Node node, String key) throws ConfigException {
    if (!(node instanceof ScalarNode s) || s.getTag().equals(Tag.NULL)) {
      throw error(node, key + " must be a string, got " + kind(node));
    }
    return s.getValue();
  }

  private long integer(Node node, Setting setting) throws ConfigException {
    if (!(node instanceof ScalarNode s)
        || !s.getTag().equals(Tag.INT)
        || !DECIMAL_INT.matcher(s.getValue()).matches()) {
      throw error(node, setting.name() + " must be a decimal integer, got " + kind(node));
    }
    long v = Long.parseLong(s.getValue());
    return valid(node, () -> setting.check(v));
  }

  private double number(Node node, String key) throws ConfigException {
    if (!(node instanceof ScalarNode s)
        || !(s.getTag().equals(Tag.INT) || s.getTag().equals(Tag.FLOAT))
        || !DECIMAL_NUMBER.matcher(s.getValue()).matches()) {
      throw error(node, key + " must be a decimal number, got " + kind(node));
    }
    return Double.parseDouble(s.getValue());
  }

  private interface Check<T> {
    T get();
  }

  /** Runs a model validation, placing its complaint at {@code node}. */
  private <T> T valid(Node node, Check<T> check) throws ConfigException {
    try {
      return check.get();
    } catch (IllegalArgumentException e) {
      throw error(node, e.getMessage());
    }
  }

  private static String kind(Node node) {
    if (node instanceof ScalarNode s) {
      if (s.getTag().equals(Tag.NULL)) {
        return "nothing";
      }
      String v = s.getValue();
      return "'" + (v.length() > 40 ? v.substring(0, 40) + "..." : v) + "'";
    }
    return node instanceof MappingNode ? "a mapping" : "a list";
  }

  private ConfigException error(Node node, String problem) {
    Mark m = node.getStartMark();
    return new ConfigException(source, m.getLine() + 1, m.getColumn() + 1, problem);
  }

  private static String where(Node node) {
    Mark m = node.getStartMark();
    return "line " + (m.getLine() + 1);
  }
}
