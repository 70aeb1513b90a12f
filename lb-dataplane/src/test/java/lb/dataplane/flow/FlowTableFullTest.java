package lb.dataplane.flow;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What insert does when the table is at capacity or a key's probe window has no room, under both policies. */
final class FlowTableFullTest
{
    /** Records evicted keys, reading them from the slot while the entry is still there. */
    private static final class EvictionRecorder implements FlowExpiry
    {
        final List<FlowKey> evicted = new ArrayList<>();
        final List<Integer> slots = new ArrayList<>();

        public boolean onIdle(final FlowTable table, final int slot)
        {
            throw new AssertionError("onIdle during insert");
        }

        public void onEvict(final FlowTable table, final int slot)
        {
            assertTrue(table.isOccupied(slot));
            evicted.add(FlowKey.at(table, slot));
            slots.add(slot);
        }
    }

    @Test
    void refuseAtCapacity()
    {
        final Random random = new Random(1);
        final FlowTable table = new FlowTable(10);
        final List<FlowKey> keys = distinctKeys(random, 11);
        for (int i = 0; i < 10; i++)
        {
            assertTrue(keys.get(i).insert(table, i) >= 0);
        }
        assertEquals(10, table.size());

        final FlowKey extra = keys.get(10);
        assertEquals(FlowTable.FULL, extra.insert(table, 100));
        assertEquals(FlowTable.FULL, extra.insert(table, 101));
        assertEquals(2, table.refusedInserts());
        assertEquals(0, table.evictions());
        assertEquals(10, table.size());
        assertEquals(FlowTable.MISSING, extra.find(table));

        // A key already present is found, not refused, even when the table is full.
        final int slot = keys.get(3).find(table);
        assertEquals(slot, keys.get(3).insert(table, 102));
        assertEquals(3, table.lastSeen(slot), "insert of a present key leaves it untouched");
        assertEquals(2, table.refusedInserts());

        assertTrue(keys.get(3).remove(table));
        assertTrue(extra.insert(table, 103) >= 0);
        for (final FlowKey key : keys.subList(0, 10))
        {
            assertEquals(key != keys.get(3), key.find(table) != FlowTable.MISSING);
        }
        FlowKey.assertStructure(table);
    }

    @Test
    void refuseWhenTheWindowHasNoRoom()
    {
        final Random random = new Random(2);
        final FlowTable table = new FlowTable(1000);
        final Set<FlowKey> taken = new HashSet<>();
        final int home = 500;
        final FlowKey early = FlowKey.withHome(table, home - 1, random, taken);
        assertEquals(home - 1, early.insert(table, 0));
        final List<FlowKey> crowd = new ArrayList<>();
        for (int i = 0; i <= FlowTable.PROBE_WINDOW; i++)
        {
            crowd.add(FlowKey.withHome(table, home, random, taken));
        }
        for (int i = 0; i < FlowTable.PROBE_WINDOW; i++)
        {
            assertEquals(home + i, crowd.get(i).insert(table, i), "same home: slots in insertion order");
        }

        // A 33rd key of the same home would sit PROBE_WINDOW slots from home, though the table is far from full.
        assertEquals(FlowTable.FULL, crowd.get(FlowTable.PROBE_WINDOW).insert(table, 99));
        assertEquals(1, table.refusedInserts());
        assertEquals(FlowTable.PROBE_WINDOW + 1, table.size());

        // A key homed inside the crowd's run still fits: it goes after the crowd, 29 slots from its home.
        final FlowKey neighbour = FlowKey.withHome(table, home + 3, random, taken);
        assertEquals(home + FlowTable.PROBE_WINDOW, neighbour.insert(table, 100));
        FlowKey.assertStructure(table);

        // A second key homed before the crowd goes in front of it and would push the crowd's last key out of its
        // window.
        final FlowKey pusher = FlowKey.withHome(table, home - 1, random, taken);
        assertEquals(FlowTable.FULL, pusher.insert(table, 101));
        assertEquals(2, table.refusedInserts());
        FlowKey.assertStructure(table);

        assertTrue(crowd.get(FlowTable.PROBE_WINDOW - 1).remove(table));
        assertEquals(home, pusher.insert(table, 102));
        assertEquals(home - 1, early.find(table));
        for (int i = 0; i < FlowTable.PROBE_WINDOW - 1; i++)
        {
            assertEquals(home + 1 + i, crowd.get(i).find(table), "the crowd moved up one slot");
        }
        assertEquals(home + FlowTable.PROBE_WINDOW, neighbour.find(table));
        assertEquals(2, table.refusedInserts());
        FlowKey.assertStructure(table);
    }

