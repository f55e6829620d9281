package dev.baton.agent;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import dev.baton.policy.config.ConfigParser;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * The agent's config file ({@code /etc/baton/baton.yaml}): one mapping whose keys are the
 * {@link Tunable} names and the settings below. Read as a YAML node tree, not bound to objects,
 * so that every refusal names the line and column of the offending node: malformed YAML, an
 * unknown or repeated key, a value of the wrong type or out of range. The first problem is
 * reported and nothing is applied.
 *
 * <p>The policy config (policies/README.md) comes either from its own file ({@code
 * policy_config: FILE}) or inline as the {@code policy:} section, which the policies module's
 * parser reads from its node, so its errors too name this file's line and column. Not both.
 */
final class AgentConfig {

  /** Settings that are not tunables, with the YAML type each takes. */
  private static final java.util.Map<String, Tag> SETTINGS =
      java.util.Map.of(
          "listen", Tag.STR,
          "token_file", Tag.STR,
          "tasks_out", Tag.STR,
          "jobs_file", Tag.STR,
          "pin", Tag.BOOL,
          "pin_dir", Tag.STR,
          "policy_config", Tag.STR,
          "policy", Tag.MAP);

  /** Files larger than this are refused before parsing (a config file is a few hundred bytes). */
  static final int MAX_BYTES = 1 << 20;

  private AgentConfig() {}

  /** Reads file into b; throws {@link ConfigException} naming the file, line and column. */
  static void load(Path file, RunOptions.Builder b) {
    String text;
    try {
      if (Files.size(file) > MAX_BYTES) {
        throw new ConfigException(file + ": larger than " + MAX_BYTES + " bytes: not a config file");
      }
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new ConfigException(file + ": no such file");
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new ConfigException(file + ": not UTF-8 text");
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read: " + e.getMessage());
    }
    parse(text, file.toString(), b);
    b.configFile = file;
  }

  /** Parses text (named {@code source} in messages) into b. */
  static void parse(String text, String source, RunOptions.Builder b) {
    Node root = compose(new StringReader(text), source);
    if (root == null) {
      return; // empty file: all defaults
    }
    if (!(root instanceof MappingNode map)) {
      throw error(source, root, "the config must be a mapping of settings (key: value)");
    }
    Set<String> seen = new HashSet<>();
    Node policyKey = null;
    for (NodeTuple t : map.getValue()) {
      if (!(t.getKeyNode() instanceof ScalarNode keyNode) || !keyNode.getTag().equals(Tag.STR)) {
        throw error(source, t.getKeyNode(), "setting names are plain words such as slice_us");
      }
      String key = keyNode.getValue();
      if (!seen.add(key)) {
        throw error(source, keyNode, shown(key) + " is set twice");
      }
      apply(source, key, keyNode, t.getValueNode(), b);
      if (key.equals("policy") || key.equals("policy_config")) {
        if (policyKey != null) {
          throw error(source, keyNode, "policy and policy_config are two ways to give the policy config: keep one");
        }
        policyKey = keyNode;
      }
    }
  }

  private static void apply(String source, String key, Node keyNode, Node value, RunOptions.Builder b) {
    Tunable tunable = Tunable.byKey(key);
    if (tunable != null) {
      String text = scalar(source, key, value, Tag.INT, "a whole number");
      long v;
      try {
        v = Long.parseLong(text.replace("_", ""));
      } catch (NumberFormatException e) {
        throw error(source, value, key + " is out of range: " + shown(text));
      }
      try {
        b.tunables.put(tunable, tunable.check(v, key));
      } catch (IllegalArgumentException e) {
        throw error(source, value, e.getMessage());
      }
      return;
    }
    Tag type = SETTINGS.get(key);
    if (type == null) {
      throw error(source, keyNode, "unknown setting " + shown(key) + " (known: " + known() + ")");
    }
    if (type.equals(Tag.MAP)) {
      if (!(value instanceof MappingNode)) {
        throw error(source, value, key + " must be a mapping");
      }
      try {
        b.policy = ConfigParser.parse(value, source);
      } catch (dev.baton.policy.config.ConfigException e) {
        throw new ConfigException(e.getMessage());
      }
      return;
    }
    if (type.equals(Tag.BOOL)) {
      b.pin = Boolean.parseBoolean(scalar(source, key, value, Tag.BOOL, "true or false"));
      return;
    }
    String s = scalar(source, key, value, Tag.STR, "a string");
    if (s.isBlank()) {
      throw error(source, value, key + " must not be empty");
    }
    switch (key) {
      case "listen" -> {
        try {
          dev.baton.agent.api.ApiOptions.parse(s, null);
        } catch (IllegalArgumentException e) {
          throw error(source, value, "listen: " + e.getMessage());
        }
        b.listen = s;
      }
      case "token_file" -> b.tokenFile = path(source, key, value, s);
      case "tasks_out" -> b.tasksOut = path(source, key, value, s);
      case "jobs_file" -> {
        try {
          b.jobsFile = RunOptions.jobsFile(key, s);
        } catch (UsageException e) {
          throw error(source, value, e.getMessage());
        }
      }
      case "pin_dir" -> b.pinDir = path(source, key, value, s);
      case "policy_config" -> b.policyConfig = path(source, key, value, s);
      default -> throw new IllegalStateException("setting without a handler: " + key);
    }
  }

  private static Path path(String source, String key, Node value, String s) {
    try {
      return Path.of(s);
    } catch (java.nio.file.InvalidPathException e) {
      throw error(source, value, key + " is not a valid path: " + shown(s));
    }
  }

  private static String scalar(String source, String key, Node value, Tag tag, String what) {
    if (!(value instanceof ScalarNode s) || !s.getTag().equals(tag)) {
      String got = value instanceof ScalarNode s ? shown(s.getValue()) : "a " + value.getNodeId();
      throw error(source, value, key + " must be " + what + ", not " + got);
    }
    return s.getValue();
  }

  private static String known() {
    Set<String> keys = new java.util.TreeSet<>(SETTINGS.keySet());
    for (Tunable t : Tunable.values()) {
      keys.add(t.key());
    }
    return String.join(", ", keys);
  }

  private static Node compose(Reader in, String source) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(10);
    options.setNestingDepthLimit(20);
    options.setCodePointLimit(MAX_BYTES);
    try {
      return new Yaml(options).compose(in);
    } catch (MarkedYAMLException e) {
      Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String problem = e.getProblem() != null ? e.getProblem() : e.getContext();
      throw new ConfigException(at(source, m) + "malformed YAML: " + oneLine(problem));
    } catch (YAMLException e) {
      throw new ConfigException(source + ": malformed YAML: " + oneLine(e.getMessage()));
    }
  }

  /** A value as a message shows it: quoted, control characters escaped, long ones cut. */
  static String shown(String v) {
    String cut = v.length() > 40 ? v.substring(0, 40) + "..." : v;
    return "'" + oneLine(cut) + "'";
  }

  private static String oneLine(String s) {
    StringBuilder b = new StringBuilder(s.length());
    s.codePoints()
        .forEach(c -> {
          if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029 || c == 0x85) {
            b.append(String.format("\\u%04x", c));
          } else {
            b.appendCodePoint(c);
          }
        });
    return b.toString();
  }

  private static ConfigException error(String source, Node node, String message) {
    return new ConfigException(at(source, node.getStartMark()) + oneLine(message));
  }

  private static String at(String source, Mark m) {
    return m == null ? source + ": " : source + ":" + (m.getLine() + 1) + ":" + (m.getColumn() + 1) + ": ";
  }
}
