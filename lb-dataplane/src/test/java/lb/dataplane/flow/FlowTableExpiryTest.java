package lb.dataplane.flow;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sliced expiry: which entries go, that slices cover the table, and listeners that veto or remove other entries. */
final class FlowTableExpiryTest
{
    private static final long SYN = 30_000;
    private static final long ESTABLISHED = 300_000;
    private static final long CLOSING = 10_000;
    private static final long UDP = 60_000;
    private static final long NOW = 100_000_000;

    /** Accepts every idle entry and records its key, checking that it really is idle. */
    private static final class AcceptAll implements FlowExpiry
    {
        final List<FlowKey> offered = new ArrayList<>();
        final long now;

        AcceptAll(final long now)
        {
            this.now = now;
        }

        public boolean onIdle(final FlowTable table, final int slot)
        {
            assertTrue(now - table.lastSeen(slot) > table.timeoutNanos(table.tcpState(slot)), "offered but not idle");
            offered.add(FlowKey.at(table, slot));
            return true;
        }
    }

    @Test
    void defaultTimeouts()
    {
        final FlowTable table = new FlowTable(16);
        assertEquals(30_000_000_000L, table.timeoutNanos(FlowTable.TCP_SYN_SEEN));
        assertEquals(300_000_000_000L, table.timeoutNanos(FlowTable.TCP_ESTABLISHED));
        assertEquals(10_000_000_000L, table.timeoutNanos(FlowTable.TCP_CLOSING));
        assertEquals(60_000_000_000L, table.timeoutNanos(FlowTable.TCP_NONE));
    }

    /** For each state, an entry idle exactly its timeout stays and one idle a nanosecond longer goes. */
    @Test
    void timeoutBoundaryPerState()
    {
        final Random random = new Random(10);
        final FlowTable table = new FlowTable(64);
        table.setTimeouts(SYN, ESTABLISHED, CLOSING, UDP);
        final Set<FlowKey> expected = new HashSet<>();
        final Set<FlowKey> kept = new HashSet<>();
        final long[] timeouts = {UDP, SYN, ESTABLISHED, CLOSING};
        for (int state = 0; state < 4; state++)
        {
            for (int extra = 0; extra <= 1; extra++)
            {
                // TCP keys in state NONE use the UDP timeout: the state decides, not the protocol.
                final FlowKey key = new FlowKey(random.nextInt(), random.nextInt(), 1000 + state, 80, FlowKey.TCP);
                final int slot = key.insert(table, 0);
                table.setTcpState(slot, state);
                table.setLastSeen(slot, NOW - timeouts[state] - extra);
                (extra == 1 ? expected : kept).add(key);
            }
        }

        final AcceptAll listener = new AcceptAll(NOW);
        assertEquals(4, table.expire(NOW, table.slotCount() + 4, listener));
        assertEquals(expected, Set.copyOf(listener.offered));
        assertEquals(kept, FlowKey.keysIn(table));
        FlowKey.assertStructure(table);
    }

    /** Entries of all states and many ages, expired in slices of several sizes: exactly the idle ones go. */
    @Test
    void slicesExpireExactlyTheIdleEntriesAndCoverTheTable()
    {
        for (final int slice : new int[]{1, 7, 64, 1000})
        {
            final Random random = new Random(11);
            final FlowTable table = new FlowTable(500);
            table.setTimeouts(SYN, ESTABLISHED, CLOSING, UDP);
            final Set<FlowKey> idle = new HashSet<>();
            final Set<FlowKey> active = new HashSet<>();
            populate(table, random, idle, active);
            assertTrue(idle.size() > 100 && active.size() > 100, idle.size() + " idle, " + active.size() + " active");

            // One pass examines every slot once plus once more for each removal (the slot is looked at again).
            final int examinations = table.slotCount() + idle.size();
            final int calls = (examinations + slice - 1) / slice;
            final AcceptAll listener = new AcceptAll(NOW);
            int removed = 0;
            for (int call = 0; call < calls; call++)
            {
                removed += table.expire(NOW, slice, listener);
            }

            assertEquals(idle.size(), removed, "slice " + slice);
            assertEquals(idle.size(), listener.offered.size(), "each idle entry offered once, slice " + slice);
            assertEquals(idle, Set.copyOf(listener.offered), "slice " + slice);
            assertEquals(active, FlowKey.keysIn(table), "slice " + slice);
            FlowKey.assertStructure(table);
            assertEquals(((long)calls * slice - idle.size()) % table.slotCount(), table.expiryCursor(),
                "cursor advanced once per examination that did not remove, slice " + slice);

            assertEquals(0, table.expire(NOW, table.slotCount(), listener));
            assertEquals(idle.size(), listener.offered.size());
        }
    }

    @Test
    void cursorPersistsAndWraps()
    {
        final FlowTable table = new FlowTable(30);
        assertEquals(40 + FlowTable.PROBE_WINDOW, table.slotCount());
        final AcceptAll listener = new AcceptAll(NOW);
        int expectedCursor = 0;
        for (int call = 0; call < 20; call++)
        {
            assertEquals(0, table.expire(NOW, 11, listener));
            expectedCursor = (expectedCursor + 11) % table.slotCount();
            assertEquals(expectedCursor, table.expiryCursor());
        }
        assertEquals(0, table.expire(NOW, 0, listener));
        assertEquals(expectedCursor, table.expiryCursor());
    }

