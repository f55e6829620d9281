package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.bpf.abi.BatonClass;
import dev.baton.bpf.abi.BatonHint;
import dev.baton.bpf.abi.BatonTaskKey;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class HintTest {

  @Test
  void classesCarryTheBpfValuesAndParseByName() {
    assertThat(SchedClass.LIVE.value()).isEqualTo(BatonClass.BATON_CLASS_LIVE);
    assertThat(SchedClass.IDLE.value()).isEqualTo(BatonClass.BATON_CLASS_IDLE);
    assertThat(SchedClass.values()).hasSize(BatonClass.BATON_NR_CLASSES);
    for (SchedClass c : SchedClass.values()) {
      assertThat(SchedClass.of(c.value())).isSameAs(c);
      assertThat(SchedClass.parse(c.label())).isSameAs(c);
    }
    assertThat(SchedClass.parse("Batch")).isSameAs(SchedClass.BATCH);
    assertThatThrownBy(() -> SchedClass.parse("realtime"))
        .hasMessage("unknown class 'realtime': one of live, interactive, normal, batch, idle");
    assertThatThrownBy(() -> SchedClass.of(BatonClass.BATON_NR_CLASSES))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void liveNeedsADeadlineAndOnlyLiveHasOne() {
    assertThat(new Hint(SchedClass.LIVE, 0, 0, 16_667).deadlineUs()).isEqualTo(16_667);
    assertThatThrownBy(() -> Hint.of(SchedClass.LIVE))
        .hasMessageContaining("a live hint needs a deadline");
    assertThatThrownBy(() -> new Hint(SchedClass.BATCH, 0, 0, 1000))
        .hasMessageContaining("only live hints take a deadline; batch has none");
  }

  @Test
  void weightAndSliceAreZeroOrInRange() {
    assertThat(new Hint(SchedClass.NORMAL, 10_000, 1_000_000, 0).weight()).isEqualTo(10_000);
    assertThatThrownBy(() -> new Hint(SchedClass.NORMAL, 10_001, 0, 0))
        .hasMessageContaining("weight must be between 1 and 10000 (100 is nice 0), not 10001");
    assertThatThrownBy(() -> new Hint(SchedClass.NORMAL, -1, 0, 0)).hasMessageContaining("not -1");
    assertThatThrownBy(() -> new Hint(SchedClass.NORMAL, 0, 99, 0))
        .hasMessageContaining("slice must be between 100 and 1000000 us, not 99");
  }

  @Test
  void encodingFollowsTheGeneratedLayout() {
    Hint hint = new Hint(SchedClass.LIVE, 300, 5_000, 16_667);
    ByteBuffer b = ByteBuffer.wrap(HintWriter.encode(hint)).order(ByteOrder.nativeOrder());

    assertThat(b.capacity()).isEqualTo(BatonHint.SIZEOF);
    assertThat(b.getInt((int) BatonHint.SCHED_CLASS_OFFSET)).isEqualTo(BatonClass.BATON_CLASS_LIVE);
    assertThat(b.getInt((int) BatonHint.WEIGHT_OFFSET)).isEqualTo(300);
    assertThat(b.getInt((int) BatonHint.SLICE_US_OFFSET)).isEqualTo(5_000);
    assertThat(b.getInt((int) BatonHint.DEADLINE_US_OFFSET)).isEqualTo(16_667);
    assertThat(HintWriter.decode(b.array())).isEqualTo(hint);

    ByteBuffer key = ByteBuffer.wrap(HintWriter.taskKey(42, 1234567890123L)).order(ByteOrder.nativeOrder());
    assertThat(key.capacity()).isEqualTo(BatonTaskKey.SIZEOF);
    assertThat(key.getInt((int) BatonTaskKey.PID_OFFSET)).isEqualTo(42);
    assertThat(key.getLong((int) BatonTaskKey.START_NS_OFFSET)).isEqualTo(1234567890123L);
  }
}
