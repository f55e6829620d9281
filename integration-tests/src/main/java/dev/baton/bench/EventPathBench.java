package dev.baton.bench;

import com.sun.management.ThreadMXBean;
import dev.baton.bench.abi.BatonBenchConsts;
import dev.baton.bench.abi.BatonTaskSample;
import dev.baton.bpf.BpfException;
import dev.baton.bpf.BpfObject;
import dev.baton.bpf.Libbpf;
import dev.baton.bpf.RecordHandler;
import dev.baton.bpf.RecordView;
import dev.baton.bpf.RingBuffer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The event-path benchmark ({@code make bench}): how fast Java drains the ring buffer compared with
 * libbpf's C consumer, what the consumer allocates, what a hint write costs on each path, and how
 * long an event takes to come back to BPF as a hint. Everything runs natively on the host through
 * BPF_PROG_TEST_RUN (no sched_ext). Figures, not assertions: a table on stdout and JSON in the file
 * given.
 *
 * <p>Usage: EventPathBench &lt;bench_events.bpf.o&gt; &lt;ringbuf_consumer binary&gt;
 * &lt;out.json&gt; [sections], sections a comma-separated subset of throughput,hints,roundtrip
 * (default: all).
 */
public final class EventPathBench {
  /** Throughput runs per consumer, alternating Java and C; the report takes medians. */
  private static final int RUNS = 5;

  private static final long EVENTS_PER_RUN = 5_000_000;
  private static final long WARMUP_EVENTS = 3_000_000;

  /**
   * Round trips of the main configuration (poll + update batch), and of each comparison; the
   * emulated guest (event-path-vm.sh) asks for fewer with -Dbaton.bench.trips.
   */
  private static final int ROUND_TRIPS = Integer.getInteger("baton.bench.trips", 100_000);

  private static final int COMPARISON_ROUND_TRIPS = Math.min(30_000, ROUND_TRIPS);
  private static final int ROUND_TRIP_WARMUP = 20_000;

  /**
   * Wall-clock cap on a configuration's measured trips, so that a loaded machine (where a spinning
   * consumer may wait milliseconds for a CPU) cannot make the benchmark take forever; the report
   * says how many trips were made.
   */
  private static final long ROUND_TRIP_BUDGET_NS =
      TimeUnit.SECONDS.toNanos(Integer.getInteger("baton.bench.budget-s", 60));

  private static final long COMPARISON_BUDGET_NS = TimeUnit.SECONDS.toNanos(15);
  private static final long ROUND_TRIP_WARMUP_BUDGET_NS = TimeUnit.SECONDS.toNanos(5);

  /**
   * If set (the guest, whose JIT takes far longer than 20,000 trips to settle), warm-up lasts
   * exactly this many seconds instead.
   */
  private static final Integer ROUND_TRIP_WARMUP_S = Integer.getInteger("baton.bench.warmup-s");

  /**
   * The address of a running Baton agent's API, or null. Set in the guest (event-path-vm.sh):
   * each round trip's consumer then asks the agent to schedule it INTERACTIVE, as the agent
   * schedules its own event loop, the thread this consumer stands for.
   */
  private static final String AGENT_API = System.getProperty("baton.bench.agent-api");
  private static final long ROUND_TRIP_TIMEOUT_NS = TimeUnit.MILLISECONDS.toNanos(10);

  /** How long one BPF call spins for the hint before giving the CPU a chance to switch. */
  private static final long ROUND_TRIP_SPIN_NS = TimeUnit.MICROSECONDS.toNanos(20);

  /** Distinct tasks the hint-write section writes hints for, round robin. */
  private static final int HINT_TASKS = 1024;

  /**
   * The path Baton's agent uses (see the report's notes), at a tick of this many changes: the
   * figure reported as hint_write_ns and syscalls_per_hint.
   */
  private static final String CHOSEN_HINT_PATH = "agent_tick/16";

  private static final String CONSUMER_THREAD = "hint-consumer";

  private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();

  private EventPathBench() {}

