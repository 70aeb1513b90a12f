package lb.dataplane.sched;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchedulerKindTest
{
    @Test
    void parsesUserFacingNames()
    {
        assertEquals(SchedulerKind.RANDOM, SchedulerKind.parse("random"));
        assertEquals(SchedulerKind.ROUND_ROBIN, SchedulerKind.parse("rr"));
        assertEquals(SchedulerKind.WEIGHTED_ROUND_ROBIN, SchedulerKind.parse("wrr"));
        assertEquals(SchedulerKind.LEAST_CONNECTIONS, SchedulerKind.parse("lc"));
        assertEquals(SchedulerKind.WEIGHTED_LEAST_CONNECTIONS, SchedulerKind.parse("wlc"));
        assertEquals(SchedulerKind.SOURCE_HASH, SchedulerKind.parse("sh"));
        assertEquals(SchedulerKind.MAGLEV, SchedulerKind.parse(" Maglev "));
        for (final SchedulerKind kind : SchedulerKind.values())
        {
            assertEquals(kind, SchedulerKind.parse(kind.userName()));
            assertEquals(kind.userName(), kind.toString());
        }
    }

    @Test
    void unknownNameListsTheValidOnes()
    {
        final IllegalArgumentException error =
            assertThrows(IllegalArgumentException.class, () -> SchedulerKind.parse("least-conn"));
        assertTrue(error.getMessage().contains("'least-conn'"), error.getMessage());
        assertTrue(error.getMessage().endsWith("valid: random, rr, wrr, lc, wlc, sh, maglev"), error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SchedulerKind.parse(null));
        assertThrows(IllegalArgumentException.class, () -> SchedulerKind.parse(""));
    }

    @Test
    void factoryCreatesTheNamedAlgorithmOnThePool()
    {
        final BackendPool pool = TestPools.readyPool(16, 1, 2);
        final Class<?>[] expected = {
            RandomScheduler.class, RoundRobinScheduler.class, WeightedRoundRobinScheduler.class,
            LeastConnectionsScheduler.class, LeastConnectionsScheduler.class, SourceHashScheduler.class,
            MaglevScheduler.class };
        for (final SchedulerKind kind : SchedulerKind.values())
        {
            final Scheduler scheduler = kind.create(pool);
            assertEquals(expected[kind.ordinal()], scheduler.getClass());
            assertEquals(kind, scheduler.kind());
            assertSame(pool, scheduler.pool());
            assertTrue(pool.canTakeNewFlows(scheduler.pick(0x0A00_0001, 77)));
        }
    }
}
