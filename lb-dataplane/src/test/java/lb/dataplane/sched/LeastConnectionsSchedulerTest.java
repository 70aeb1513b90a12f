package lb.dataplane.sched;

import org.junit.jupiter.api.Test;

import static lb.dataplane.sched.WeightedRoundRobinSchedulerTest.assertWithinOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class LeastConnectionsSchedulerTest
{
    @Test
    void newFlowsAvoidTheLoadedBackendAndAlternateBetweenTheOthers()
    {
        final BackendPool pool = TestPools.readyPool(8, 1, 1, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new LeastConnectionsScheduler(pool);
        setActive(pool, handles, 5, 0, 0);

        for (int i = 0; i < 10; i++)
        {
            assertEquals(handles[1 + i % 2], scheduler.pick(0, i), "pick " + i);
        }
    }

    @Test
    void createdFlowsFillTheOthersUntilTheLoadsMeet()
    {
        final BackendPool pool = TestPools.readyPool(8, 1, 1, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new LeastConnectionsScheduler(pool);
        setActive(pool, handles, 5, 0, 0);

        for (int i = 0; i < 10; i++)
        {
            final int handle = scheduler.pick(0, i);
            assertEquals(handles[1 + i % 2], handle, "pick " + i);
            pool.incrementActive(handle);
        }
        assertArrayEquals(new int[]{ 5, 5, 5 }, active(pool, handles));

        createFlows(scheduler, pool, 30);
        assertArrayEquals(new int[]{ 15, 15, 15 }, active(pool, handles));
    }

    @Test
    void theFirstGetsFlowsAgainAfterItsFlowsEnd()
    {
        final BackendPool pool = TestPools.readyPool(8, 1, 1, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new LeastConnectionsScheduler(pool);
        setActive(pool, handles, 5, 3, 3);

        for (int i = 0; i < 5; i++)
        {
            pool.decrementActive(handles[0]);
        }
        assertEquals(handles[0], scheduler.pick(0, 0));
        pool.incrementActive(handles[0]);

        createFlows(scheduler, pool, 4);
        assertArrayEquals(new int[]{ 3, 4, 4 }, active(pool, handles), "fills the least loaded first");
    }

    @Test
    void equalLoadSpreadsEvenly()
    {
        final BackendPool pool = TestPools.readyPool(8, 1, 1, 1, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new LeastConnectionsScheduler(pool);

        // Without counting flows every backend stays at 0: the tie-break alone must spread them.
        assertArrayEquals(new int[]{ 100, 100, 100, 100 }, WeightedRoundRobinSchedulerTest.count(scheduler, handles, 400));
    }

    @Test
    void ignoresBackendsThatCannotTakeNewFlows()
    {
        final BackendPool pool = TestPools.readyPool(8, 1, 1, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new LeastConnectionsScheduler(pool);
        setActive(pool, handles, 9, 9, 0);
        pool.setAdminState(handles[2], AdminState.DRAIN);

        final int[] counts = WeightedRoundRobinSchedulerTest.count(scheduler, handles, 100);
        assertArrayEquals(new int[]{ 50, 50, 0 }, counts);

        pool.setAdminState(handles[0], AdminState.MAINT);
        pool.setHealthy(handles[1], false);
        assertEquals(Scheduler.NO_BACKEND, scheduler.pick(0, 0));
    }

    @Test
    void weightedNewFlowsAvoidTheLoadedBackendAndAlternate()
    {
        final BackendPool pool = TestPools.readyPool(8, 2, 1, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new LeastConnectionsScheduler(pool, true);
        setActive(pool, handles, 5, 0, 0);

        for (int i = 0; i < 10; i++)
        {
            assertEquals(handles[1 + i % 2], scheduler.pick(0, i), "pick " + i);
        }
    }

    @Test
    void weightedFlowsFollowTheWeights()
    {
        final BackendPool pool = TestPools.readyPool(8, 2, 1, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new LeastConnectionsScheduler(pool, true);
        setActive(pool, handles, 5, 0, 0);

        // 5/2 is above 0/1 until both light backends reach 3 (3/1 > 5/2).
        createFlows(scheduler, pool, 6);
        assertArrayEquals(new int[]{ 5, 3, 3 }, active(pool, handles));

        createFlows(scheduler, pool, 389);
        assertWithinOf(new int[]{ 200, 100, 100 }, active(pool, handles), 1);
    }

    @Test
    void weightedTheFirstGetsFlowsAgainAfterItsFlowsEnd()
    {
        final BackendPool pool = TestPools.readyPool(8, 2, 1, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new LeastConnectionsScheduler(pool, true);
        setActive(pool, handles, 10, 3, 3);

        assertEquals(handles[1], scheduler.pick(0, 0), "10/2 > 3/1");
        for (int i = 0; i < 6; i++)
        {
            pool.decrementActive(handles[0]);
        }
        assertEquals(handles[0], scheduler.pick(0, 1), "4/2 < 3/1");
        assertEquals(handles[0], scheduler.pick(0, 2));
    }

    @Test
    void weightedComparisonIsExactWhereIntegerDivisionWouldTie()
    {
        final BackendPool pool = TestPools.readyPool(8, 3, 3, 7);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new LeastConnectionsScheduler(pool, true);
        // 5/3 and 4/3 are both 1 in integer division, 11/7 too; only 4/3 is the least.
        setActive(pool, handles, 5, 4, 11);
        for (int i = 0; i < 4; i++)
        {
            assertEquals(handles[1], scheduler.pick(0, i));
        }
    }

    private static void createFlows(final Scheduler scheduler, final BackendPool pool, final int flows)
    {
        for (int i = 0; i < flows; i++)
        {
            pool.incrementActive(scheduler.pick(0, i));
        }
    }

    private static void setActive(final BackendPool pool, final int[] handles, final int... active)
    {
        for (int i = 0; i < handles.length; i++)
        {
            while (pool.activeFlows(handles[i]) < active[i])
            {
                pool.incrementActive(handles[i]);
            }
            while (pool.activeFlows(handles[i]) > active[i])
            {
                pool.decrementActive(handles[i]);
            }
        }
    }

    private static int[] active(final BackendPool pool, final int[] handles)
    {
        final int[] active = new int[handles.length];
        for (int i = 0; i < handles.length; i++)
        {
            active[i] = pool.activeFlows(handles[i]);
        }
        return active;
    }
}