    @Test
    void evictTheStalestWhenTheWindowHasNoRoom()
    {
        final Random random = new Random(3);
        final FlowTable table = new FlowTable(1000, FullPolicy.EVICT_STALEST);
        final EvictionRecorder recorder = new EvictionRecorder();
        table.setEvictionListener(recorder);
        final Set<FlowKey> taken = new HashSet<>();
        final int home = 200;
        final List<FlowKey> crowd = new ArrayList<>();
        for (int i = 0; i <= FlowTable.PROBE_WINDOW; i++)
        {
            crowd.add(FlowKey.withHome(table, home, random, taken));
        }
        for (int i = 0; i < FlowTable.PROBE_WINDOW; i++)
        {
            final int slot = crowd.get(i).insert(table, 1_000 + i);
            table.setServiceId(slot, i);
        }
        // Entry 7 is the stalest; entry 0 is made fresh so that "first inserted" would be the wrong answer.
        table.setLastSeen(crowd.get(7).find(table), 10);
        table.setLastSeen(crowd.get(0).find(table), 5_000);

        final FlowKey newcomer = crowd.get(FlowTable.PROBE_WINDOW);
        final int slot = newcomer.insert(table, 6_000);

        assertEquals(List.of(crowd.get(7)), recorder.evicted);
        assertEquals(List.of(home + 7), recorder.slots);
        assertEquals(1, table.evictions());
        assertEquals(0, table.refusedInserts());
        assertEquals(FlowTable.PROBE_WINDOW, table.size());
        assertEquals(FlowTable.MISSING, crowd.get(7).find(table));
        assertEquals(slot, newcomer.find(table));
        assertEquals(home + FlowTable.PROBE_WINDOW - 1, slot, "same home as the crowd: after it");
        assertEquals(6_000, table.lastSeen(slot));
        assertEquals(0, table.serviceId(slot));
        assertEquals(0, table.packets(slot));
        for (int i = 0; i < FlowTable.PROBE_WINDOW; i++)
        {
            if (i != 7)
            {
                assertEquals(i, table.serviceId(crowd.get(i).find(table)), "entry " + i + " kept its values");
            }
        }
        FlowKey.assertStructure(table);
    }

    @Test
    void evictTheStalestInTheWindowAtCapacity()
    {
        final Random random = new Random(4);
        final FlowTable table = new FlowTable(10, FullPolicy.EVICT_STALEST);
        assertEquals(14 + FlowTable.PROBE_WINDOW, table.slotCount());
        final EvictionRecorder recorder = new EvictionRecorder();
        table.setEvictionListener(recorder);
        final Set<FlowKey> taken = new HashSet<>();

        // Nine keys homed at slot 0 fill slots 0..8, one homed at 12 sits at 12. The newcomer's home is 5, so its
        // window 5..36 holds slots 5..8 and 12 but not 0..4.
        final List<FlowKey> atZero = new ArrayList<>();
        for (int i = 0; i < 9; i++)
        {
            atZero.add(FlowKey.withHome(table, 0, random, taken));
            assertEquals(i, atZero.get(i).insert(table, 100 + i));
        }
        final FlowKey atTwelve = FlowKey.withHome(table, 12, random, taken);
        assertEquals(12, atTwelve.insert(table, 50));
        table.setLastSeen(0, 1); // the stalest in the table, but outside the window

        // The stalest in the window is the one at slot 12, past the newcomer's place.
        final FlowKey first = FlowKey.withHome(table, 5, random, taken);
        assertEquals(9, first.insert(table, 1_000));
        assertEquals(List.of(atTwelve), recorder.evicted);
        assertEquals(10, table.size());
        FlowKey.assertStructure(table);

        // Now the stalest in the window sits inside the run the newcomer joins.
        table.setLastSeen(atZero.get(6).find(table), 2);
        final FlowKey second = FlowKey.withHome(table, 5, random, taken);
        final int secondSlot = second.insert(table, 1_001);
        assertEquals(List.of(atTwelve, atZero.get(6)), recorder.evicted);
        assertEquals(9, secondSlot, "the run moved back one slot and the newcomer went after its own home's key");
        assertEquals(8, first.find(table));
        assertEquals(10, table.size());
        FlowKey.assertStructure(table);

        // A window with no entry at all: the nearest entry after it (wrapping to the start) goes.
        final FlowKey far = FlowKey.withHome(table, 13, random, taken);
        final FlowKey firstInTable = FlowKey.at(table, table.nextOccupied(0));
        assertEquals(13, far.insert(table, 1_002));
        assertEquals(firstInTable, recorder.evicted.get(2));
        assertEquals(3, table.evictions());
        assertEquals(0, table.refusedInserts());
        assertEquals(10, table.size());
        FlowKey.assertStructure(table);
    }

