package lb.dataplane.sched;

import java.util.Random;
import lb.dataplane.flow.FlowTable;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What lets any lb instance carry any flow of a DSR/IP-in-IP Maglev service: instances
 * configured alike, built independently, name the same backend for every 5-tuple. Here the two
 * "instances" differ in everything that must not matter: the order backends were added, the
 * slots they got, a backend that came and went, and the flows each scheduled before.
 */
class MaglevAgreementTest
{
    private static final int TUPLES = 100_000;
    private static final int BACKENDS = 12;
    private static final int PORT = 80;

    @Test
    void twoIndependentlyBuiltPoolsAgreeOnEveryTuple()
    {
        final BackendPool first = new BackendPool(64);
        for (int i = 0; i < BACKENDS; i++)
        {
            TestPools.addReady(first, i, 1 + i % 3);
        }
        final BackendPool second = new BackendPool(64);
        // Reverse order, and a backend that was added and removed before, so the slots differ.
        final int passing = TestPools.addReady(second, 99, 1);
        for (int i = BACKENDS - 1; i >= 0; i--)
        {
            TestPools.addReady(second, i, 1 + i % 3);
        }
        second.remove(passing);

        final MaglevScheduler a = new MaglevScheduler(first, MaglevScheduler.DEFAULT_TABLE_SIZE);
        final MaglevScheduler b = new MaglevScheduler(second, MaglevScheduler.DEFAULT_TABLE_SIZE);
        final Random random = new Random(7);
        // The second instance has scheduled other flows first: Maglev keeps no per-pick state.
        for (int i = 0; i < 1000; i++)
        {
            b.pick(random.nextInt(), random.nextInt());
        }

        final int[] perBackend = new int[BACKENDS];
        int agreed = 0;
        for (int i = 0; i < TUPLES; i++)
        {
            final int clientIp = 0xC612_0000 | random.nextInt(1 << 16);
            final int vip = 0xC612_0064;
            final int clientPort = 1024 + random.nextInt(64_512);
            final int hash = FlowTable.hash(clientIp, vip, clientPort, 8080, 6);
            final int ipA = first.ip(a.pick(clientIp, hash));
            final int ipB = second.ip(b.pick(clientIp, hash));
            if (ipA == ipB)
            {
                agreed++;
            }
            perBackend[(ipA - TestPools.ipOf(0))]++;
        }
        assertEquals(TUPLES, agreed, "tuples on the same backend in both instances");
        for (int i = 0; i < BACKENDS; i++)
        {
            // Weights 1:2:3 repeat: every backend gets its share within 10%.
            final double expected = TUPLES * (1 + i % 3) / 24.0;
            assertEquals(expected, perBackend[i], expected * 0.1, "backend " + i);
        }
    }
}
