package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TaskTableTest {

  private static byte[] comm(String name) {
    byte[] b = new byte[TaskTable.COMM_LEN];
    byte[] s = name.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(s, 0, b, 0, Math.min(s.length, b.length));
    return b;
  }

  @Test
  void matchesAReferenceSetUnderRandomAddsAndRemoves() {
    TaskTable table = new TaskTable(1024, 16);
    Set<Integer> reference = new HashSet<>();
    Random random = new Random(42);
    byte[] c = comm("w");
    for (int step = 0; step < 200_000; step++) {
      int pid = 1 + random.nextInt(3000);
      if (random.nextBoolean() && reference.size() < 1024) {
        table.add(pid, pid, 0, c, 0);
        reference.add(pid);
      } else {
        table.remove(pid);
        reference.remove(pid);
      }
      if (step % 1000 == 0) {
        for (int p = 1; p <= 3000; p++) {
          assertThat(table.contains(p)).as("pid %d at step %d", p, step).isEqualTo(reference.contains(p));
        }
      }
    }
    assertThat(table.live()).isEqualTo(reference.size());
  }

  @Test
  void fullTableCountsOverflowsInsteadOfGrowing() {
    TaskTable table = new TaskTable(16, 4);
    byte[] c = comm("x");
    for (int pid = 1; pid <= 100; pid++) {
      table.add(pid, pid, 0, c, 0);
    }
    assertThat(table.live()).isEqualTo(16);
    assertThat(table.overflows()).isEqualTo(84);
  }

  @Test
  void dumpListsLiveTasksThenTheMostRecentExits() throws IOException {
    TaskTable table = new TaskTable(64, 2);
    table.add(10, 10, 0, comm("encoder"), 0);
    table.add(11, 10, 0, comm("encoder-worker1"), 0);
    table.add(12, 12, 0, comm("a-name-longer-than-16"), 0);
    table.add(13, 13, 0, comm("sh"), 0);
    table.remove(11);
    table.remove(12);
    table.remove(13);
    StringWriter out = new StringWriter();
    table.dump(out);
    assertThat(out.toString().lines())
        .containsExactly("live\t10\t10\tencoder", "exited\t12\t12\ta-name-longer-th", "exited\t13\t13\tsh");
    assertThat(table.seen()).isEqualTo(4);
  }

  @Test
  void idleTaskAndUnknownPidsAreIgnored() {
    TaskTable table = new TaskTable(16, 4);
    table.add(0, 0, 0, comm("swapper"), 0);
    table.remove(99);
    assertThat(table.live()).isZero();
    assertThat(table.seen()).isZero();
  }
}
