package lb.dataplane.sched;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackendPoolTest
{
    private static final int IP_A = 0xC612_0001; // 198.18.0.1
    private static final int IP_B = 0xC612_0002;
    private static final int IP_HIGH = 0xFFFF_FF01; // negative as an int
    private static final long MAC_A = 0x0200_0000_0001L;

    @Test
    void addStoresTheBackendAndStartsHealthyReadyWithUnknownMac()
    {
        final BackendPool pool = new BackendPool(4);
        final int handle = pool.add(IP_A, 8080, 7);

        assertTrue(pool.isLive(handle));
        assertEquals(1, pool.size());
        assertEquals(IP_A, pool.ip(handle));
        assertEquals(8080, pool.port(handle));
        assertEquals(7, pool.weight(handle));
        assertEquals(0L, pool.mac(handle));
        assertTrue(pool.isHealthy(handle));
        assertEquals(AdminState.READY, pool.adminState(handle));
        assertEquals(0, pool.activeFlows(handle));
        assertEquals(0L, pool.newFlowsTotal(handle));
        assertEquals(handle, pool.find(IP_A, 8080));
        assertEquals(handle, pool.handleAt(BackendPool.slotOf(handle)));

        assertFalse(pool.canTakeNewFlows(handle), "no MAC yet");
        assertTrue(pool.canCarryFlows(handle));
        assertEquals(0, pool.eligibleCount());

        assertTrue(pool.setMac(handle, MAC_A));
        assertEquals(MAC_A, pool.mac(handle));
        assertTrue(pool.canTakeNewFlows(handle));
        assertEquals(1, pool.eligibleCount());
        assertEquals(handle, pool.eligibleHandle(0));
    }

    @Test
    void handlesArePositiveAndCarrySlotAndGeneration()
    {
        final BackendPool pool = new BackendPool(4);
        final int first = pool.add(IP_A, 80, 1);
        final int second = pool.add(IP_B, 80, 1);

        assertEquals(0, BackendPool.slotOf(first));
        assertEquals(1, BackendPool.slotOf(second));
        assertEquals(1, BackendPool.generationOf(first));
        assertTrue(first > 0 && second > 0);
        assertFalse(pool.isLive(0));
        assertFalse(pool.isLive(BackendPool.NO_HANDLE));
        assertFalse(pool.isLive(Integer.MIN_VALUE | first));
        assertFalse(pool.isLive((1 << BackendPool.SLOT_BITS) | 3), "free slot");
        assertFalse(pool.isLive((1 << BackendPool.SLOT_BITS) | 9), "slot beyond capacity");
    }

    @Test
    void duplicateAddressIsRefusedButSameIpOtherPortIsNot()
    {
        final BackendPool pool = new BackendPool(4);
        final int handle = pool.add(IP_A, 80, 1);

        assertEquals(BackendPool.NO_HANDLE, pool.add(IP_A, 80, 5));
        assertEquals(1, pool.size());
        assertEquals(1, pool.weight(handle), "refused add must not touch the existing backend");

        final int otherPort = pool.add(IP_A, 81, 1);
        assertNotEquals(BackendPool.NO_HANDLE, otherPort);
        final int servicePort = pool.add(IP_A, 0, 1);
        assertNotEquals(BackendPool.NO_HANDLE, servicePort);
        assertEquals(servicePort, pool.find(IP_A, 0));
        assertEquals(BackendPool.NO_HANDLE, pool.find(IP_B, 80));
    }

    @Test
    void fullPoolRefusesUntilASlotIsFreed()
    {
        final BackendPool pool = new BackendPool(3);
        final int[] handles = new int[3];
        for (int i = 0; i < 3; i++)
        {
            handles[i] = pool.add(IP_A + i, 80, 1);
            assertNotEquals(BackendPool.NO_HANDLE, handles[i]);
        }

        assertEquals(BackendPool.NO_HANDLE, pool.add(IP_HIGH, 80, 1));
        assertEquals(3, pool.size());

        assertTrue(pool.remove(handles[1]));
        final int reused = pool.add(IP_HIGH, 80, 1);
        assertEquals(1, BackendPool.slotOf(reused));
        assertEquals(IP_HIGH, pool.ip(reused));
    }

    @Test
    void slotReuseIsDetectedThroughTheGeneration()
    {
        final BackendPool pool = new BackendPool(2);
        final int old = pool.add(IP_A, 80, 1);
        pool.setMac(old, MAC_A);
        pool.incrementActive(old);
        pool.incrementActive(old);

        assertTrue(pool.remove(old));
        assertFalse(pool.isLive(old));
        assertFalse(pool.remove(old), "second remove of the same handle");
        assertEquals(0, pool.size());

        final int reused = pool.add(IP_B, 80, 1);
        pool.setMac(reused, MAC_A + 1);
        assertEquals(BackendPool.slotOf(old), BackendPool.slotOf(reused));
        assertNotEquals(old, reused);
        assertEquals(BackendPool.generationOf(old) + 1, BackendPool.generationOf(reused));
        assertTrue(pool.isLive(reused));
        assertFalse(pool.isLive(old));
        assertEquals(0, pool.activeFlows(reused), "counters start fresh");

        pool.incrementActive(reused);
        assertFalse(pool.decrementActive(old), "a flow of the removed backend ends");
        assertFalse(pool.incrementActive(old));
        assertEquals(1, pool.activeFlows(reused), "the new occupant's count is untouched");

        assertFalse(pool.setWeight(old, 9));
        assertFalse(pool.setHealthy(old, false));
        assertFalse(pool.setAdminState(old, AdminState.MAINT));
        assertFalse(pool.setMac(old, 0));
        assertFalse(pool.canTakeNewFlows(old));
        assertFalse(pool.canCarryFlows(old));
        assertEquals(1, pool.weight(reused));
        assertTrue(pool.canTakeNewFlows(reused));
    }

    @Test
    void generationWrapsBackToOneAndHandlesStayPositive()
    {
        final BackendPool pool = new BackendPool(1);
        int previous = pool.add(IP_A, 80, 1);
        for (int i = 1; i < BackendPool.MAX_GENERATION + 3; i++)
        {
            assertTrue(pool.remove(previous));
            final int handle = pool.add(IP_A, 80, 1);
            assertTrue(handle > 0);
            assertNotEquals(previous, handle);
            assertFalse(pool.isLive(previous));
            final int expectedGeneration = i % BackendPool.MAX_GENERATION + 1;
            assertEquals(expectedGeneration, BackendPool.generationOf(handle));
            previous = handle;
        }
    }

    @Test
    void activeFlowsNeverGoBelowZeroAndNewFlowsOnlyRise()
    {
        final BackendPool pool = new BackendPool(1);
        final int handle = pool.add(IP_A, 80, 1);

        assertTrue(pool.incrementActive(handle));
        assertTrue(pool.incrementActive(handle));
        assertEquals(2, pool.activeFlows(handle));
        assertEquals(2L, pool.newFlowsTotal(handle));

        for (int i = 0; i < 5; i++)
        {
            assertTrue(pool.decrementActive(handle));
        }
        assertEquals(0, pool.activeFlows(handle));
        assertEquals(2L, pool.newFlowsTotal(handle));
    }

    @Test
    void eligibilityFollowsHealthAdminStateWeightAndMac()
    {
        final BackendPool pool = new BackendPool(4);
        final int handle = pool.add(IP_A, 80, 1);
        pool.setMac(handle, MAC_A);
        assertTrue(pool.canTakeNewFlows(handle));

        pool.setHealthy(handle, false);
        assertFalse(pool.canTakeNewFlows(handle));
        assertFalse(pool.canCarryFlows(handle), "a down backend carries nothing");
        pool.setHealthy(handle, true);

        pool.setAdminState(handle, AdminState.DRAIN);
        assertFalse(pool.canTakeNewFlows(handle));
        assertTrue(pool.canCarryFlows(handle), "drained backends keep their flows");

        pool.setAdminState(handle, AdminState.MAINT);
        assertFalse(pool.canTakeNewFlows(handle));
        assertFalse(pool.canCarryFlows(handle));
        pool.setAdminState(handle, AdminState.READY);

        pool.setWeight(handle, 0);
        assertFalse(pool.canTakeNewFlows(handle));
        assertTrue(pool.canCarryFlows(handle), "weight 0 keeps established flows");
        pool.setWeight(handle, 3);

        pool.setMac(handle, 0);
        assertFalse(pool.canTakeNewFlows(handle));
        pool.setMac(handle, MAC_A);
        assertTrue(pool.canTakeNewFlows(handle));
    }

    @Test
    void eligibleListHoldsExactlyTheEligibleHandlesInSlotOrder()
    {
        final BackendPool pool = TestPools.readyPool(8, 1, 1, 1, 1, 1);
        final int[] all = TestPools.handles(pool);
        pool.setHealthy(all[1], false);
        pool.setAdminState(all[3], AdminState.DRAIN);

        assertArrayEquals(new int[]{ all[0], all[2], all[4] }, eligible(pool));

        pool.remove(all[0]);
        pool.setHealthy(all[1], true);
        assertArrayEquals(new int[]{ all[1], all[2], all[4] }, eligible(pool));
    }

    @Test
    void versionAdvancesOnChangesOnlyAndNotOnFlowCounts()
    {
        final BackendPool pool = new BackendPool(4);
        long version = pool.version();
        final int handle = pool.add(IP_A, 80, 1);
        version = assertAdvanced(pool, version);

        pool.setMac(handle, MAC_A);
        version = assertAdvanced(pool, version);
        pool.setMac(handle, MAC_A);
        assertEquals(version, pool.version(), "same MAC again (every ARP reply)");

        pool.setHealthy(handle, true);
        assertEquals(version, pool.version(), "already healthy");
        pool.setHealthy(handle, false);
        version = assertAdvanced(pool, version);

        pool.setWeight(handle, 1);
        assertEquals(version, pool.version());
        pool.setWeight(handle, 2);
        version = assertAdvanced(pool, version);

        pool.setAdminState(handle, AdminState.DRAIN);
        version = assertAdvanced(pool, version);

        pool.incrementActive(handle);
        pool.decrementActive(handle);
        assertEquals(version, pool.version());

        assertEquals(BackendPool.NO_HANDLE, pool.add(IP_A, 80, 1));
        assertEquals(version, pool.version(), "refused add");

        pool.remove(handle);
        assertAdvanced(pool, version);
    }

    @Test
    void rejectsOutOfRangeArguments()
    {
        assertThrows(IllegalArgumentException.class, () -> new BackendPool(0));
        assertThrows(IllegalArgumentException.class, () -> new BackendPool(BackendPool.MAX_CAPACITY + 1));

        final BackendPool pool = new BackendPool(2);
        assertThrows(IllegalArgumentException.class, () -> pool.add(IP_A, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> pool.add(IP_A, 65_536, 1));
        assertThrows(IllegalArgumentException.class, () -> pool.add(IP_A, 80, -1));
        assertThrows(IllegalArgumentException.class, () -> pool.add(IP_A, 80, BackendPool.MAX_WEIGHT + 1));
        assertEquals(0, pool.size());

        final int handle = pool.add(IP_A, 80, BackendPool.MAX_WEIGHT);
        assertThrows(IllegalArgumentException.class, () -> pool.setWeight(handle, -1));
        assertThrows(IllegalArgumentException.class, () -> pool.setMac(handle, 1L << 48));
        assertThrows(NullPointerException.class, () -> pool.setAdminState(handle, null));
        assertEquals(BackendPool.MAX_WEIGHT, pool.weight(handle));
    }

    @Test
    void defaultCapacityIs256()
    {
        final BackendPool pool = new BackendPool();
        assertEquals(BackendPool.DEFAULT_CAPACITY, pool.capacity());
        assertEquals(256, pool.capacity());
    }

    private static long assertAdvanced(final BackendPool pool, final long before)
    {
        final long after = pool.version();
        assertNotEquals(before, after);
        return after;
    }

    private static int[] eligible(final BackendPool pool)
    {
        final int[] handles = new int[pool.eligibleCount()];
        for (int i = 0; i < handles.length; i++)
        {
            handles[i] = pool.eligibleHandle(i);
        }
        return handles;
    }
}
