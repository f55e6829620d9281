package dev.baton.agent.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bpf.abi.BatonStat;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BpfStatCatalogTest {

  @Test
  void everyBpfStatHasANameAUnitAndADescription() {
    for (String stat : BatonStat.VALUES.keySet()) {
      if (stat.startsWith("BATON_NR_")) {
        continue;
      }
      BpfStatCatalog.Entry e = BpfStatCatalog.of(stat);
      assertThat(e).as(stat + " (bpf/intf.h) needs a line in BpfStatCatalog").isNotNull();
      assertThat(e.meter()).as(stat).startsWith("baton.bpf.").endsWith("." + e.unit());
      assertThat(e.description()).as(stat).isNotBlank();
      assertThat(e.scale()).as(stat).isPositive();
    }
  }

  @Test
  void theCatalogNamesNoStatThatIsGone() {
    assertThat(BatonStat.VALUES).containsKeys(BpfStatCatalog.entries().keySet().toArray(String[]::new));
  }

  @Test
  void statsSharingAMeterDifferInTheirTags() {
    Map<String, Map<String, String>> seen = new java.util.HashMap<>();
    for (var e : BpfStatCatalog.entries().entrySet()) {
      String key = e.getValue().meter() + e.getValue().tags();
      assertThat(seen.put(key, e.getValue().tags())).as(e.getKey() + " duplicates a series").isNull();
    }
  }
}
