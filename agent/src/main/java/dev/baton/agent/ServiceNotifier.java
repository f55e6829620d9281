package dev.baton.agent;

import dev.baton.bpf.BpfException;
import dev.baton.bpf.SystemdNotify;
import java.io.PrintStream;

/**
 * Tells systemd how the agent is doing (Type=notify): READY once the scheduler is attached,
 * WATCHDOG pings from the event loop (so a stuck loop gets the service restarted), STATUS lines,
 * STOPPING. Does nothing when not started by systemd. A failed send is reported once and never
 * stops the agent: scheduling matters more than telling systemd about it.
 */
final class ServiceNotifier implements AutoCloseable {
  private final SystemdNotify notify;
  private final long pingEveryNs; // 0: no watchdog
  private final PrintStream err;
  private long nextPing = System.nanoTime();
  private boolean failed;

  private ServiceNotifier(SystemdNotify notify, long watchdogUsec, PrintStream err) {
    this.notify = notify;
    // systemd's advice: ping at half the interval; a quarter leaves room for a GC pause.
    this.pingEveryNs = Math.max(0, watchdogUsec) * 1000 / 4;
    this.err = err;
  }

  static ServiceNotifier fromEnvironment(PrintStream err) {
    long watchdogUsec = 0;
    String usec = System.getenv("WATCHDOG_USEC");
    String pid = System.getenv("WATCHDOG_PID");
    if (usec != null && (pid == null || pid.equals(Long.toString(ProcessHandle.current().pid())))) {
      try {
        watchdogUsec = Long.parseLong(usec);
      } catch (NumberFormatException e) {
        err.println("baton: ignoring WATCHDOG_USEC=" + usec + ": not a number");
      }
    }
    try {
      return new ServiceNotifier(SystemdNotify.fromEnvironment(), watchdogUsec, err);
    } catch (BpfException e) {
      err.println("baton: cannot reach systemd's notify socket: " + e.getMessage());
      return new ServiceNotifier(null, 0, err);
    }
  }

  void ready(String status) {
    send("READY=1\nSTATUS=" + status);
  }

  void status(String status) {
    send("STATUS=" + status);
  }

  void stopping() {
    send("STOPPING=1");
  }

  /** Called from the event loop on every turn; pings when due. */
  void loopTurn() {
    if (notify == null || pingEveryNs == 0) {
      return;
    }
    long now = System.nanoTime();
    if (now - nextPing >= 0) {
      nextPing = now + pingEveryNs;
      send("WATCHDOG=1");
    }
  }

  private void send(String state) {
    if (notify == null) {
      return;
    }
    try {
      notify.send(state);
    } catch (BpfException e) {
      if (!failed) {
        failed = true;
        err.println("baton: systemd notification failed (further failures not reported): " + e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    if (notify != null) {
      notify.close();
    }
  }
}