  public static void main(String[] args) throws Exception {
    List<String> all = List.of("throughput", "hints", "roundtrip");
    List<String> sections = args.length == 4 ? List.of(args[3].split(",")) : all;
    if (args.length < 3 || args.length > 4 || !all.containsAll(sections)) {
      System.err.println(
          "usage: EventPathBench <bench_events.bpf.o> <ringbuf_consumer> <out.json>"
              + " ["
              + String.join(",", all)
              + "]");
      System.exit(2);
    }
    Path object = Path.of(args[0]);
    Path cConsumer = Path.of(args[1]);
    Report report = new Report();
    long start = System.nanoTime();
    environment(report, "start");
    try (BenchEvents bench = new BenchEvents(object)) {
      if (sections.contains("throughput")) {
        throughput(bench, object, cConsumer, report);
      }
      if (sections.contains("hints")) {
        try (BpfObject hintMaps = loadHintMaps(object.resolveSibling("hint_maps.bpf.o"))) {
          hintWrites(bench, hintMaps, report);
        }
      }
      if (sections.contains("roundtrip")) {
        roundTrips(bench, report);
      }
    }
    environment(report, "end");
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
    report.put("bench_seconds", seconds).writeJson(Path.of(args[2]));
    Report.print("%nWrote %s (%d s)", args[2], seconds);
  }

  /** The scheduler's hint maps in an object this host can load (bpf/test/hint_maps.bpf.c). */
  private static BpfObject loadHintMaps(Path elf) throws BpfException, IOException {
    BpfObject o = BpfObject.open(Files.readAllBytes(elf), "hint_maps");
    try {
      o.load();
      return o;
    } catch (BpfException | RuntimeException e) {
      o.close();
      throw e;
    }
  }

  private static void environment(Report report, String when) throws IOException, BpfException {
    double load = Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    report.put("loadavg_1m_at_" + when, load);
    // In the guest (event-path-vm.sh) Baton schedules the benchmark: say so in the results.
    Path scx = Path.of("/sys/kernel/sched_ext");
    if (Files.isDirectory(scx)) {
      report.put("sched_ext_state_at_" + when, Files.readString(scx.resolve("state")).strip());
      Path ops = scx.resolve("root/ops");
      report.put("sched_ext_ops_at_" + when, Files.exists(ops) ? Files.readString(ops).strip() : "");
    }
    if (when.equals("start")) {
      String kernel = Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
      int cpus = Runtime.getRuntime().availableProcessors();
      report
          .put("kernel", kernel)
          .put("cpus", cpus)
          .put("java", Runtime.version().toString())
          .put("libbpf", Libbpf.version());
      Report.print(
          "Event path: kernel %s, %d CPUs, JDK %s, libbpf %s; load average %.1f"
              + " (other work on the machine makes the timings noisy)",
          kernel, cpus, Runtime.version(), Libbpf.version(), load);
    }
  }

  // ---- 1 and 2: consumer throughput and allocation ------------------------------------------

  /** Drains records like the C consumer's callback: reads three fields and sums them. */
  private static final class SumHandler implements RecordHandler {
    long checksum;

    @Override
    public void onRecord(RecordView r) {
      checksum +=
          r.getLong(BatonTaskSample.TS_NS_OFFSET)
              + r.getLong(BatonTaskSample.CPU_NS_OFFSET)
              + Integer.toUnsignedLong(r.getInt(BatonTaskSample.PID_OFFSET));
    }
  }

  /**
   * One consumer's run: records drained, the draining thread's CPU ns and wall-clock ns spent
   * draining, bytes it allocated while draining.
   */
  private record Drain(long events, long cpuNanos, long wallNanos, long allocated, long checksum) {
    double perCpuSecond() {
      return events * 1e9 / cpuNanos;
    }

    double perWallSecond() {
      return events * 1e9 / wallNanos;
    }
  }