    @Test
    void evictUnestablishedTakesTheStalestHalfOpenOrClosingEntryAndNeverAnEstablishedOne()
    {
        final Random random = new Random(6);
        final FlowTable table = new FlowTable(10, FullPolicy.EVICT_UNESTABLISHED);
        final EvictionRecorder recorder = new EvictionRecorder();
        table.setEvictionListener(recorder);
        final Set<FlowKey> taken = new HashSet<>();

        // Ten keys homed at slot 0 fill slots 0..9; every window from home 0 holds all of them. Their states: the
        // stalest two are established, then a UDP flow that carried many datagrams, a closing one, half-open ones.
        final List<FlowKey> run = new ArrayList<>();
        for (int i = 0; i < 10; i++)
        {
            final FlowKey key = FlowKey.withHome(table, 0, random, taken);
            run.add(key);
            assertEquals(i, key.insert(table, 100 + i));
        }
        table.setTcpState(0, FlowTable.TCP_ESTABLISHED);
        table.setTcpState(1, FlowTable.TCP_ESTABLISHED);
        table.setTcpState(2, FlowTable.TCP_NONE);
        table.setPackets(2, 50);
        table.setTcpState(3, FlowTable.TCP_CLOSING);
        for (int slot = 4; slot < 10; slot++)
        {
            table.setTcpState(slot, FlowTable.TCP_SYN_SEEN);
        }

        // The closing entry is the stalest evictable one; then the half-open ones, stalest first.
        assertTrue(FlowKey.withHome(table, 0, random, taken).insert(table, 1_000) >= 0);
        assertEquals(List.of(run.get(3)), recorder.evicted);
        assertTrue(FlowKey.withHome(table, 0, random, taken).insert(table, 1_001) >= 0);
        assertEquals(run.get(4), recorder.evicted.get(1));
        FlowKey.assertStructure(table);

        // With only established entries, busy UDP flows and a return entry in the window, nothing is evicted.
        final FlowTable full = new FlowTable(4, FullPolicy.EVICT_UNESTABLISHED);
        full.setEvictionListener(recorder);
        for (int i = 0; i < 4; i++)
        {
            final int slot = FlowKey.withHome(full, 0, random, taken).insert(full, i);
            if (i < 2)
            {
                full.setTcpState(slot, FlowTable.TCP_ESTABLISHED);
            }
            else if (i == 2)
            {
                full.setPackets(slot, 2);
            }
            else
            {
                full.setReturnDirection(slot, true); // a UDP return entry: its forward entry judges the flow
            }
        }
        final int evictedBefore = recorder.evicted.size();
        assertEquals(FlowTable.FULL, FlowKey.withHome(full, 0, random, taken).insert(full, 10));
        assertEquals(evictedBefore, recorder.evicted.size());
        assertEquals(1, full.refusedInserts());
        assertEquals(0, full.evictions());

        // A forward UDP entry that carried one datagram may go.
        full.setPackets(FlowKey.at(full, 2).find(full), 1);
        assertTrue(FlowKey.withHome(full, 0, random, taken).insert(full, 11) >= 0);
        assertEquals(1, full.evictions());
        FlowKey.assertStructure(full);

        // A window with no entry at all (the run sits at the table's start): the first evictable entry after it,
        // wrapping, goes; established ones are passed over.
        final FlowKey far = FlowKey.withHome(full, 5, random, taken);
        assertEquals(FlowTable.MISSING, far.find(full));
        for (int slot = 0; slot < 4; slot++)
        {
            full.setTcpState(slot, slot < 3 ? FlowTable.TCP_ESTABLISHED : FlowTable.TCP_SYN_SEEN);
            full.setReturnDirection(slot, false);
        }
        final FlowKey halfOpen = FlowKey.at(full, 3);
        assertTrue(far.insert(full, 12) >= 0);
        assertEquals(halfOpen, recorder.evicted.get(recorder.evicted.size() - 1));
        assertEquals(2, full.evictions());
        FlowKey.assertStructure(full);
    }

