package lb.dataplane.flow;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

final class HalfOpenCacheTest
{
    private static final int CLIENT = 0xC612_000B;
    private static final int VIP = 0xC612_0064;
    private static final long PREFIX = 0x2001_0002_0000_0000L; // 2001:2::/48

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

    /** An IPv6 cache keys on the full addresses: keys whose folds collide never take each other's backend. */
    @Test
    void anIpv6CacheTellsKeysWithTheSameFoldApart()
    {
        final HalfOpenCache cache = HalfOpenCache.ipv6(64);
        final FlowKey6 client = new FlowKey6(PREFIX, 0x11, PREFIX, 0x100, 40_000, 80, 6);
        final FlowKey6 crafted = client.withCollidingFold(0x12);
        assertEquals(client.fold(), crafted.fold());

        remember6(cache, client, 3, 0x1_0002);
        assertEquals(HalfOpenCache.NONE, take6(cache, crafted, 3), "same fold, other addresses");
        assertEquals(HalfOpenCache.NONE, take6(cache, client, 4), "another service");
        remember6(cache, crafted, 3, 0x2_0005);
        assertEquals(0x1_0002, take6(cache, client, 3));
        assertEquals(HalfOpenCache.NONE, take6(cache, client, 3), "taken once");
        assertEquals(0x2_0005, take6(cache, crafted, 3));

        remember6(cache, client, 0, 1);
        remember6(cache, client, 0, 2);
        assertEquals(2, take6(cache, client, 0), "the same key again replaces its backend");
        assertEquals(HalfOpenCache.NONE, take6(HalfOpenCache.ipv6(64), client, 0), "nothing remembered yet");
    }

    private static void remember6(final HalfOpenCache cache, final FlowKey6 key, final int service, final int backend)
    {
        cache.remember6(key.srcHigh(), key.srcLow(), key.dstHigh(), key.dstLow(), key.srcPort(), key.dstPort(),
            key.protocol(), service, backend);
    }

    private static int take6(final HalfOpenCache cache, final FlowKey6 key, final int service)
    {
        return cache.take6(key.srcHigh(), key.srcLow(), key.dstHigh(), key.dstLow(), key.srcPort(), key.dstPort(),
            key.protocol(), service);
    }
}
