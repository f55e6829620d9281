package dev.baton.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import org.junit.jupiter.api.Test;

class ReasonTest {
  @Test
  void formatsItsNumbersOnFirstReadWithADecimalPointWhateverTheDefaultLocale() {
    Locale before = Locale.getDefault();
    Locale.setDefault(Locale.GERMANY);
    try {
      Reason r = Reason.of("got %.2f of %.1f CPUs, waiting %.2f", 0.5, 2, 0.125);
      assertThat(r.text()).isEqualTo("got 0.50 of 2.0 CPUs, waiting 0.13");
      assertThat(r.text()).isSameAs(r.text());
      assertThat(r).hasToString("got 0.50 of 2.0 CPUs, waiting 0.13");
    } finally {
      Locale.setDefault(before);
    }
  }

  @Test
  void aPatternMayUseFewerThanThreeNumbers() {
    assertThat(Reason.of("%.1f ms", 12.25, 0, 0).text()).isEqualTo("12.3 ms");
    assertThat(Reason.of("measuring").text()).isEqualTo("measuring");
  }
}