  private static void throughput(BenchEvents bench, Path object, Path cConsumer, Report report)
      throws BpfException, IOException, InterruptedException {
    int ringBytes = BatonBenchConsts.BATON_BENCH_RING_BYTES;
    int footprint = (int) BatonTaskSample.SIZEOF + 8; // the kernel's 8-byte record header
    Report.print(
        "%n1. Consumer throughput: fill the %d KiB ring with %d-byte samples (%d records) from BPF,"
            + " then time one drain;%n   %,d events per run, %d runs each, alternating Java and C;"
            + " events per second of the draining thread's CPU time (wall clock in brackets)",
        ringBytes / 1024,
        BatonTaskSample.SIZEOF,
        (ringBytes - 1) / footprint,
        EVENTS_PER_RUN,
        RUNS);
    SumHandler handler = new SumHandler();
    javaDrain(bench, handler, WARMUP_EVENTS); // JIT warm-up
    double[] java = new double[RUNS];
    double[] c = new double[RUNS];
    double[] javaWall = new double[RUNS];
    double[] cWall = new double[RUNS];
    long allocated = 0;
    long javaEvents = 0;
    for (int run = 0; run < RUNS; run++) {
      Drain j = javaDrain(bench, handler, EVENTS_PER_RUN);
      Drain n = cDrain(cConsumer, object, EVENTS_PER_RUN);
      if (j.events != n.events || j.checksum != n.checksum) {
        throw new IllegalStateException("the consumers disagree: Java " + j + ", C " + n);
      }
      java[run] = j.perCpuSecond();
      c[run] = n.perCpuSecond();
      javaWall[run] = j.perWallSecond();
      cWall[run] = n.perWallSecond();
      allocated += j.allocated;
      javaEvents += j.events;
      Report.print(
          "   run %d: Java %6.1f M/s (%6.1f)   C %6.1f M/s (%6.1f)   Java/C %.2f (%.2f)",
          run + 1,
          java[run] / 1e6,
          javaWall[run] / 1e6,
          c[run] / 1e6,
          cWall[run] / 1e6,
          java[run] / c[run],
          javaWall[run] / cWall[run]);
    }
    double javaMedian = median(java);
    double cMedian = median(c);
    Report.print(
        "   median: Java %.1f M events/s, C %.1f M events/s:"
            + " Java/C = %.2f (wall clock %.2f; target >= 0.90)",
        javaMedian / 1e6, cMedian / 1e6, javaMedian / cMedian, median(javaWall) / median(cWall));
    double bytesPerEvent = (double) allocated / javaEvents;
    Report.print(
        "%n2. Allocation by the consumer thread while draining %,d events after warm-up:"
            + " %.4f bytes/event (%d bytes; target 0)",
        javaEvents, bytesPerEvent, allocated);
    report
        .put("java_events_per_s", Math.round(javaMedian))
        .put("c_events_per_s", Math.round(cMedian))
        .put("java_c_ratio", javaMedian / cMedian)
        .put("java_events_per_s_runs", Arrays.stream(java).map(Math::rint).toArray())
        .put("c_events_per_s_runs", Arrays.stream(c).map(Math::rint).toArray())
        .put("java_events_per_wall_s", Math.round(median(javaWall)))
        .put("c_events_per_wall_s", Math.round(median(cWall)))
        .put("java_c_ratio_wall", median(javaWall) / median(cWall))
        .put("record_bytes", BatonTaskSample.SIZEOF)
        .put("ring_bytes_per_record", footprint)
        .put("ring_bytes", ringBytes)
        .put("events_per_run", EVENTS_PER_RUN)
        .put("bytes_per_event", bytesPerEvent)
        .put("bytes_per_event_over_events", javaEvents)
        .put(
            "throughput_method",
            "fill (bpf_loop in a SEC(syscall) program, run by BPF_PROG_TEST_RUN) fills the ring"
                + " until it is full, then one consume call drains it; only the drains are timed"
                + " and summed, on the thread that filled (the ring fits its L2). events_per_s is"
                + " per second of that thread's CPU time (CLOCK_THREAD_CPUTIME_ID), which other"
                + " work on a shared machine does not inflate; *_wall_s is per wall-clock second."
                + " Java: RingBuffer.consume; C: libbpf ring_buffer__consume in ringbuf_consumer.c,"
                + " its own instance of the same object, run as a separate process between the Java"
                + " runs. Both read ts_ns, cpu_ns and pid of each record and must agree on their"
                + " sum. bytes_per_event: ThreadMXBean.getCurrentThreadAllocatedBytes around each"
                + " Java drain.");
  }

