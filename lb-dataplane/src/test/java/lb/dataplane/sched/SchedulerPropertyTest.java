package lb.dataplane.sched;

import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every scheduler, under random run-time changes to its pool, picks only backends that can take
 * new flows, and NO_BACKEND exactly when there are none. Eligibility is recomputed here from the
 * pool's raw state, not taken from the pool's own list.
 */
class SchedulerPropertyTest
{
    private static final int CAPACITY = 12;
    private static final int STEPS = 3_000;
    private static final int PICKS_PER_STEP = 16;

    @ParameterizedTest
    @EnumSource(SchedulerKind.class)
    void picksOnlyEligibleBackendsUnderRandomChanges(final SchedulerKind kind)
    {
        for (long seed = 1; seed <= 3; seed++)
        {
            runRandomChanges(kind, seed);
        }
    }

    private static void runRandomChanges(final SchedulerKind kind, final long seed)
    {
        final Random random = new Random(seed * 31 + kind.ordinal());
        final BackendPool pool = new BackendPool(CAPACITY);
        final Scheduler scheduler = kind == SchedulerKind.RANDOM ?
            new RandomScheduler(pool, seed) : kind == SchedulerKind.MAGLEV ?
            new MaglevScheduler(pool, 1201) : kind.create(pool);
        assertEquals(kind, scheduler.kind());

        final int[] removed = new int[64];
        int removedCount = 0;
        final int[] flows = new int[256];
        int flowCount = 0;
        int picksWithBackend = 0;
        int picksWithout = 0;

        for (int step = 0; step < STEPS; step++)
        {
            final int[] live = TestPools.handles(pool);
            final int target = live.length == 0 ? BackendPool.NO_HANDLE : live[random.nextInt(live.length)];
            switch (random.nextInt(8))
            {
                case 0:
                    pool.add(TestPools.ipOf(random.nextInt(24)), random.nextInt(3), random.nextInt(4));
                    break;
                case 1:
                    if (pool.remove(target) && removedCount < removed.length)
                    {
                        removed[removedCount++] = target;
                    }
                    break;
                case 2:
                    pool.setWeight(target, random.nextInt(5));
                    break;
                case 3:
                    pool.setHealthy(target, random.nextInt(3) != 0);
                    break;
                case 4:
                    pool.setAdminState(target, AdminState.values()[random.nextInt(3)]);
                    break;
                case 5:
                    pool.setMac(target, random.nextInt(4) == 0 ? 0 : TestPools.FIRST_BACKEND_MAC + random.nextInt(1000) + 1);
                    break;
                case 6:
                    if (random.nextBoolean())
                    {
                        scheduler.refresh();
                    }
                    break;
                default:
                    // End some flows, including flows of removed backends (stale handles).
                    for (int i = 0; i < 8 && flowCount > 0; i++)
                    {
                        final int index = random.nextInt(flowCount);
                        pool.decrementActive(flows[index]);
                        flows[index] = flows[--flowCount];
                    }
                    break;
            }

            final int eligible = countEligible(pool);
            for (int p = 0; p < PICKS_PER_STEP; p++)
            {
                final int picked = scheduler.pick(random.nextInt(), random.nextInt());
                if (eligible == 0)
                {
                    assertEquals(Scheduler.NO_BACKEND, picked, kind + " picked with nothing eligible");
                    picksWithout++;
                    continue;
                }

                final int atStep = step;
                assertTrue(isEligible(pool, picked), () -> kind + " picked an ineligible backend at step " + atStep);
                for (int r = 0; r < removedCount; r++)
                {
                    if (removed[r] == picked)
                    {
                        fail(kind + " picked a removed backend's handle");
                    }
                }
                picksWithBackend++;
                pool.incrementActive(picked);
                if (flowCount < flows.length)
                {
                    flows[flowCount++] = picked;
                }
            }
        }

        // The random walk must have visited both regimes, or the test proves little.
        assertTrue(picksWithBackend > STEPS, kind + ": picks with a backend " + picksWithBackend);
        assertTrue(picksWithout > 0, kind + ": never had an empty pool");
    }

    private static int countEligible(final BackendPool pool)
    {
        int count = 0;
        for (final int handle : TestPools.handles(pool))
        {
            if (isEligible(pool, handle))
            {
                count++;
            }
        }
        return count;
    }

    private static boolean isEligible(final BackendPool pool, final int handle)
    {
        return pool.isLive(handle) &&
            pool.isHealthy(handle) &&
            pool.adminState(handle) == AdminState.READY &&
            pool.weight(handle) > 0 &&
            pool.mac(handle) != 0;
    }
}
