package lb.dataplane.sched;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MaglevSchedulerTest
{
    private static final int KEYS = 100_000;

    @Test
    void equalWeightsShareTheTableEvenly()
    {
        final BackendPool pool = TestPools.readyPool(32, 1, 1, 1, 1, 1, 1, 1);
        final MaglevScheduler scheduler = new MaglevScheduler(pool);
        assertEquals(MaglevScheduler.DEFAULT_TABLE_SIZE, scheduler.tableSize());

        final int[] entries = tableEntries(scheduler, TestPools.handles(pool));
        for (final int count : entries)
        {
            // Each backend claims one position per round: the shares differ by at most one.
            assertTrue(count == 65_537 / 7 || count == 65_537 / 7 + 1, "entries " + count);
        }
    }

    @Test
    void tableSharesFollowTheWeights()
    {
        final int[] weights = { 1, 2, 3, 4, 5, 10, 100 };
        final BackendPool pool = TestPools.readyPool(32, weights);
        final MaglevScheduler scheduler = new MaglevScheduler(pool);
        assertSharesFollowWeights(scheduler, TestPools.handles(pool), weights);

        // Weight changes at run time move the shares.
        final int[] handles = TestPools.handles(pool);
        pool.setWeight(handles[6], 1);
        pool.setWeight(handles[0], 50);
        assertSharesFollowWeights(scheduler, handles, new int[]{ 50, 2, 3, 4, 5, 10, 1 });
    }

    @Test
    void tableIsBuiltOnlyOverBackendsThatCanTakeNewFlows()
    {
        final BackendPool pool = TestPools.readyPool(32, 1, 1, 1, 1, 1);
        final MaglevScheduler scheduler = new MaglevScheduler(pool);
        final int[] handles = TestPools.handles(pool);
        pool.setAdminState(handles[0], AdminState.DRAIN);
        pool.setHealthy(handles[1], false);
        pool.setWeight(handles[2], 0);

        final int[] entries = tableEntries(scheduler, handles);
        assertEquals(0, entries[0] + entries[1] + entries[2]);
        assertEquals(scheduler.tableSize(), entries[3] + entries[4]);

        pool.setMac(handles[3], 0);
        pool.setAdminState(handles[4], AdminState.MAINT);
        for (int position = 0; position < scheduler.tableSize(); position++)
        {
            assertEquals(Scheduler.NO_BACKEND, scheduler.tableEntry(position));
        }
        assertEquals(Scheduler.NO_BACKEND, scheduler.pick(0, 12345));
    }

    @ParameterizedTest
    @ValueSource(ints = { 5, 10, 20 })
    void removingOneOfNMovesAboutOneNthOfFlows(final int backends)
    {
        final BackendPool pool = new BackendPool(32);
        for (int i = 0; i < backends; i++)
        {
            TestPools.addReady(pool, i, 1);
        }
        final MaglevScheduler scheduler = new MaglevScheduler(pool);
        final Random random = new Random(backends);
        final int[] flowHashes = new int[KEYS];
        final long[] before = new long[KEYS];
        for (int k = 0; k < KEYS; k++)
        {
            flowHashes[k] = random.nextInt();
            before[k] = address(pool, scheduler.pick(0, flowHashes[k]));
        }

        final int victim = TestPools.handles(pool)[random.nextInt(backends)];
        final long victimAddress = address(pool, victim);
        final int victimPort = pool.port(victim);
        assertTrue(pool.remove(victim));

        int moved = 0;
        int survivorKeys = 0;
        int survivorKeysMoved = 0;
        for (int k = 0; k < KEYS; k++)
        {
            final long after = address(pool, scheduler.pick(0, flowHashes[k]));
            assertNotEquals(victimAddress, after);
            if (after != before[k])
            {
                moved++;
            }
            if (before[k] != victimAddress)
            {
                survivorKeys++;
                if (after != before[k])
                {
                    survivorKeysMoved++;
                }
            }
        }
        final double movedFraction = moved / (double)KEYS;
        final double survivorMovedFraction = survivorKeysMoved / (double)survivorKeys;
        assertTrue(movedFraction < 1.0 / backends + 0.015, "moved " + movedFraction + " of keys");
        assertTrue(movedFraction > 1.0 / backends - 0.015, "the victim's keys must move: " + movedFraction);
        assertTrue(survivorMovedFraction < 0.01, "moved " + survivorMovedFraction + " of survivors' keys");

        // Adding it back (a new handle, maybe another slot) restores every key.
        assertNotEquals(BackendPool.NO_HANDLE, pool.add((int)(victimAddress >>> 16), victimPort, 1));
        pool.setMac(pool.find((int)(victimAddress >>> 16), victimPort), TestPools.FIRST_BACKEND_MAC + 99);
        for (int k = 0; k < KEYS; k++)
        {
            assertEquals(before[k], address(pool, scheduler.pick(0, flowHashes[k])), "key " + k);
        }
    }

    @Test
    void tableDependsOnTheBackendSetNotOnSlotsOrAddOrder()
    {
        final BackendPool forward = new BackendPool(32);
        final BackendPool backward = new BackendPool(32);
        for (int i = 0; i < 8; i++)
        {
            TestPools.addReady(forward, i, 1 + i % 3);
        }
        TestPools.addReady(backward, 20, 1); // occupies slot 0, then leaves a hole
        for (int i = 7; i >= 0; i--)
        {
            TestPools.addReady(backward, i, 1 + i % 3);
        }
        backward.remove(backward.find(TestPools.ipOf(20), 8080));

        final MaglevScheduler first = new MaglevScheduler(forward);
        final MaglevScheduler second = new MaglevScheduler(backward);
        for (int position = 0; position < first.tableSize(); position++)
        {
            assertEquals(address(forward, first.tableEntry(position)), address(backward, second.tableEntry(position)));
        }
    }

    @Test
    void pickIsTheTableEntryAtFlowHashModM()
    {
        final BackendPool pool = TestPools.readyPool(32, 1, 2, 3);
        final MaglevScheduler scheduler = new MaglevScheduler(pool, 5003);
        final Random random = new Random(1);
        for (int i = 0; i < 10_000; i++)
        {
            final int flowHash = random.nextInt();
            final long unsigned = flowHash & 0xFFFF_FFFFL;
            assertEquals(scheduler.tableEntry((int)(unsigned % 5003)), scheduler.pick(0, flowHash));
        }
        assertEquals(scheduler.tableEntry((int)(0xFFFF_FFFFL % 5003)), scheduler.pick(0, -1));
    }

    @Test
    void rejectsTableSizesThatAreNotPrimeOrTooSmall()
    {
        final BackendPool pool = new BackendPool(256);
        assertThrows(IllegalArgumentException.class, () -> new MaglevScheduler(pool, 65_536));
        assertThrows(IllegalArgumentException.class, () -> new MaglevScheduler(pool, 65_535));
        assertThrows(IllegalArgumentException.class, () -> new MaglevScheduler(pool, 65_541)); // 3 x 21847
        assertThrows(IllegalArgumentException.class, () -> new MaglevScheduler(pool, 25_599), "< 100 x 256");
        assertThrows(IllegalArgumentException.class, () -> new MaglevScheduler(pool, 101), "prime but < 100 x 256");
        assertThrows(IllegalArgumentException.class, () -> new MaglevScheduler(pool, -7));
        assertEquals(65_537, new MaglevScheduler(pool, 65_537).tableSize());
        assertEquals(25_601, new MaglevScheduler(pool, 25_601).tableSize());

        final BackendPool small = new BackendPool(2);
        assertEquals(211, new MaglevScheduler(small, 211).tableSize());
        assertThrows(IllegalArgumentException.class, () -> new MaglevScheduler(small, 199));
    }

    @Test
    void primesAndDefaultSizes()
    {
        assertTrue(MaglevScheduler.isPrime(2));
        assertTrue(MaglevScheduler.isPrime(65_537));
        assertTrue(MaglevScheduler.isPrime(100_003));
        assertFalse(MaglevScheduler.isPrime(1));
        assertFalse(MaglevScheduler.isPrime(0));
        assertFalse(MaglevScheduler.isPrime(-3));
        assertFalse(MaglevScheduler.isPrime(65_535));
        assertFalse(MaglevScheduler.isPrime(251 * 257));
        assertEquals(100_003, MaglevScheduler.smallestPrimeAtLeast(100_000));
        assertEquals(65_537, MaglevScheduler.defaultTableSize(256));
        assertEquals(65_537, MaglevScheduler.defaultTableSize(655));
        assertEquals(100_003, MaglevScheduler.defaultTableSize(1000));
        assertEquals(100_003, new MaglevScheduler(new BackendPool(1000)).tableSize());
    }

    private static void assertSharesFollowWeights(final MaglevScheduler scheduler, final int[] handles, final int[] weights)
    {
        final int[] entries = tableEntries(scheduler, handles);
        long totalWeight = 0;
        for (final int weight : weights)
        {
            totalWeight += weight;
        }
        for (int i = 0; i < handles.length; i++)
        {
            final double expected = scheduler.tableSize() * (double)weights[i] / totalWeight;
            assertTrue(Math.abs(entries[i] - expected) <= Math.max(0.02 * expected, 2),
                "backend " + i + " weight " + weights[i] + ": " + entries[i] + " entries, expected " + expected);
        }
    }

    private static int[] tableEntries(final MaglevScheduler scheduler, final int[] handles)
    {
        final int[] entries = new int[handles.length];
        for (int position = 0; position < scheduler.tableSize(); position++)
        {
            final int index = TestPools.indexOf(handles, scheduler.tableEntry(position));
            assertTrue(index >= 0, "position " + position + " holds an unknown handle");
            entries[index]++;
        }
        return entries;
    }

    /**
     * ip and port of a live backend as one number, to compare across handles and pools.
     */
    private static long address(final BackendPool pool, final int handle)
    {
        assertTrue(pool.isLive(handle), "picked a stale handle");
        return (pool.ip(handle) & 0xFFFF_FFFFL) << 16 | pool.port(handle);
    }
}
