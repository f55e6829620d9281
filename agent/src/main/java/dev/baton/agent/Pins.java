package dev.baton.agent;

import dev.baton.bpf.BpfException;
import dev.baton.bpf.BpfObject;
import dev.baton.bpf.StructOpsLink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where a pinned scheduler lives in bpffs: {@code DIR/link} (the struct_ops link, which keeps it
 * attached) and {@code DIR/maps/NAME} (every map the BPF program declares). Only root may read
 * them: the directory is 0700 and every pin 0600.
 */
final class Pins {
  private final Path dir;

  Pins(Path dir) {
    this.dir = dir;
  }

  Path dir() {
    return dir;
  }

  Path link() {
    return dir.resolve("link");
  }

  Path maps() {
    return dir.resolve("maps");
  }

  /** Whether a previous agent left a scheduler here (attached or not: see its exit_info). */
  boolean hasLink() {
    return Files.exists(link());
  }

  /** Pins a freshly attached scheduler, replacing whatever a dead run left. */
  void pin(BpfObject obj, StructOpsLink link) throws BpfException, IOException {
    remove();
    try {
      Files.createDirectories(maps(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (IOException e) {
      throw new IOException("cannot create " + maps() + ": " + e.getMessage() + bpffsHint(), e);
    }
    try {
      obj.pinMaps(maps());
      // Beside the maps, so that an adopting agent's hint writer finds it in the same set.
      obj.program(HintWriter.QUERY_PROGRAM).pin(maps().resolve(HintWriter.QUERY_PROGRAM));
      link.pin(link());
    } catch (BpfException e) {
      throw new BpfException(e.getMessage() + bpffsHint(), e.errno());
    }
  }

  /**
   * Detaches the pinned scheduler (an agent following it sees it end and exits 0) and removes
   * the pins; false if nothing is pinned here.
   */
  boolean detach() throws BpfException, IOException {
    if (!hasLink()) {
      return false;
    }
    try (StructOpsLink l = StructOpsLink.openPinned(link())) {
      l.detach();
    }
    remove();
    return true;
  }

  /** Removes every pin and the directory; a link that nothing else holds detaches. */
  void remove() throws IOException {
    // Another process may be removing the same pins (baton stop and the agent it stops): an entry
    // that vanishes under the walk is fine, so walk again until nothing is left.
    for (int attempt = 1; ; attempt++) {
      try (Stream<Path> all = Files.walk(dir)) {
        for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
          try {
            Files.delete(p);
          } catch (NoSuchFileException e) {
            // removed concurrently: fine
          }
        }
        return;
      } catch (NoSuchFileException e) {
        return; // the directory itself is gone
      } catch (UncheckedIOException e) {
        if (!(e.getCause() instanceof NoSuchFileException) || attempt == 3) {
          throw e.getCause();
        }
      }
    }
  }

  private String bpffsHint() {
    return " (is " + dir.getParent() + " a bpf filesystem? mount -t bpf bpf /sys/fs/bpf)";
  }
}
