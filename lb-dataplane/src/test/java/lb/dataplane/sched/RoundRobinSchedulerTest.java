package lb.dataplane.sched;

import org.junit.jupiter.api.Test;

import static lb.dataplane.sched.WeightedRoundRobinSchedulerTest.count;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class RoundRobinSchedulerTest
{
    @Test
    void threeHundredPicksOverThreeGiveExactlyOneHundredEach()
    {
        final BackendPool pool = TestPools.readyPool(8, 1, 5, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new RoundRobinScheduler(pool);

        assertArrayEquals(new int[]{ 100, 100, 100 }, count(scheduler, handles, 300));
    }

    @Test
    void takesBackendsInTurn()
    {
        final BackendPool pool = TestPools.readyPool(8, 1, 1, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new RoundRobinScheduler(pool);
        for (int i = 0; i < 30; i++)
        {
            assertEquals(handles[i % 3], scheduler.pick(0, i));
        }
    }

    @Test
    void drainedBackendGetsNothing()
    {
        final BackendPool pool = TestPools.readyPool(8, 1, 1, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new RoundRobinScheduler(pool);
        scheduler.pick(0, 0);

        pool.setAdminState(handles[1], AdminState.DRAIN);
        assertArrayEquals(new int[]{ 150, 0, 150 }, count(scheduler, handles, 300));

        pool.setAdminState(handles[1], AdminState.READY);
        assertArrayEquals(new int[]{ 100, 100, 100 }, count(scheduler, handles, 300));
    }

    @Test
    void aChangeNeitherRepeatsNorSkipsABackend()
    {
        final BackendPool pool = TestPools.readyPool(8, 1, 1, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new RoundRobinScheduler(pool);
        assertEquals(handles[0], scheduler.pick(0, 0));
        assertEquals(handles[1], scheduler.pick(0, 0));

        pool.setHealthy(handles[0], false); // shifts the eligible list under the cursor
        final int added = TestPools.addReady(pool, 3, 1);
        assertEquals(handles[2], scheduler.pick(0, 0));
        assertEquals(added, scheduler.pick(0, 0));
        assertEquals(handles[1], scheduler.pick(0, 0));

        pool.remove(handles[2]);
        assertEquals(added, scheduler.pick(0, 0));
        assertEquals(handles[1], scheduler.pick(0, 0));
    }

    @Test
    void noBackendWhenNoneEligible()
    {
        final BackendPool pool = TestPools.readyPool(4, 1);
        final Scheduler scheduler = new RoundRobinScheduler(pool);
        pool.setAdminState(TestPools.handles(pool)[0], AdminState.MAINT);
        assertEquals(Scheduler.NO_BACKEND, scheduler.pick(0, 0));
        assertEquals(Scheduler.NO_BACKEND, new RoundRobinScheduler(new BackendPool(4)).pick(0, 0));
    }
}
