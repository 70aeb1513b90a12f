package lb.dataplane.spread;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NextHopGroupTest
{
    private static NextHopGroup group(final int hops)
    {
        final NextHopGroup group = new NextHopGroup(42);
        for (int i = 0; i < hops; i++)
        {
            final int hop = group.add(0xC6120100 + 11 + i);
            group.setUsable(hop, true, 0x020000000001L + i);
        }
        return group;
    }

    @Test
    void perPacketIsStrictRoundRobinOverUsableHops()
    {
        final NextHopGroup group = group(3);
        final int[] counts = new int[3];
        for (int i = 0; i < 3001; i++)
        {
            counts[group.pickPacket()]++;
        }
        assertTrue(Math.max(counts[0], Math.max(counts[1], counts[2])) - Math.min(counts[0], Math.min(counts[1], counts[2])) <= 1);
        group.setUsable(1, false, 0);
        int last = group.pickPacket();
        for (int i = 0; i < 100; i++)
        {
            final int hop = group.pickPacket();
            assertTrue(hop != 1 && hop != last, "alternates 0 and 2: " + last + " then " + hop);
            last = hop;
        }
        group.setUsable(0, false, 0);
        group.setUsable(2, false, 0);
        assertEquals(NextHopGroup.NO_HOP, group.pickPacket());
        assertEquals(NextHopGroup.NO_HOP, group.pickRandom());
        assertEquals(NextHopGroup.NO_HOP, group.pickHash(7));
        assertEquals(NextHopGroup.NO_HOP, group.pickLeast());
    }

    @Test
    void aHopWithoutMacIsNotUsable()
    {
        final NextHopGroup group = new NextHopGroup(1);
        final int hop = group.add(0xC612010B);
        assertTrue(!group.setUsable(hop, true, 0));
        assertEquals(0, group.usableCount());
        assertTrue(group.setUsable(hop, true, 0x02AABBCCDDEEL));
        assertEquals(hop, group.pickPacket());
    }

    @Test
    void removingAHopMovesOnlyItsFlowsAndAddingItBackOnlyItsShare()
    {
        final NextHopGroup group = group(4);
        final int flows = 100_000;
        final int[] hashes = new int[flows];
        final int[] before = new int[flows];
        final SplittableRandom random = new SplittableRandom(5);
        final int[] perHop = new int[4];
        for (int i = 0; i < flows; i++)
        {
            hashes[i] = random.nextInt();
            before[i] = group.pickHash(hashes[i]);
            perHop[before[i]]++;
        }
        assertBucketsEven(group);
        for (final int n : perHop)
        {
            assertTrue(Math.abs(n - flows / 4) < flows / 40, "even spread: " + Arrays.toString(perHop));
        }

        group.setUsable(2, false, 0);
        assertBucketsEven(group);
        int moved = 0;
        final int[] during = new int[flows];
        for (int i = 0; i < flows; i++)
        {
            final int now = group.pickHash(hashes[i]);
            during[i] = now;
            assertTrue(now != 2);
            if (before[i] != 2)
            {
                assertEquals(before[i], now, "a flow of a remaining hop keeps its hop");
            }
            else
            {
                moved++;
            }
        }
        assertEquals(perHop[2], moved);

        group.setUsable(2, true, 0x02000000000AL);
        assertBucketsEven(group);
        int changed = 0;
        for (int i = 0; i < flows; i++)
        {
            final int now = group.pickHash(hashes[i]);
            assertEquals(before[i], now, "back, the hop takes its own buckets: every flow is where it was");
            if (now != during[i])
            {
                changed++;
            }
        }
        assertEquals(perHop[2], changed, "and only its flows moved again");
    }

    private static void assertBucketsEven(final NextHopGroup group)
    {
        int min = Integer.MAX_VALUE;
        int max = 0;
        int total = 0;
        for (int i = 0; i < group.size(); i++)
        {
            if (group.usable(i))
            {
                min = Math.min(min, group.buckets(i));
                max = Math.max(max, group.buckets(i));
                total += group.buckets(i);
            }
            else
            {
                assertEquals(0, group.buckets(i));
            }
        }
        assertEquals(NextHopGroup.BUCKETS, total);
        assertTrue(max - min <= 1, "bucket shares " + min + ".." + max);
    }

    @Test
    void leastFlowsKeepsCountsWithinOne()
    {
        final NextHopGroup group = group(3);
        final FlowPaths paths = new FlowPaths(group, 100);
        for (int k = 1; k <= 50; k++)
        {
            paths.open(group.pickLeast(), 0);
            final long max = Math.max(group.activeFlows(0), Math.max(group.activeFlows(1), group.activeFlows(2)));
            final long min = Math.min(group.activeFlows(0), Math.min(group.activeFlows(1), group.activeFlows(2)));
            assertTrue(max - min <= 1, "after " + k + " flows");
        }
    }

    @Test
    void randomPicksAreEvenAndOnlyUsable()
    {
        final NextHopGroup group = group(4);
        group.setUsable(3, false, 0);
        final int[] counts = new int[4];
        for (int i = 0; i < 30_000; i++)
        {
            counts[group.pickRandom()]++;
        }
        assertEquals(0, counts[3]);
        for (int i = 0; i < 3; i++)
        {
            assertTrue(Math.abs(counts[i] - 10_000) < 500, Arrays.toString(counts));
        }
    }

    @Test
    void aRetiredHopStaysOutUntilAddedAgainAndThenGetsItsOwnBucketsBack()
    {
        final NextHopGroup group = group(4);
        final int[] before = new int[NextHopGroup.BUCKETS];
        for (int b = 0; b < before.length; b++)
        {
            before[b] = group.pickHash(b << 20);
        }
        assertTrue(group.retire(2));
        assertEquals(3, group.usableCount());
        assertFalse(group.setUsable(2, true, 0x020000000003L), "probe results do not revive a retired hop");
        assertEquals(NextHopGroup.NO_HOP, group.add(0xC6120100 + 11), "an address already in the group");
        assertEquals(2, group.add(0xC6120100 + 13), "the retired address, added again, keeps its index");
        assertTrue(group.setUsable(2, true, 0x020000000003L));
        int same = 0;
        for (int b = 0; b < before.length; b++)
        {
            same += group.pickHash(b << 20) == before[b] ? 1 : 0;
        }
        assertEquals(NextHopGroup.BUCKETS, same, "every bucket back with the hop it had");
    }
}
