package lb.dataplane.sched;

import java.lang.management.ManagementFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pick path allocates nothing: the bytes this thread allocates across a million picks (after
 * warm-up) stay under 1 KiB. An allocation count, not a timing.
 */
class SchedulerAllocationTest
{
    private static final int WARM_UP_PICKS = 200_000;
    private static final int MEASURED_PICKS = 1_000_000;
    private static final long MAX_BYTES = 1024;

    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();

    @ParameterizedTest
    @EnumSource(SchedulerKind.class)
    void aMillionPicksAllocateNothing(final SchedulerKind kind)
    {
        final BackendPool pool = TestPools.readyPool(16, 5, 1, 3, 2, 8, 1, 1, 4);
        final Scheduler scheduler = kind.create(pool);
        pickAndCountFlows(scheduler, pool, WARM_UP_PICKS, 1);

        assertTrue(THREADS.isThreadAllocatedMemoryEnabled());
        THREADS.getCurrentThreadAllocatedBytes(); // first call may set things up
        final long before = THREADS.getCurrentThreadAllocatedBytes();
        final long checksum = pickAndCountFlows(scheduler, pool, MEASURED_PICKS, 2);
        final long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;

        assertNotEquals(0, checksum);
        assertTrue(allocated < MAX_BYTES, kind + " allocated " + allocated + " bytes in " + MEASURED_PICKS + " picks");
    }

    @Test
    void poolChangesAndRebuildsOfRoundRobinSchedulersAllocateNothing()
    {
        final BackendPool pool = TestPools.readyPool(16, 5, 1, 3, 2, 8, 1, 1, 4);
        final int[] handles = TestPools.handles(pool);
        final Scheduler rr = new RoundRobinScheduler(pool);
        final Scheduler wrr = new WeightedRoundRobinScheduler(pool);
        final Scheduler lc = new LeastConnectionsScheduler(pool);
        for (int round = 0; round < 2; round++)
        {
            final long before = THREADS.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 20_000; i++)
            {
                final int handle = handles[i & 7];
                pool.setHealthy(handle, (i & 8) == 0);
                pool.setWeight(handle, 1 + (i & 3));
                rr.pick(0, i);
                wrr.pick(0, i);
                lc.pick(0, i);
            }
            final int readded = pool.add(TestPools.ipOf(15), 8080, 1);
            pool.remove(readded);
            final long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
            if (round == 1)
            {
                assertTrue(allocated < MAX_BYTES, "pool changes allocated " + allocated + " bytes");
            }
        }
    }

    private static long pickAndCountFlows(
        final Scheduler scheduler, final BackendPool pool, final int picks, final long seed)
    {
        long state = seed;
        long checksum = 0;
        for (int i = 0; i < picks; i++)
        {
            state ^= state << 13;
            state ^= state >>> 7;
            state ^= state << 17;
            final int handle = scheduler.pick((int)state, (int)(state >>> 32));
            checksum += handle;
            // Flows start and end as in the pipeline, so least-connections state keeps moving.
            pool.incrementActive(handle);
            if ((i & 1) == 1)
            {
                pool.decrementActive(handle);
            }
        }
        return checksum;
    }
}
