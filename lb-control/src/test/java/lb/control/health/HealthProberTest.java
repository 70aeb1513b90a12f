package lb.control.health;

import java.util.ArrayList;
import java.util.List;
import lb.control.config.Ipv4;
import lb.dataplane.io.InterfaceInfo;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HealthProberTest
{
    private static final long MS = 1_000_000L;
    private static final int B1 = 0xC612010B; // 198.18.1.11
    private static final int B2 = 0xC612010C;
    private static final int B3 = 0xC612010D;

    private final List<long[]> probes = new ArrayList<>();   // {time, ip}
    private final List<String> changes = new ArrayList<>();
    private long clock;

    private HealthProber prober(final long intervalMs, final long timeoutMs)
    {
        return prober(intervalMs, timeoutMs, 0);
    }

    private HealthProber prober(final long intervalMs, final long timeoutMs, final int retries)
    {
        return new HealthProber(new int[] {B1, B2, B3}, intervalMs * MS, timeoutMs * MS, retries,
            ip -> probes.add(new long[] {clock, ip}),
            (ip, up, mac, rtt) -> changes.add(Ipv4.format(ip) + (up ? " up " + InterfaceInfo.formatMac(mac) : " down")),
            line -> { });
    }

    private void runUntil(final HealthProber p, final long endMs, final Runnable each)
    {
        for (; clock <= endMs * MS; clock += MS)
        {
            p.doWork(clock);
            each.run();
        }
    }

    @Test
    void probesEveryBackendAtOnceThenSpreadsThemOverTheCycle()
    {
        final HealthProber p = prober(5000, 3000);
        runUntil(p, 10_000, () -> { });
        // 3 at start, then one every 5000/3 ms: cycle 1 at 5000, 6666, 8332; cycle 2 at 10000.
        assertEquals(7, probes.size());
        assertEquals(0, probes.get(0)[0]);
        assertEquals(5000 * MS, probes.get(3)[0]);
        assertEquals(B2, probes.get(4)[1]);
        assertTrue(Math.abs(probes.get(4)[0] - 6666 * MS) <= MS);
        assertEquals(B1, probes.get(6)[1]);
    }

    @Test
    void replyMarksUpAndSilenceMarksDownWithinIntervalPlusTimeout()
    {
        final HealthProber p = prober(5000, 3000);
        final long[] deadAfter = {Long.MAX_VALUE};
        runUntil(p, 30_000, () ->
        {
            // Everyone answers every probe 2 ms later, except B2 after t = 12 s.
            for (final long[] probe : probes)
            {
                if (probe[0] == clock - 2 * MS && !(probe[1] == B2 && clock > 12_000 * MS))
                {
                    p.onArp((int)probe[1], 0x020000000000L | (probe[1] & 0xFF), clock);
                }
            }
            if (deadAfter[0] == Long.MAX_VALUE && changes.contains("198.18.1.12 down"))
            {
                deadAfter[0] = clock;
            }
        });
        assertTrue(changes.contains("198.18.1.11 up 02:00:00:00:00:0b"), changes.toString());
        assertTrue(changes.contains("198.18.1.12 up 02:00:00:00:00:0c"), changes.toString());
        assertTrue(p.isUp(0));
        assertFalse(p.isUp(1));
        assertTrue(p.isUp(2));
        assertTrue(deadAfter[0] - 12_000 * MS <= (5000 + 3000) * MS, "down after " + deadAfter[0] / MS + " ms");
        assertEquals(2 * MS, p.lastRttNanos(0));
        assertEquals(1, changes.stream().filter(c -> c.equals("198.18.1.12 down")).count());
    }

    @Test
    void comesBackUpWhenItAnswersAgain()
    {
        final HealthProber p = prober(1000, 500);
        runUntil(p, 3000, () -> { });
        assertTrue(changes.isEmpty(), "never answered, never up: " + changes);
        p.onArp(B3, 0x02AABBCCDDEEL, clock);
        assertEquals(List.of("198.18.1.13 up 02:aa:bb:cc:dd:ee"), changes);
        p.onArp(B3, 0x02AABBCCDDEEL, clock);
        assertEquals(1, changes.size(), "the same MAC again is no change");
        p.onArp(B3, 0x02AABBCCDDEFL, clock);
        assertEquals("198.18.1.13 up 02:aa:bb:cc:dd:ef", changes.get(1));
    }

    @Test
    void aLostReplyIsProbedAgainAtOnceAndOnlySilenceToEveryRetryMarksDown()
    {
        final HealthProber p = prober(5000, 3000, 1);
        final long[] deadAfter = {Long.MAX_VALUE};
        runUntil(p, 40_000, () ->
        {
            // Everyone answers 2 ms later, except: B1 loses the reply to its probe of the 5 s cycle only
            // (its retry is answered), and B2 answers nothing after t = 12 s.
            for (final long[] probe : probes)
            {
                final boolean lostOnce = probe[1] == B1 && probe[0] == 5000 * MS;
                final boolean dead = probe[1] == B2 && probe[0] > 12_000 * MS;
                if (probe[0] == clock - 2 * MS && !lostOnce && !dead)
                {
                    p.onArp((int)probe[1], 0x020000000000L | (probe[1] & 0xFF), clock);
                }
            }
            if (deadAfter[0] == Long.MAX_VALUE && changes.contains("198.18.1.12 down"))
            {
                deadAfter[0] = clock;
            }
        });
        assertTrue(p.isUp(0), "one lost reply did not take B1 out: " + changes);
        assertEquals(0, changes.stream().filter(c -> c.equals("198.18.1.11 down")).count(), changes.toString());
        assertTrue(probes.stream().anyMatch(pr -> pr[1] == B1 && pr[0] == 8001 * MS), "B1 probed again when its reply was overdue");
        assertFalse(p.isUp(1));
        assertTrue(deadAfter[0] - 12_000 * MS <= (5000 + 2 * 3000) * MS, "down after " + deadAfter[0] / MS + " ms");
        assertTrue(deadAfter[0] - 12_000 * MS > 3000 * MS, "not before the retry timed out too");
        assertTrue(p.isUp(2));
    }
}
