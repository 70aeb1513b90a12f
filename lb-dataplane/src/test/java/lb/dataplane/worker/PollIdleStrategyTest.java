package lb.dataplane.worker;

import java.nio.ByteBuffer;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The idle strategy spins for its configured time, never less, then sleeps in poll() and counts
 * the sleep; work resets the spin. Without sockets poll() simply waits for its timeout, which is
 * all these tests need (the wake-up on a frame is the kernel's poll()).
 */
class PollIdleStrategyTest
{
    private static final long SPIN_NANOS = 20_000_000L;
    private static final long DEADLINE_NANOS = 5_000_000_000L;

    private final CountersManager counters = new CountersManager(
        new UnsafeBuffer(ByteBuffer.allocateDirect(16 * CountersManager.METADATA_LENGTH)),
        new UnsafeBuffer(ByteBuffer.allocateDirect(16 * CountersManager.COUNTER_LENGTH)));
    private final AtomicCounter sleeps = counters.newCounter("worker_sleeps");

    @Test
    void withoutSpinTheFirstIdleCallSleeps()
    {
        final PollIdleStrategy idle = new PollIdleStrategy(0, 1, sleeps);
        idle.idle(0);
        assertEquals(1, sleeps.get());
        idle.idle(0);
        assertEquals(2, sleeps.get());
    }

    @Test
    void spinsForItsTimeBeforeItSleepsAndWorkStartsTheSpinAgain()
    {
        final PollIdleStrategy idle = new PollIdleStrategy(SPIN_NANOS, 1, sleeps);
        for (int round = 1; round <= 2; round++)
        {
            final long start = System.nanoTime();
            idle.idle(0);
            assertEquals(round - 1, sleeps.get(), "the first idle call spins");
            while (sleeps.get() < round && System.nanoTime() - start < DEADLINE_NANOS)
            {
                idle.idle(0);
            }
            final long spun = System.nanoTime() - start;
            assertEquals(round, sleeps.get(), "slept within " + DEADLINE_NANOS + " ns");
            assertTrue(spun >= SPIN_NANOS, "spun " + spun + " ns before sleeping, configured " + SPIN_NANOS);
            idle.idle(1);  // a duty cycle with work: the next empty one spins again
        }
    }

    @Test
    void afterASleepItSpinsAgainBeforeTheNextOne()
    {
        final PollIdleStrategy idle = new PollIdleStrategy(SPIN_NANOS, 1, sleeps);
        final long start = System.nanoTime();
        while (sleeps.get() < 2 && System.nanoTime() - start < DEADLINE_NANOS)
        {
            idle.idle(0);
        }
        assertEquals(2, sleeps.get());
        assertTrue(System.nanoTime() - start >= 2 * SPIN_NANOS, "a full spin before each sleep");
    }
}
