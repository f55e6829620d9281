package dev.baton.policy.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.policy.Setting;
import dev.baton.policy.transcode.TranscodeSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** policies/README.md documents the format: its example must parse and its table must be true. */
class ReadmeTest {

  private static String readme() throws IOException {
    return Files.readString(Path.of("README.md"));
  }

  @Test
  void theExampleConfigParses() throws Exception {
    Matcher m = Pattern.compile("```yaml\n(.*?)```", Pattern.DOTALL).matcher(readme());
    assertThat(m.find()).as("a yaml block").isTrue();
    PolicyConfig c = ConfigParser.parse(m.group(1), "README.md");
    assertThat(c.rules()).hasSize(1);
    assertThat(c.tenants()).containsOnlyKeys("acme", "globex");
  }

  @Test
  void theTunablesTableMatchesTheCode() throws Exception {
    String text = readme();
    for (Setting s : TranscodeSettings.ALL) {
      assertThat(text)
          .contains("| `%s` | %d | %d..%d |".formatted(s.name(), s.defaultValue(), s.min(), s.max()));
    }
  }
}
