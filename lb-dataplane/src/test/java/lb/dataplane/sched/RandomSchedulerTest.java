package lb.dataplane.sched;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RandomSchedulerTest
{
    private static final int PICKS = 300_000;

    @Test
    void spreadsUniformlyWithinFiveSigma()
    {
        assertUniform(3, 12345L);
        assertUniform(5, 0L);
        assertUniform(7, -1L);
    }

    @Test
    void sameSeedGivesSamePicksAndOtherSeedsDiffer()
    {
        final BackendPool pool = TestPools.readyPool(16, 1, 1, 1, 1, 1, 1, 1, 1);
        final Scheduler first = new RandomScheduler(pool, 99L);
        final Scheduler second = new RandomScheduler(pool, 99L);
        final Scheduler other = new RandomScheduler(pool, 100L);
        int differences = 0;
        for (int i = 0; i < 1000; i++)
        {
            final int picked = first.pick(0, 0);
            assertEquals(picked, second.pick(0, 0));
            if (picked != other.pick(0, 0))
            {
                differences++;
            }
        }
        assertNotEquals(0, differences);
    }

    @Test
    void neverPicksAnIneligibleBackend()
    {
        final BackendPool pool = TestPools.readyPool(8, 1, 1, 1, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new RandomScheduler(pool, 5L);
        pool.setHealthy(handles[0], false);
        pool.setWeight(handles[2], 0);

        final int[] counts = WeightedRoundRobinSchedulerTest.count(scheduler, handles, 10_000);
        assertEquals(0, counts[0]);
        assertEquals(0, counts[2]);
        assertEquals(10_000, counts[1] + counts[3]);
        assertTrue(counts[1] > 4_000 && counts[3] > 4_000);
    }

    private static void assertUniform(final int backends, final long seed)
    {
        final int[] weights = new int[backends];
        java.util.Arrays.fill(weights, 1);
        final BackendPool pool = TestPools.readyPool(16, weights);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new RandomScheduler(pool, seed);

        final int[] counts = WeightedRoundRobinSchedulerTest.count(scheduler, handles, PICKS);
        final double p = 1.0 / backends;
        final double mean = PICKS * p;
        final double sigma = Math.sqrt(PICKS * p * (1 - p));
        for (int i = 0; i < backends; i++)
        {
            assertTrue(Math.abs(counts[i] - mean) < 5 * sigma,
                "backend " + i + " of " + backends + ": " + counts[i] + " vs " + mean + " +- " + 5 * sigma);
        }
    }
}
