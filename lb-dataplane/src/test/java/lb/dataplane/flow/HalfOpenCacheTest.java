package lb.dataplane.flow;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

final class HalfOpenCacheTest
{
    private static final int CLIENT = 0xC612_000B;
    private static final int VIP = 0xC612_0064;

    @Test
    void aKeyIsTakenOnceForItsOwnServiceOnly()
    {
        final HalfOpenCache cache = new HalfOpenCache(64);
        cache.remember(CLIENT, VIP, 40_000, 80, 6, 3, 0x1_0002);
        assertEquals(HalfOpenCache.NONE, cache.take(CLIENT, VIP, 40_000, 80, 6, 4), "another service");
        assertEquals(HalfOpenCache.NONE, cache.take(CLIENT, VIP, 40_001, 80, 6, 3), "another port");
        assertEquals(HalfOpenCache.NONE, cache.take(CLIENT, VIP, 40_000, 80, 17, 3), "another protocol");
        assertEquals(0x1_0002, cache.take(CLIENT, VIP, 40_000, 80, 6, 3));
        assertEquals(HalfOpenCache.NONE, cache.take(CLIENT, VIP, 40_000, 80, 6, 3), "taken once");
    }

    @Test
    void theSameKeyAgainReplacesItsBackend()
    {
        // A SYN's flow evicted (backend 1), the retransmitted SYN's flow to another backend evicted too (2):
        // the client's ACK answers the second SYN-ACK.
        final HalfOpenCache cache = new HalfOpenCache(64);
        cache.remember(CLIENT, VIP, 40_000, 80, 6, 0, 1);
        cache.remember(CLIENT, VIP, 40_000, 80, 6, 0, 2);
        assertEquals(2, cache.take(CLIENT, VIP, 40_000, 80, 6, 0));
        assertEquals(HalfOpenCache.NONE, cache.take(CLIENT, VIP, 40_000, 80, 6, 0));
    }

    @Test
    void aSetKeepsItsNewestWaysKeys()
    {
        // One set of 8 ways: the ninth key pushes out the first, the others stay.
        final HalfOpenCache cache = new HalfOpenCache(HalfOpenCache.WAYS);
        for (int i = 0; i <= HalfOpenCache.WAYS; i++)
        {
            cache.remember(CLIENT, VIP, 40_000 + i, 80, 6, 0, i);
        }
        assertEquals(HalfOpenCache.NONE, cache.take(CLIENT, VIP, 40_000, 80, 6, 0));
        for (int i = 1; i <= HalfOpenCache.WAYS; i++)
        {
            assertEquals(i, cache.take(CLIENT, VIP, 40_000 + i, 80, 6, 0));
        }
        assertThrows(IllegalArgumentException.class, () -> new HalfOpenCache(100));
    }
}