  private static Drain javaDrain(BenchEvents bench, SumHandler handler, long events)
      throws BpfException {
    RingBuffer ring = bench.ring;
    long consumed = 0;
    long cpu = 0;
    long wall = 0;
    long allocated = 0;
    handler.checksum = 0;
    while (consumed < events) {
      int submitted = bench.fill(consumed);
      long bytesBefore = THREADS.getCurrentThreadAllocatedBytes();
      long cpuBefore = THREADS.getCurrentThreadCpuTime();
      long wallBefore = System.nanoTime();
      int drained = ring.consume(handler);
      wall += System.nanoTime() - wallBefore;
      cpu += THREADS.getCurrentThreadCpuTime() - cpuBefore;
      allocated += THREADS.getCurrentThreadAllocatedBytes() - bytesBefore;
      if (drained != submitted) {
        throw new IllegalStateException("drained " + drained + " of " + submitted + " records");
      }
      consumed += drained;
    }
    return new Drain(consumed, cpu, wall, allocated, handler.checksum);
  }

  private static Drain cDrain(Path cConsumer, Path object, long events)
      throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(cConsumer.toString(), object.toString(), Long.toString(events))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    if (p.waitFor() != 0) {
      throw new IllegalStateException(cConsumer + " exited with " + p.exitValue());
    }
    Map<String, Long> facts = new HashMap<>();
    for (String fact : out.split("\\s+")) {
      String[] kv = fact.split("=", 2);
      if (kv.length == 2) {
        facts.put(kv[0], Long.parseUnsignedLong(kv[1]));
      }
    }
    if (!facts.keySet().containsAll(List.of("events", "cpu_ns", "wall_ns", "checksum"))) {
      throw new IllegalStateException(
          cConsumer + " printed \"" + out + "\", not events=, cpu_ns=, wall_ns=, checksum=");
    }
    return new Drain(
        facts.get("events"), facts.get("cpu_ns"), facts.get("wall_ns"), 0, facts.get("checksum"));
  }

  // ---- 3: hint writes -----------------------------------------------------------------------

  private static void hintWrites(BenchEvents bench, BpfObject hintMaps, Report report)
      throws BpfException {
    HintWriter[] writers = {
      new HintWriter.AgentTicks(hintMaps, 1),
      new HintWriter.AgentTicks(hintMaps, 16),
      new HintWriter.AgentTicks(hintMaps, 256),
      new HintWriter.UpdateElem(bench.hintHash),
      new HintWriter.UpdateBatch(bench.hintHash, 16),
      new HintWriter.UpdateBatch(bench.hintHash, 256),
      new HintWriter.Mmap(bench.hintArray),
    };
    // A few hundred ms of CPU each.
    long[] hints = {200_000, 1_000_000, 1_000_000, 200_000, 1_000_000, 1_000_000, 20_000_000};
    Report.print(
        "%n3. Hint writes: 16-byte hints {seq, value} for %d tasks round robin; CPU ns per hint,"
            + " the median of 3 runs;%n   syscalls counted in the kernel (raw_tp/sys_enter, this"
            + " thread only) over one more run%n   %-16s %12s %14s %14s",
        HINT_TASKS, "path", "hints/run", "ns/hint", "syscalls/hint");
    Map<String, Double> nsPerHint = new HashMap<>();
    for (int w = 0; w < writers.length; w++) {
      HintWriter writer = writers[w];
      long n = hints[w];
      writeHints(writer, n / 10); // JIT warm-up
      double[] ns = new double[3];
      for (int run = 0; run < ns.length; run++) {
        long start = THREADS.getCurrentThreadCpuTime();
        writeHints(writer, n);
        ns[run] = (double) (THREADS.getCurrentThreadCpuTime() - start) / n;
      }
      long syscalls;
      // Counted apart from the timed runs: the counter adds a little to every syscall.
      try (BenchEvents.SyscallCounter counter = bench.countSyscallsOfThisThread()) {
        long before = counter.syscalls();
        writeHints(writer, n);
        syscalls = counter.syscalls() - before;
      }
      double perHint = (double) syscalls / n;
      boolean chosen = writer.name().equals(CHOSEN_HINT_PATH);
      nsPerHint.put(writer.name(), median(ns));
      Report.print(
          "   %-16s %,12d %14.1f %14.6f%s",
          writer.name(), n, median(ns), perHint, chosen ? "   <- chosen" : "");
      String key = "hint_" + writer.name().replace('/', '_');
      report.put(key + "_ns", median(ns)).put(key + "_syscalls_per_hint", perHint);
      if (chosen) {
        report
            .put("hint_write_path", writer.name())
            .put("hint_write_ns", median(ns))
            .put("syscalls_per_hint", perHint);
      }
    }
    String why =
        String.format(
            Locale.ROOT,
            "The agent writes a policy tick's changes as one bpf_map_update_batch (and one"
                + " bpf_map_delete_batch for clears) into task_hints, a hash keyed by {pid, start"
                + " time}, then bumps the hint generation with one store: %.0f ns per hint in a tick"
                + " of 16 changes, %.0f ns in a tick of 256, %.0f ns for a tick of one (a whole"
                + " call for one hint, like update_elem's %.0f ns, plus the batch's bookkeeping)."
                + " An mmapped array is"
                + " faster per hint (%.1f ns, no syscall) but its slots are not keys: BPF would need"
                + " a task-to-slot mapping the agent cannot set without a syscall, a reused slot"
                + " needs the {pid, start} check anyway, and a 16-byte hint is not one atomic store."
                + " The hash key makes a recycled pid miss and lets one process key cover its"
                + " threads. The cost is per change, not per event: a tick writes only what changed"
                + " (none in a steady state, tens when jobs start), four times a second when nothing appears.",
            nsPerHint.get("agent_tick/16"),
            nsPerHint.get("agent_tick/256"),
            nsPerHint.get("agent_tick/1"),
            nsPerHint.get("update_elem"),
            nsPerHint.get("mmap"));
    report.put("hint_write_why", why);
    report.put("hint_write_tick_hints", 16);
    report.put(
        "hint_write_method",
        "Each path writes n hints for 1024 tasks round robin on one thread; ns/hint = that thread's"
            + " CPU time (user and kernel) over n, median of 3 runs, including building the value."
            + " agent_tick/N: the agent's dev.baton.agent.HintWriter.write, N changes a tick (each a"
            + " new Hint and Change, as the policy engine makes them), over the scheduler's"
            + " task_hints map (16-byte key {pid, start}) in bpf/test/hint_maps.bpf.o; the others"
            + " write the benchmark's own maps (4-byte pid key). syscalls/hint: a BPF program on"
            + " raw_tp/sys_enter counts every syscall of that thread (not only bpf()) during one"
            + " further run, into an mmapped counter read without a syscall.");
  }

  private static void writeHints(HintWriter writer, long n) throws BpfException {
    for (long i = 0; i < n; i++) {
      writer.write((int) (i % HINT_TASKS), i, i * 7);
    }
    writer.flush();
  }

  // ---- 4: round trip ------------------------------------------------------------------------

  /** The agent's side of a round trip: consume events, answer each with a hint. */
  private static final class HintingConsumer implements RecordHandler, Runnable {
    private final RingBuffer ring;
    private final HintWriter writer;
    private final boolean spin;
    private volatile boolean stop;
    private volatile Throwable failure;

    HintingConsumer(RingBuffer ring, HintWriter writer, boolean spin) {
      this.ring = ring;
      this.writer = writer;
      this.spin = spin;
    }

    @Override
    public void run() {
      try {
        if (AGENT_API != null) {
          hintThisThreadInteractive(AGENT_API);
        }
        while (!stop) {
          if (spin) {
            ring.consume(this);
          } else {
            ring.poll(100, this);
          }
          writer.flush();
        }
      } catch (Throwable t) {
        failure = t;
      }
    }

    @Override
    public void onRecord(RecordView r) {
      try {
        writer.write(
            r.getInt(BatonTaskSample.PID_OFFSET),
            r.getLong(BatonTaskSample.TS_NS_OFFSET),
            r.getLong(BatonTaskSample.CPU_NS_OFFSET));
      } catch (BpfException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private static void roundTrips(BenchEvents bench, Report report) throws Exception {
    Report.print(
        "%n4. Round trip: BPF stamps and submits an event, a Java thread consumes it and writes the"
            + " hint,%n   BPF polls the hint map until it sees it; after %s, %,d trips (%,d for"
            + " the comparisons, or fewer if %d / %d s pass), timeout %d"
            + " ms;%n   CPU wait: mean us per trip that the consumer / the BPF side's thread spent"
            + " runnable but waiting for a CPU%n   %-8s %-16s %8s %7s %7s %8s %8s %8s %11s %13s",
        ROUND_TRIP_WARMUP_S != null
            ? ROUND_TRIP_WARMUP_S + " s of warm-up trips"
            : String.format(Locale.ROOT, "%,d warm-up trips (or 5 s)", ROUND_TRIP_WARMUP),
        ROUND_TRIPS,
        COMPARISON_ROUND_TRIPS,
        TimeUnit.NANOSECONDS.toSeconds(ROUND_TRIP_BUDGET_NS),
        TimeUnit.NANOSECONDS.toSeconds(COMPARISON_BUDGET_NS),
        TimeUnit.NANOSECONDS.toMillis(ROUND_TRIP_TIMEOUT_NS),
        "consumer",
        "hint path",
        "trips",
        "p50 us",
        "p99 us",
        "p99.9 us",
        "max us",
        "timeouts",
        "bytes/event",
        "CPU wait us");
    // The agent's kind of write first: a hash map updated by a batch, flushed every turn.
    roundTrip(
        bench,
        new HintWriter.UpdateBatch(bench.hintHash, 64),
        false,
        "roundtrip",
        ROUND_TRIPS,
        ROUND_TRIP_BUDGET_NS,
        report);
    roundTrip(
        bench,
        new HintWriter.Mmap(bench.hintArray),
        false,
        "roundtrip_mmap",
        COMPARISON_ROUND_TRIPS,
        COMPARISON_BUDGET_NS,
        report);
    roundTrip(
        bench,
        new HintWriter.Mmap(bench.hintArray),
        true,
        "roundtrip_mmap_spin",
        COMPARISON_ROUND_TRIPS,
        COMPARISON_BUDGET_NS,
        report);
    report
        .put("roundtrip_hint_path", "update_batch/64")
        .put("roundtrip_consumer_hint", AGENT_API == null ? "none" : "interactive, through Baton's API");
    report.put(
        "roundtrip_method",
        "The main thread runs roundtrip (SEC(syscall), BPF_PROG_TEST_RUN): it reserves a"
            + " baton_task_sample, stamps its ts_ns with bpf_ktime_get_ns(), submits it (waking a"
            + " consumer asleep in epoll), then reads the hint map in a bpf_loop until the hint's"
            + " seq equals that stamp, and the latency is the ktime in between. Each call spins at"
            + " most 20 us and the thread calls again until the hint arrives (or 10 ms pass: a"
            + " timeout), so a consumer waiting for this CPU gets it. A second Java thread"
            + " consumes: poll = RingBuffer.poll (epoll wake-ups), as the agent does; spin = busy"
            + " RingBuffer.consume. It answers each event with the hint, staged in a batch flushed"
            + " after each poll (update_batch) or stored (mmap). roundtrip_p50_us/p99_us: poll +"
            + " update_batch, the agent's kind of write; the agent itself writes a policy's hints"
            + " at its next tick (within 20 ms of a new task, else every 250 ms), which this does not include. *_consumer_bytes_per_event: what the consumer thread allocated per"
            + " trip; not always 0 because a deoptimization now and then sends it back to the"
            + " interpreter, which allocates. *_cpu_wait_us_per_trip: schedstat run_delay of the"
            + " two threads, per trip: time spent runnable without a CPU, the share of the latency"
            + " that other load on the machine adds.");
  }

  private static void roundTrip(
      BenchEvents bench,
      HintWriter writer,
      boolean spin,
      String key,
      int maxTrips,
      long budgetNs,
      Report report)
      throws Exception {
    HintingConsumer consumer = new HintingConsumer(bench.ring, writer, spin);
    Thread thread = Thread.ofPlatform().name(CONSUMER_THREAD).daemon().start(consumer);
    long[] latencies = new long[maxTrips];
    int trips = 0;
    int timeouts = 0;
    long allocated;
    long consumerWait = 0;
    long driverWait = 0;
    try {
      long warmupEnd =
          System.nanoTime()
              + (ROUND_TRIP_WARMUP_S != null ? TimeUnit.SECONDS.toNanos(ROUND_TRIP_WARMUP_S) : ROUND_TRIP_WARMUP_BUDGET_NS);
      int warmupTrips = ROUND_TRIP_WARMUP_S != null ? Integer.MAX_VALUE : ROUND_TRIP_WARMUP;
      for (int i = 0; i < warmupTrips && System.nanoTime() < warmupEnd; i++) {
        roundTrip(bench, writer, consumer);
      }
      long allocatedBefore = THREADS.getThreadAllocatedBytes(thread.threadId());
      consumerWait = -runDelayNs(CONSUMER_THREAD);
      driverWait = -runDelayNs(null);
      long end = System.nanoTime() + budgetNs;
      while (trips < maxTrips && (trips == 0 || System.nanoTime() < end)) {
        latencies[trips++] = roundTrip(bench, writer, consumer);
        timeouts += bench.lastSeen() ? 0 : 1;
      }
      allocated = THREADS.getThreadAllocatedBytes(thread.threadId()) - allocatedBefore;
      consumerWait += runDelayNs(CONSUMER_THREAD);
      driverWait += runDelayNs(null);
    } finally {
      consumer.stop = true;
      thread.join();
    }
    double bytesPerEvent = (double) allocated / trips;
    Arrays.sort(latencies, 0, trips);
    double p50 = latencies[trips / 2] / 1e3;
    double p99 = latencies[(int) (trips * 0.99)] / 1e3;
    double p999 = latencies[(int) (trips * 0.999)] / 1e3;
    double max = latencies[trips - 1] / 1e3;
    double consumerWaitUs = consumerWait / 1e3 / trips;
    double driverWaitUs = driverWait / 1e3 / trips;
    Report.print(
        "   %-8s %-16s %,8d %7.1f %7.1f %8.1f %8.0f %8d %11.4f %6.1f / %.1f",
        spin ? "spin" : "poll",
        writer.name(),
        trips,
        p50,
        p99,
        p999,
        max,
        timeouts,
        bytesPerEvent,
        consumerWaitUs,
        driverWaitUs);
    report
        .put(key + "_p50_us", p50)
        .put(key + "_p99_us", p99)
        .put(key + "_p999_us", p999)
        .put(key + "_max_us", max)
        .put(key + "_timeouts", timeouts)
        .put(key + "_trips", trips)
        .put(key + "_consumer_bytes_per_event", bytesPerEvent)
        .put(key + "_consumer_cpu_wait_us_per_trip", consumerWaitUs)
        .put(key + "_bpf_thread_cpu_wait_us_per_trip", driverWaitUs);
  }

  private static long roundTrip(BenchEvents bench, HintWriter writer, HintingConsumer consumer)
      throws BpfException {
    long ns = bench.roundTrip(writer.hintMap(), ROUND_TRIP_SPIN_NS, ROUND_TRIP_TIMEOUT_NS);
    if (consumer.failure != null) {
      throw new IllegalStateException("the consumer failed", consumer.failure);
    }
    return ns;
  }

  /** Asks the Baton agent at {@code api} (host:port) to schedule the calling thread INTERACTIVE. */
  private static void hintThisThreadInteractive(String api) throws IOException, InterruptedException {
    String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
    try (HttpClient http = HttpClient.newHttpClient()) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://" + api + "/v1/hints/" + tid))
                  .header("Content-Type", "application/json")
                  .PUT(HttpRequest.BodyPublishers.ofString("{\"class\": \"interactive\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("the agent refused the consumer's hint: " + r.statusCode() + " " + r.body());
      }
    }
  }

  /**
   * ns that a thread of this process has spent runnable but waiting for a CPU (the kernel's
   * schedstat run_delay): the thread whose name (comm) is {@code comm}, or the calling one if null.
   */
  private static long runDelayNs(String comm) throws IOException {
    Path task = Path.of("/proc/thread-self");
    if (comm != null) {
      try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
        task =
            tasks
                .filter(t -> comm.equals(readOrEmpty(t.resolve("comm"))))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no thread named " + comm));
      }
    }
    return Long.parseLong(Files.readString(task.resolve("schedstat")).split(" ")[1]);
  }

  private static String readOrEmpty(Path file) {
    try {
      return Files.readString(file).strip();
    } catch (IOException e) {
      return ""; // the thread has exited
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }
}