    /**
     * Removing the entry under the cursor moves the next entry of its run into that slot; it must be examined in the
     * same pass, not skipped.
     */
    @Test
    void entryShiftedIntoTheCursorSlotIsExamined()
    {
        final Random random = new Random(12);
        final FlowTable table = new FlowTable(100);
        final Set<FlowKey> taken = new HashSet<>();
        final List<FlowKey> run = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            run.add(FlowKey.withHome(table, 40, random, taken));
            assertEquals(40 + i, run.get(i).insert(table, NOW - UDP - 1));
        }
        final FlowKey fresh = FlowKey.withHome(table, 40, random, taken);
        assertEquals(43, fresh.insert(table, NOW));
        table.setTimeouts(SYN, ESTABLISHED, CLOSING, UDP);

        // One slot per call: the cursor reaches 40 after 40 calls, then stays there for three removals.
        final AcceptAll listener = new AcceptAll(NOW);
        for (int call = 0; call < 40; call++)
        {
            assertEquals(0, table.expire(NOW, 1, listener));
        }
        for (int i = 0; i < 3; i++)
        {
            assertEquals(1, table.expire(NOW, 1, listener));
            assertEquals(40, table.expiryCursor());
            assertEquals(run.get(i), listener.offered.get(i));
        }
        assertEquals(40, fresh.find(table));
        assertEquals(0, table.expire(NOW, 1, listener));
        assertEquals(41, table.expiryCursor());

