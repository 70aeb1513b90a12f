package lb.dataplane.sched;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightedRoundRobinSchedulerTest
{
    @Test
    void weights28To3To2GiveExactly28And3And2OfEvery33Picks()
    {
        assertExactPerCycle(new int[]{ 28, 3, 2 }, 200);
    }

    @Test
    void weights2To1To1GiveExactly2And1And1OfEvery4Picks()
    {
        assertExactPerCycle(new int[]{ 2, 1, 1 }, 500);
    }

    @Test
    void firstCyclesMatchNginxSmoothSequences()
    {
        // nginx's documented example: weights {5, 1, 1} give { a, a, b, a, c, a, a }.
        assertEquals("AABACAA", sequence(new int[]{ 5, 1, 1 }, 7));
        assertEquals("ABCAABCA", sequence(new int[]{ 2, 1, 1 }, 8));
        assertEquals("AAAABAAAACAAAAAABAAAAAACAAAABAAAA", sequence(new int[]{ 28, 3, 2 }, 33));
    }

    @Test
    void everyPrefixStaysWithinOnePickOfTheExactShare()
    {
        // Smoothness: after t picks from a cycle start, |picks_i - t * w_i / W| < 1, so a light
        // backend's picks are spread over the cycle rather than bunched. This holds for three
        // backends (checked here over random weights too).
        assertWithinPicksOfShare(new int[]{ 28, 3, 2 }, 33 * 20, 1);
        assertWithinPicksOfShare(new int[]{ 2, 1, 1 }, 4 * 100, 1);

        final Random random = new Random(42);
        for (int trial = 0; trial < 300; trial++)
        {
            assertWithinPicksOfShare(randomWeights(random, 3), 300, 1);
        }
    }

    @Test
    void manyBackendsStayWithinTwoPicksOfTheExactShare()
    {
        // With more backends the smooth algorithm can drift slightly more than one pick (about
        // 1.2 seen for 7 backends with weights 81:81:1:5:3:1:1), never by whole cycles.
        final Random random = new Random(7);
        for (int trial = 0; trial < 300; trial++)
        {
            final int[] weights = randomWeights(random, 1 + random.nextInt(8));
            assertWithinPicksOfShare(weights, sum(weights) * 3, 2);
        }
    }

    @Test
    void runsAreBoundedByTheShare()
    {
        // From |picks - share| < 1 a run of r picks of one backend has r * (W - w) / W < 2.
        // Plain weighted round robin would give the heavy backend of 28:3:2 all 28 in a row.
        final int[] longest28 = longestRuns(new int[]{ 28, 3, 2 }, 33 * 10);
        assertTrue(longest28[0] < 2 * 33 / (33 - 28) + 1, "heavy run " + longest28[0]);
        assertEquals(8, longest28[0], "four at the end of a cycle, four at the start of the next");
        assertEquals(1, longest28[1], "weight 3 never twice in a row");
        assertEquals(1, longest28[2], "weight 2 never twice in a row");

        assertArrayEquals(new int[]{ 2, 1, 1 }, longestRuns(new int[]{ 2, 1, 1 }, 4 * 10));
    }

    @Test
    void weightChangeAtRunTimeChangesTheRatio()
    {
        final BackendPool pool = TestPools.readyPool(8, 28, 3, 2);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new WeightedRoundRobinScheduler(pool);
        final int[] before = count(scheduler, handles, 33 * 10 + 7); // change mid-cycle
        assertTrue(before[0] >= 28 * 10);

        pool.setWeight(handles[0], 1);
        pool.setWeight(handles[1], 1);
        pool.setWeight(handles[2], 1);
        assertWithinOf(new int[]{ 100, 100, 100 }, count(scheduler, handles, 300), 1);

        pool.setWeight(handles[0], 1);
        pool.setWeight(handles[1], 2);
        pool.setWeight(handles[2], 5);
        assertWithinOf(new int[]{ 100, 200, 500 }, count(scheduler, handles, 800), 1);
    }

    @Test
    void eligibilityChangesAreFollowed()
    {
        final BackendPool pool = TestPools.readyPool(8, 28, 3, 2);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new WeightedRoundRobinScheduler(pool);
        count(scheduler, handles, 50);

        pool.setAdminState(handles[1], AdminState.DRAIN);
        final int[] drained = count(scheduler, handles, 300);
        assertEquals(0, drained[1]);
        assertWithinOf(new int[]{ 280, 0, 20 }, drained, 2);

        pool.setAdminState(handles[1], AdminState.READY);
        final int newcomer = TestPools.addReady(pool, 3, 33);
        final int[] withNewcomer = count(scheduler, new int[]{ handles[0], handles[1], handles[2], newcomer }, 660);
        assertWithinOf(new int[]{ 280, 30, 20, 330 }, withNewcomer, 2);

        pool.remove(newcomer);
        pool.setHealthy(handles[0], false);
        final int[] withoutHeavy = count(scheduler, handles, 500);
        assertWithinOf(new int[]{ 0, 300, 200 }, withoutHeavy, 2);
    }

    @Test
    void noBackendWhenNoneEligible()
    {
        final BackendPool pool = TestPools.readyPool(4, 3, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new WeightedRoundRobinScheduler(pool);
        pool.setWeight(handles[0], 0);
        pool.setMac(handles[1], 0);
        assertEquals(Scheduler.NO_BACKEND, scheduler.pick(1, 1));

        pool.setMac(handles[1], TestPools.FIRST_BACKEND_MAC + 9);
        assertEquals(handles[1], scheduler.pick(1, 1));
    }

    private static void assertExactPerCycle(final int[] weights, final int cycles)
    {
        final BackendPool pool = TestPools.readyPool(8, weights);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new WeightedRoundRobinScheduler(pool);
        final int total = sum(weights);
        for (int cycle = 0; cycle < cycles; cycle++)
        {
            assertArrayEquals(weights, count(scheduler, handles, total), "cycle " + cycle);
        }
    }

    private static int[] randomWeights(final Random random, final int count)
    {
        final int[] weights = new int[count];
        final int bound = random.nextBoolean() ? 5 : 100;
        for (int i = 0; i < count; i++)
        {
            weights[i] = 1 + random.nextInt(bound);
        }
        return weights;
    }

    private static void assertWithinPicksOfShare(final int[] weights, final int picks, final int maxDeviation)
    {
        final BackendPool pool = TestPools.readyPool(16, weights);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new WeightedRoundRobinScheduler(pool);
        final long total = sum(weights);
        final long[] counts = new long[weights.length];
        for (int t = 1; t <= picks; t++)
        {
            counts[TestPools.indexOf(handles, scheduler.pick(0, t))]++;
            for (int i = 0; i < weights.length; i++)
            {
                final long scaledDeviation = Math.abs(counts[i] * total - (long)t * weights[i]);
                final int time = t;
                assertTrue(scaledDeviation < total * maxDeviation, () -> "weights " + Arrays.toString(weights) +
                    " drift by " + maxDeviation + " picks or more after " + time);
            }
        }
    }

    private static String sequence(final int[] weights, final int picks)
    {
        final BackendPool pool = TestPools.readyPool(8, weights);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new WeightedRoundRobinScheduler(pool);
        final StringBuilder sequence = new StringBuilder();
        for (int i = 0; i < picks; i++)
        {
            sequence.append((char)('A' + TestPools.indexOf(handles, scheduler.pick(0, i))));
        }
        return sequence.toString();
    }

    private static int[] longestRuns(final int[] weights, final int picks)
    {
        final BackendPool pool = TestPools.readyPool(8, weights);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new WeightedRoundRobinScheduler(pool);
        final int[] longest = new int[weights.length];
        int previous = -1;
        int run = 0;
        for (int t = 0; t < picks; t++)
        {
            final int index = TestPools.indexOf(handles, scheduler.pick(0, t));
            run = index == previous ? run + 1 : 1;
            previous = index;
            longest[index] = Math.max(longest[index], run);
        }
        return longest;
    }

    static int[] count(final Scheduler scheduler, final int[] handles, final int picks)
    {
        final int[] counts = new int[handles.length];
        for (int i = 0; i < picks; i++)
        {
            final int index = TestPools.indexOf(handles, scheduler.pick(0x0A00_0001, i));
            assertTrue(index >= 0, "picked a handle outside the expected set");
            counts[index]++;
        }
        return counts;
    }

    static void assertWithinOf(final int[] expected, final int[] actual, final int tolerance)
    {
        for (int i = 0; i < expected.length; i++)
        {
            final int index = i;
            assertTrue(Math.abs(expected[i] - actual[i]) <= tolerance, () -> "backend " + index + ": expected " +
                Arrays.toString(expected) + " +-" + tolerance + " but got " + Arrays.toString(actual));
        }
    }

    private static int sum(final int[] weights)
    {
        int total = 0;
        for (final int weight : weights)
        {
            total += weight;
        }
        return total;
    }
}