    @Test
    void evictWithoutListener()
    {
        final Random random = new Random(5);
        final FlowTable table = new FlowTable(3, FullPolicy.EVICT_STALEST);
        final List<FlowKey> keys = distinctKeys(random, 20);
        for (int i = 0; i < keys.size(); i++)
        {
            final int slot = keys.get(i).insert(table, i);
            assertTrue(slot >= 0);
            assertEquals(slot, keys.get(i).find(table));
            assertEquals(Math.min(i + 1, 3), table.size());
            FlowKey.assertStructure(table);
        }
        assertEquals(17, table.evictions());
        assertEquals(0, table.refusedInserts());
    }

    /** The eviction listener removes the victim's paired entry, which sits earlier in the same run. */
    @Test
    void evictionListenerRemovingThePairedEntry()
    {
        final Random random = new Random(6);
        final FlowTable table = new FlowTable(1000, FullPolicy.EVICT_STALEST);
        final Set<FlowKey> taken = new HashSet<>();
        final int home = 300;
        final List<FlowKey> crowd = new ArrayList<>();
        for (int i = 0; i <= FlowTable.PROBE_WINDOW; i++)
        {
            crowd.add(FlowKey.withHome(table, home, random, taken));
        }
        for (int i = 0; i < FlowTable.PROBE_WINDOW; i++)
        {
            crowd.get(i).insert(table, 1_000);
        }
        final FlowKey victim = crowd.get(20);
        final FlowKey pair = crowd.get(4);
        table.setLastSeen(victim.find(table), 1);

        final List<FlowKey> evicted = new ArrayList<>();
        table.setEvictionListener(new FlowExpiry()
        {
            public boolean onIdle(final FlowTable t, final int slot)
            {
                throw new AssertionError("onIdle during insert");
            }

            public void onEvict(final FlowTable t, final int slot)
            {
                evicted.add(FlowKey.at(t, slot));
                assertTrue(pair.remove(t));
            }
        });

        final FlowKey newcomer = crowd.get(FlowTable.PROBE_WINDOW);
        final int slot = newcomer.insert(table, 2_000);

        assertEquals(List.of(victim), evicted);
        assertEquals(slot, newcomer.find(table));
        assertEquals(home + FlowTable.PROBE_WINDOW - 2, slot, "two left the run, the newcomer is at its end");
        assertEquals(FlowTable.MISSING, victim.find(table));
        assertEquals(FlowTable.MISSING, pair.find(table));
        assertEquals(FlowTable.PROBE_WINDOW - 1, table.size());
        assertEquals(1, table.evictions());
        assertEquals(0, table.refusedInserts());
        for (final FlowKey key : crowd)
        {
            assertEquals(key != victim && key != pair, key.find(table) != FlowTable.MISSING);
        }
        FlowKey.assertStructure(table);
    }

    /** A run longer than MAX_SHIFT cannot be pushed up by an insert at its start; a shorter one can. */
    @Test
    void insertMovesAtMostMaxShiftEntries()
    {
        final Random random = new Random(7);
        final FlowTable table = new FlowTable(2000);
        final Set<FlowKey> taken = new HashSet<>();
        final int start = 100;
        final int runLength = FlowTable.MAX_SHIFT + 1;
        final FlowKey head = FlowKey.withHome(table, start, random, taken);
        assertEquals(start, head.insert(table, 0));
        for (int home = start + 1; home <= start + runLength; home++)
        {
            assertEquals(home, FlowKey.withHome(table, home, random, taken).insert(table, 0));
        }

        // Goes after head, so the other runLength entries would all move up.
        final FlowKey pusher = FlowKey.withHome(table, start, random, taken);
        assertFalse(pusher.fits(table));
        assertEquals(FlowTable.FULL, pusher.insert(table, 1));
        assertEquals(1, table.refusedInserts());
        FlowKey.assertStructure(table);

        // Cut the run short (removing its last entry leaves a hole there): now exactly MAX_SHIFT entries move.
        table.removeAt(start + runLength);
        assertTrue(pusher.fits(table));
        assertEquals(start + 1, pusher.insert(table, 2));
        assertEquals(start + runLength, table.nextOccupied(start + runLength), "the run grew back by one");
        FlowKey.assertStructure(table);
    }

    private static List<FlowKey> distinctKeys(final Random random, final int count)
    {
        final Set<FlowKey> keys = new HashSet<>();
        final List<FlowKey> list = new ArrayList<>();
        while (list.size() < count)
        {
            final FlowKey key = FlowKey.random(random);
            if (keys.add(key))
            {
                list.add(key);
            }
        }
        assertNotEquals(list.get(0), list.get(1));
        return list;
    }
}