        // And in one pass of exactly slotCount examinations, the same happens.
        final FlowTable again = new FlowTable(100);
        for (final FlowKey key : run)
        {
            key.insert(again, NOW - UDP - 1);
        }
        again.setTimeouts(SYN, ESTABLISHED, CLOSING, UDP);
        assertEquals(3, again.expire(NOW, again.slotCount(), new AcceptAll(NOW)));
        assertEquals(0, again.size());
    }

    /**
     * The listener vetoes the examined entry but removes an entry behind the cursor in the same run: the examined
     * entry moves back one slot and the next one moves into the cursor's slot, and must be examined in this pass.
     */
    @Test
    void entryMovedIntoTheCursorSlotByTheListenerIsExamined()
    {
        final Random random = new Random(14);
        final FlowTable table = new FlowTable(100);
        table.setTimeouts(SYN, ESTABLISHED, CLOSING, UDP);
        final Set<FlowKey> taken = new HashSet<>();
        final FlowKey behind = FlowKey.withHome(table, 40, random, taken);
        final FlowKey vetoed = FlowKey.withHome(table, 40, random, taken);
        final FlowKey next = FlowKey.withHome(table, 40, random, taken);
        assertEquals(40, behind.insert(table, 0));
        assertEquals(41, vetoed.insert(table, 0));
        assertEquals(42, next.insert(table, 0));

        final List<FlowKey> offered = new ArrayList<>();
        final FlowExpiry listener = (t, slot) ->
        {
            final FlowKey key = FlowKey.at(t, slot);
            offered.add(key);
            if (key.equals(vetoed))
            {
                behind.remove(t);
                return false;
            }
            return true;
        };
        assertEquals(0, table.expire(0, 41, listener), "at time 0 nothing is idle");
        assertEquals(41, table.expiryCursor());

        assertEquals(1, table.expire(NOW, table.slotCount(), listener));
        assertEquals(List.of(vetoed, next), offered);
        assertEquals(Set.of(vetoed), FlowKey.keysIn(table));
        assertEquals(40, vetoed.find(table));
        FlowKey.assertStructure(table);
    }

    /**
     * Forward and return entries of the same flows, crowded into the same runs. The listener keeps an idle entry whose
     * partner is active (and refreshes it), and when both are idle removes the partner itself, moving entries under
     * and around the cursor. Checked against a model after every slice.
     */
    @Test
    void listenerVetoingAndRemovingPairedEntries()
    {
        final Random random = new Random(13);
        final FlowTable table = new FlowTable(300);
        table.setTimeouts(SYN, ESTABLISHED, CLOSING, UDP);
        final Set<FlowKey> taken = new HashSet<>();
        final Map<FlowKey, FlowKey> partner = new HashMap<>();
        final Set<FlowKey> present = new HashSet<>();
        final Set<FlowKey> idleAtStart = new HashSet<>();
        for (int i = 0; i < 100; i++)
        {
            final int forwardHome = i < 12 ? 50 + random.nextInt(2) : random.nextInt(400);
            final int backHome = i < 12 ? 50 + random.nextInt(2) : random.nextInt(400);
            final FlowKey forward = FlowKey.withHome(table, forwardHome, random, taken);
            final FlowKey back = FlowKey.withHome(table, backHome, random, taken);
            partner.put(forward, back);
            partner.put(back, forward);
            addWithRandomAge(table, random, forward, present, idleAtStart);
            addWithRandomAge(table, random, back, present, idleAtStart);
            table.setReturnDirection(back.find(table), true);
        }
        for (int i = 0; i < 20; i++)
        {
            final FlowKey orphan = FlowKey.withHome(table, random.nextInt(400), random, taken);
            addWithRandomAge(table, random, orphan, present, idleAtStart);
        }
        FlowKey.assertStructure(table);

        final Set<FlowKey> survivors = new HashSet<>();
        for (final FlowKey key : present)
        {
            final FlowKey other = partner.get(key);
            if (!idleAtStart.contains(key) || (other != null && !idleAtStart.contains(other)))
            {
                survivors.add(key);
            }
        }
        assertTrue(survivors.size() > 40 && survivors.size() < present.size() - 40, "survivors: " + survivors.size());

        final int[] counts = new int[4]; // accepted, vetoed, partners removed, examined entry moved by a removal
        final FlowExpiry listener = (t, slot) ->
        {
            final FlowKey key = FlowKey.at(t, slot);
            assertTrue(present.contains(key), "offered an entry the model does not hold");
            assertTrue(NOW - t.lastSeen(slot) > t.timeoutNanos(t.tcpState(slot)), "offered but not idle");
            final FlowKey other = partner.get(key);
            if (other != null && present.contains(other))
            {
                final int otherSlot = other.find(t);
                assertTrue(otherSlot >= 0);
                if (NOW - t.lastSeen(otherSlot) <= t.timeoutNanos(t.tcpState(otherSlot)))
                {
                    t.setLastSeen(slot, t.lastSeen(otherSlot));
                    counts[1]++;
                    return false;
                }
                t.removeAt(otherSlot);
                present.remove(other);
                counts[2]++;
                if (!key.equals(FlowKey.at(t, slot)))
                {
                    counts[3]++;
                }
            }
            present.remove(key);
            counts[0]++;
            return true;
        };

        // Start the walk inside the crowded run (slots 50 to about 73), so that partners behind the cursor are
        // removed and the examined entry moves back. At time 0 nothing is idle.
        assertEquals(0, table.expire(0, 62, listener));
        assertEquals(62, table.expiryCursor());

        long examinations = 0;
        int removed = 0;
        while (examinations < 3L * (table.slotCount() + 240))
        {
            final int slice = 1 + random.nextInt(50);
            removed += table.expire(NOW, slice, listener);
            examinations += slice;
            FlowKey.assertStructure(table);
            assertEquals(present, FlowKey.keysIn(table));
        }

        assertEquals(survivors, present);
        assertEquals(counts[0], removed);
        assertTrue(counts[1] > 10, "vetoes: " + counts[1]);
        assertTrue(counts[2] > 10, "partners removed by the listener: " + counts[2]);
        assertTrue(counts[3] > 0, "removals that moved the examined entry: " + counts[3]);
        for (final FlowKey key : survivors)
        {
            // Kept because it is active, or because its partner is (a veto copies the partner's time, but the
            // entry's own state may have a shorter timeout).
            final FlowKey other = partner.get(key);
            assertTrue(!isIdle(table, key.find(table)) || (other != null && !isIdle(table, other.find(table))),
                "survivor idle, and its partner too");
        }
    }

    private static boolean isIdle(final FlowTable table, final int slot)
    {
        return NOW - table.lastSeen(slot) > table.timeoutNanos(table.tcpState(slot));
    }

    private static void populate(
        final FlowTable table, final Random random, final Set<FlowKey> idle, final Set<FlowKey> active)
    {
        final Set<FlowKey> taken = new HashSet<>();
        final Set<FlowKey> present = new HashSet<>();
        for (int i = 0; i < 400; i++)
        {
            // Some keys crowd into a few home slots so that removals shift entries under the cursor.
            final FlowKey key = i < 24 ? FlowKey.withHome(table, 100 + random.nextInt(4), random, taken) :
                FlowKey.withHome(table, random.nextInt(table.slotCount() - FlowTable.PROBE_WINDOW), random, taken);
            addWithRandomAge(table, random, key, present, idle);
        }
        for (final FlowKey key : present)
        {
            if (!idle.contains(key))
            {
                active.add(key);
            }
        }
    }

    /** Inserts the key with a random state and an age at, around or far from its timeout; records it if idle. */
    private static void addWithRandomAge(
        final FlowTable table,
        final Random random,
        final FlowKey key,
        final Set<FlowKey> present,
        final Set<FlowKey> idle)
    {
        final int slot = key.insert(table, 0);
        assertTrue(slot >= 0);
        final int state = random.nextInt(4);
        table.setTcpState(slot, state);
        final long timeout = table.timeoutNanos(state);
        final long[] ages = {
            0, timeout - 1, timeout, timeout + 1, 2 * timeout,
            random.nextLong(timeout), timeout + 1 + random.nextLong(timeout)};
        final long age = ages[random.nextInt(ages.length)];
        table.setLastSeen(slot, NOW - age);
        present.add(key);
        if (age > timeout)
        {
            idle.add(key);
        }
    }
}
