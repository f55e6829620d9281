package dev.baton.bpf;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RingBufferTest {
    private Producer producer;
    private RingBuffer ring;

    @BeforeEach
    void setUp() throws BpfException {
        producer = new Producer();
        ring = producer.object.ringBuffer("ring");
    }

    @AfterEach
    void tearDown() {
        producer.close();
    }

    /** Records the kernel can hold at once: it keeps producer - consumer below the ring size. */
    private static int capacity(int size) {
        return (Producer.RING_SIZE - 1) / Producer.footprint(size);
    }

    /** Consumes everything and returns the seqs seen, checking each record's shape. */
    private List<Long> drain() {
        List<Long> seqs = new ArrayList<>();
        ring.consume(r -> {
            long seq = r.getLong(0);
            assertThat(r.getLong(8)).as("stamp of %d", seq).isEqualTo(Producer.STAMP);
            if (r.size() > 16) {
                assertThat(r.getByte(r.size() - 1)).as("last byte of %d", seq).isEqualTo((byte) seq);
            }
            seqs.add(seq);
        });
        return seqs;
    }

    @Test
    void deliversEveryRecordOnceAndInOrderAcrossManyWrapArounds() throws BpfException {
        int[] sizes = {16, 17, 20, 31, 64, 100, 250, 1000};
        long seq = 0;
        long bytes = 0;
        for (int round = 0; round < 1000; round++) {
            int size = sizes[round % sizes.length];
            int count = 1 + round % capacity(size); // varying batches put records across the wrap point
            assertThat(producer.produce(seq, count, size)).isEqualTo(count);
            long first = seq;
            long[] next = {first};
            int delivered = ring.consume(r -> {
                assertThat(r.size()).isEqualTo(size);
                assertThat(r.getLong(0)).isEqualTo(next[0]++);
                assertThat(r.getLong(8)).isEqualTo(Producer.STAMP);
                if (size > 16) {
                    assertThat(r.getByte(size - 1)).isEqualTo((byte) r.getLong(0));
                }
            });
            assertThat(delivered).isEqualTo(count);
            assertThat(next[0]).isEqualTo(first + count);
            seq += count;
            bytes += (long) count * Producer.footprint(size);
        }
        assertThat(seq).isGreaterThan(10_000);
        assertThat(bytes / Producer.RING_SIZE).as("wrap-arounds").isGreaterThan(500);
        assertThat(producer.drops()).isZero();
        assertThat(ring.consume(r -> { throw new AssertionError("ring should be empty"); })).isZero();
    }

    @Test
    void skipsDiscardedRecordsAndReclaimsTheirSpace() throws BpfException {
        int size = 40;
        int count = capacity(size);
        assertThat(producer.produce(0, count, size, 3)).isEqualTo(count - (count + 2) / 3);

        assertThat(drain()).containsExactlyElementsOf(
                LongStream.range(0, count).filter(s -> s % 3 != 0).boxed().toList());
        // Only possible if the consumer moved past the discarded records too, the last one included.
        assertThat(producer.produce(count, count, size)).isEqualTo(count);
        assertThat(drain()).hasSize(count);
        assertThat(producer.drops()).isZero();
    }

    @ParameterizedTest
    @ValueSource(ints = {16, 24, 100, 1000})
    void aFullRingDropsExactlyWhatDoesNotFit(int size) throws BpfException {
        int capacity = capacity(size);
        int excess = 7;

        assertThat(producer.produce(0, capacity + excess, size)).isEqualTo(capacity);
        assertThat(producer.drops()).isEqualTo(excess);
        assertThat(drain()).containsExactlyElementsOf(LongStream.range(0, capacity).boxed().toList());

        assertThat(producer.produce(capacity, capacity, size)).as("space reclaimed").isEqualTo(capacity);
        assertThat(producer.drops()).isEqualTo(excess);
    }

    @Test
    void consumingAllocatesNothing() throws BpfException {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long[] sum = {0};
        RecordHandler handler = r -> sum[0] += r.getLong(0);
        long[] allocated = new long[101];
        for (int round = 0; round < allocated.length; round++) {
            producer.produce(0, 100, 16);
            long before = threads.getCurrentThreadAllocatedBytes();
            int delivered = ring.consume(handler);
            allocated[round] = threads.getCurrentThreadAllocatedBytes() - before;
            assertThat(delivered).isEqualTo(100);
        }
        // The median, because class loading or deoptimization now and then allocates in a round.
        Arrays.sort(allocated);
        assertThat(allocated[allocated.length / 2]).as("bytes allocated consuming 100 records").isZero();
    }

    @Test
    void pollTimesOutWithNothingWhenEmpty() throws Exception {
        long start = System.nanoTime();
        int delivered = CompletableFuture.supplyAsync(() -> poll(200)).get(30, TimeUnit.SECONDS);
        Duration waited = Duration.ofNanos(System.nanoTime() - start);

        assertThat(delivered).isZero();
        assertThat(waited).isGreaterThanOrEqualTo(Duration.ofMillis(150));
    }

    @Test
    void pollWakesUpWhenARecordArrives() throws Exception {
        CompletableFuture<Integer> poller = CompletableFuture.supplyAsync(() -> poll(60_000));
        Thread.sleep(200);
        assertThat(poller).isNotDone();

        producer.produce(0, 1, 16);
        assertThat(poller.get(30, TimeUnit.SECONDS)).isEqualTo(1);
    }

    @Test
    void pollReturnsWhatIsAlreadyThereWithoutWaiting() throws BpfException {
        producer.produce(0, 5, 16);
        assertThat(ring.poll(60_000, r -> { })).isEqualTo(5);
    }

    private int poll(int timeoutMs) {
        try {
            return ring.poll(timeoutMs, r -> { });
        } catch (BpfException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aThrowingHandlerStopsAfterItsRecordWhichIsNotRedelivered() throws BpfException {
        producer.produce(0, 10, 16);

        assertThatThrownBy(() -> ring.consume(r -> {
            if (r.getLong(0) == 4) {
                throw new IllegalArgumentException("boom");
            }
        })).hasMessage("boom");
        assertThat(drain()).containsExactly(5L, 6L, 7L, 8L, 9L);
    }

    @Test
    void recordViewIsBoundedAndOnlyValidDuringTheCallback() throws BpfException {
        producer.produce(7, 1, 20);
        AtomicReference<RecordView> escaped = new AtomicReference<>();

        assertThat(ring.consume(r -> {
            escaped.set(r);
            assertThat(r.getInt(0)).isEqualTo(7); // little-endian low half of seq
            assertThat(r.getCString(8, 64)).isEqualTo("stamp42");
            assertThat(r.getCString(8, 3)).isEqualTo("sta");
            byte[] dst = new byte[10];
            r.getBytes(8, dst, 2, 5);
            assertThat(new String(dst, 2, 5, StandardCharsets.US_ASCII)).isEqualTo("stamp");
            assertThatThrownBy(() -> r.getLong(13)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> r.getByte(-1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> r.getBytes(16, dst, 0, 5)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> r.getBytes(0, dst, 0, -1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> r.getLong(Long.MAX_VALUE)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThat(r.getByte(19)).as("the last byte: low byte of seq").isEqualTo((byte) 7);
        })).isEqualTo(1);

        assertThatThrownBy(() -> escaped.get().getLong(0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> escaped.get().size()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aRecordIsReadableOnlyFromTheConsumingThread() throws Exception {
        producer.produce(3, 1, 16);
        AtomicReference<Throwable> fromElsewhere = new AtomicReference<>();

        assertThat(ring.consume(r -> {
            Thread other = Thread.ofPlatform().start(() -> {
                try {
                    r.getLong(0);
                } catch (Throwable t) {
                    fromElsewhere.set(t);
                }
            });
            try {
                other.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            assertThat(r.getLong(0)).isEqualTo(3);
        })).isEqualTo(1);
        assertThat(fromElsewhere.get()).isInstanceOf(WrongThreadException.class);
    }

    @Test
    void closingFromTheHandlerStopsAfterThatRecordAndUnmapsOnReturn() throws BpfException {
        producer.produce(0, 10, 16);
        List<Long> seen = new ArrayList<>();

        assertThat(ring.consume(r -> {
            seen.add(r.getLong(0));
            if (r.getLong(0) == 3) {
                ring.close();
                assertThat(r.getLong(0)).as("still mapped until the handler returns").isEqualTo(3);
            }
        })).isEqualTo(4);
        assertThat(seen).containsExactly(0L, 1L, 2L, 3L);
        assertThatThrownBy(() -> ring.consume(r -> { })).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void closingFromAnotherThreadWaitsForTheConsumeInProgress() throws Exception {
        producer.produce(0, 2, 16);
        CountDownLatch inHandler = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Integer> consumer = CompletableFuture.supplyAsync(() -> ring.consume(r -> {
            inHandler.countDown();
            await(release);
            assertThat(r.getLong(0)).isIn(0L, 1L);
        }));
        assertThat(inHandler.await(30, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<Void> closer = CompletableFuture.runAsync(ring::close);
        Thread.sleep(200);
        assertThat(closer).as("close() while a record is being handled").isNotDone();
        release.countDown();
        assertThat(consumer.get(30, TimeUnit.SECONDS)).isEqualTo(2);
        closer.get(30, TimeUnit.SECONDS);
        assertThatThrownBy(() -> ring.consume(r -> { })).isInstanceOf(IllegalStateException.class);
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(30, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void closingTheObjectUnmapsTheRing() {
        producer.close();
        ring.close(); // idempotent after the object closed it

        assertThatThrownBy(() -> ring.consume(r -> { })).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> ring.poll(10, r -> { })).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void onlyRingBufferMapsMakeRingBuffers() {
        assertThatThrownBy(() -> producer.object.ringBuffer("stats"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rb_test.stats");
    }
}
