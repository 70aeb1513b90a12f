package lb.dataplane.sched;

import java.util.Random;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SourceHashSchedulerTest
{
    private static final int CLIENT_BASE = 0xC613_0000; // 198.19.0.0

    @Test
    void sameClientAlwaysGetsTheSameBackend()
    {
        final BackendPool pool = TestPools.readyPool(8, 1, 1, 1, 1);
        final Scheduler scheduler = new SourceHashScheduler(pool);
        final Random random = new Random(3);
        for (int client = 0; client < 1000; client++)
        {
            final int clientIp = CLIENT_BASE + client;
            final int first = scheduler.pick(clientIp, random.nextInt());
            assertNotEquals(Scheduler.NO_BACKEND, first);
            for (int flow = 0; flow < 20; flow++)
            {
                assertEquals(first, scheduler.pick(clientIp, random.nextInt()), "client " + client);
            }
        }
    }

    @Test
    void consecutiveAndRandomClientsSpreadEvenly()
    {
        final BackendPool pool = TestPools.readyPool(8, 1, 1, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new SourceHashScheduler(pool);
        final int clients = 30_000;

        final int[] consecutive = new int[3];
        final int[] random = new int[3];
        final Random addresses = new Random(11);
        for (int client = 0; client < clients; client++)
        {
            consecutive[TestPools.indexOf(handles, scheduler.pick(CLIENT_BASE + client, 0))]++;
            random[TestPools.indexOf(handles, scheduler.pick(addresses.nextInt(), 0))]++;
        }

        final double mean = clients / 3.0;
        final double fiveSigma = 5 * Math.sqrt(clients * (1 / 3.0) * (2 / 3.0));
        for (int i = 0; i < 3; i++)
        {
            assertTrue(Math.abs(consecutive[i] - mean) < fiveSigma, "consecutive clients on " + i + ": " + consecutive[i]);
            assertTrue(Math.abs(random[i] - mean) < fiveSigma, "random clients on " + i + ": " + random[i]);
        }
    }

    @Test
    void clientsOfARemovedBackendMoveToSurvivors()
    {
        final BackendPool pool = TestPools.readyPool(8, 1, 1, 1);
        final int[] handles = TestPools.handles(pool);
        final Scheduler scheduler = new SourceHashScheduler(pool);
        pool.remove(handles[1]);
        for (int client = 0; client < 3000; client++)
        {
            final int picked = scheduler.pick(CLIENT_BASE + client, 0);
            assertTrue(picked == handles[0] || picked == handles[2]);
        }

        pool.setAdminState(handles[0], AdminState.DRAIN);
        pool.setAdminState(handles[2], AdminState.DRAIN);
        assertEquals(Scheduler.NO_BACKEND, scheduler.pick(CLIENT_BASE, 0));
    }
}
