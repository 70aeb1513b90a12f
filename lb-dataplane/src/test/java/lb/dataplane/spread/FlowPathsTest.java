package lb.dataplane.spread;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlowPathsTest
{
    private static NextHopGroup group(final int hops)
    {
        final NextHopGroup group = new NextHopGroup(7);
        for (int i = 0; i < hops; i++)
        {
            group.setUsable(group.add(0xC612010B + i), true, 0x020000000001L + i);
        }
        return group;
    }

    @Test
    void closingSoThatCountsDifferByTwoMovesExactlyTheOldestFlowOfTheFullestHop()
    {
        final NextHopGroup group = group(2);
        final FlowPaths paths = new FlowPaths(group, 16).rebalance(true);
        final int[] ids = new int[4];
        for (int i = 0; i < 4; i++)
        {
            ids[i] = paths.open(group.pickLeast(), i);
        }
        assertEquals(2, group.activeFlows(0));
        assertEquals(2, group.activeFlows(1));
        final int hop0 = paths.hop(ids[0]);
        final int other = 1 - hop0;
        final int oldestOther = paths.oldest(other);
        // Close hop0's two flows: after the first the counts are 1 and 2 (no move), after the second 0 and 2.
        int first = -1;
        int second = -1;
        for (final int id : ids)
        {
            if (paths.hop(id) == hop0)
            {
                if (first < 0)
                {
                    first = id;
                }
                else
                {
                    second = id;
                }
            }
        }
        assertEquals(FlowPaths.NONE, paths.close(first));
        assertEquals(0, paths.moves());
        final int moved = paths.close(second);
        assertEquals(oldestOther, moved, "the oldest flow of the fullest hop moves");
        assertEquals(hop0, paths.hop(moved));
        assertEquals(1, paths.moves());
        assertEquals(1, group.activeFlows(0));
        assertEquals(1, group.activeFlows(1));
        assertEquals(FlowPaths.NONE, paths.close(second), "a second close of one flow changes nothing");
        assertEquals(2, paths.openFlows());
    }

    @Test
    void withoutRebalancingNothingMoves()
    {
        final NextHopGroup group = group(2);
        final FlowPaths paths = new FlowPaths(group, 16);
        final int a = paths.open(0, 0);
        final int b = paths.open(0, 0);
        paths.open(1, 0);
        paths.open(1, 0);
        paths.open(1, 0);
        assertEquals(FlowPaths.NONE, paths.close(a));
        assertEquals(FlowPaths.NONE, paths.close(b));
        assertEquals(0, paths.moves());
        assertEquals(3, group.activeFlows(1) - group.activeFlows(0));
    }

    @Test
    void aDeadHopsFlowsMoveToTheOthers()
    {
        final NextHopGroup group = group(3);
        final FlowPaths paths = new FlowPaths(group, 64);
        final int[] ids = new int[30];
        for (int i = 0; i < ids.length; i++)
        {
            ids[i] = paths.open(group.pickLeast(), 0);
        }
        group.setUsable(1, false, 0);
        assertEquals(10, paths.evacuate(1, SpreadPolicy.LEAST_FLOWS));
        assertEquals(0, group.activeFlows(1));
        assertEquals(15, group.activeFlows(0));
        assertEquals(15, group.activeFlows(2));
        for (final int id : ids)
        {
            assertNotEquals(1, paths.hop(id));
        }
        assertEquals(10, paths.evacuated());
    }

    @Test
    void aFlowletKeepsItsHopWithinTheGapAndMayChangeAfterIt()
    {
        final NextHopGroup group = group(4);
        final FlowPaths paths = new FlowPaths(group, 4);
        final long gap = 2_000_000L;
        final int id = paths.open(group.pickRandom(), 0);
        final int hop = paths.hop(id);
        long now = 0;
        for (int i = 0; i < 1000; i++)
        {
            now += gap / 2;
            assertEquals(hop, paths.flowlet(id, now, gap), "packets closer than the gap keep the hop");
        }
        int changes = 0;
        for (int i = 0; i < 1000; i++)
        {
            now += gap + 1;
            final int before = paths.hop(id);
            if (paths.flowlet(id, now, gap) != before)
            {
                changes++;
            }
        }
        // A random pick of 4 after each gap: about 3 in 4 change.
        assertTrue(changes > 650 && changes < 850, "changes " + changes);
        assertEquals(changes, paths.flowletSwitches());
        assertEquals(1, group.activeFlows(0) + group.activeFlows(1) + group.activeFlows(2) + group.activeFlows(3));
    }

    @Test
    void aFullTableRefusesAndAClosedRecordIsReused()
    {
        final NextHopGroup group = group(1);
        final FlowPaths paths = new FlowPaths(group, 2);
        final int a = paths.open(0, 0);
        paths.open(0, 0);
        assertEquals(FlowPaths.NONE, paths.open(0, 0));
        paths.close(a);
        assertEquals(a, paths.open(0, 0));
    }
}
