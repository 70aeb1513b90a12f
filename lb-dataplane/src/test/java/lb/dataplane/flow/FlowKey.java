package lb.dataplane.flow;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** A 5-tuple as a value, with helpers that drive a {@link FlowTable} by key and check its structure. */
record FlowKey(int srcIp, int dstIp, int srcPort, int dstPort, int protocol)
{
    static final int TCP = 6;
    static final int UDP = 17;

    static FlowKey random(final Random random)
    {
        return new FlowKey(
            random.nextInt(), random.nextInt(), random.nextInt(65536), random.nextInt(65536),
            random.nextBoolean() ? TCP : UDP);
    }

    /** A random key not in {@code taken} whose home slot in {@code table} is {@code home}; adds it to taken. */
    static FlowKey withHome(final FlowTable table, final int home, final Random random, final Set<FlowKey> taken)
    {
        for (int attempt = 0; attempt < 10_000_000; attempt++)
        {
            final FlowKey key = random(random);
            if (table.homeSlot(key.hash()) == home && taken.add(key))
            {
                return key;
            }
        }
        throw new AssertionError("no key found with home " + home);
    }

    static FlowKey at(final FlowTable table, final int slot)
    {
        return new FlowKey(
            table.srcIp(slot), table.dstIp(slot), table.srcPort(slot), table.dstPort(slot), table.protocol(slot));
    }

    int hash()
    {
        return FlowTable.hash(srcIp, dstIp, srcPort, dstPort, protocol);
    }

    int home(final FlowTable table)
    {
        return table.homeSlot(hash());
    }

    int insert(final FlowTable table, final long nowNanos)
    {
        return table.insert(srcIp, dstIp, srcPort, dstPort, protocol, nowNanos);
    }

    int find(final FlowTable table)
    {
        return table.find(srcIp, dstIp, srcPort, dstPort, protocol);
    }

    boolean remove(final FlowTable table)
    {
        return table.remove(srcIp, dstIp, srcPort, dstPort, protocol);
    }

    /**
     * Whether this absent key fits the table as it is, worked out from the keys' home slots alone: it goes after the
     * entries of its run whose home is at or before its own, within its window; the entries from there up to the next
     * empty slot move up one, each staying within its own window, and at most {@link FlowTable#MAX_SHIFT} of them.
     */
    boolean fits(final FlowTable table)
    {
        final int home = home(table);
        int slot = home;
        while (table.isOccupied(slot) && at(table, slot).home(table) <= home)
        {
            slot++;
        }
        if (slot - home >= FlowTable.PROBE_WINDOW)
        {
            return false;
        }
        int end = slot;
        while (end < table.slotCount() && table.isOccupied(end))
        {
            if (end + 1 - at(table, end).home(table) >= FlowTable.PROBE_WINDOW)
            {
                return false;
            }
            end++;
        }
        return end < table.slotCount() && end - slot <= FlowTable.MAX_SHIFT;
    }

    /** Every key in the table, walking it with nextOccupied. */
    static Set<FlowKey> keysIn(final FlowTable table)
    {
        final Set<FlowKey> keys = new HashSet<>();
        for (int slot = table.nextOccupied(0); slot != FlowTable.MISSING; slot = table.nextOccupied(slot + 1))
        {
            assertTrue(keys.add(at(table, slot)), "duplicate key at slot " + slot);
        }
        return keys;
    }

    /**
     * The table's invariants, checked from the raw slots: every entry lies within the probe window of its home, its
     * stored displacement is its distance from home, every slot from its home to it is in use, each run is ordered
     * by home slot, find returns it, and the number of slots in use is the size.
     */
    static void assertStructure(final FlowTable table)
    {
        int occupied = 0;
        int previousHome = -1;
        for (int slot = 0; slot < table.slotCount(); slot++)
        {
            if (!table.isOccupied(slot))
            {
                previousHome = -1;
                continue;
            }
            occupied++;
            final FlowKey key = at(table, slot);
            final int home = key.home(table);
            if (home > slot || slot >= home + FlowTable.PROBE_WINDOW)
            {
                fail("entry at slot " + slot + " outside the window of its home " + home);
            }
            assertEquals(slot - home, table.buffer().getByte(slot * 64 + FlowTable.DISPLACEMENT_OFFSET),
                "stored displacement at slot " + slot);
            for (int between = home; between < slot; between++)
            {
                if (!table.isOccupied(between))
                {
                    fail("empty slot " + between + " between home " + home + " and entry at " + slot);
                }
            }
            assertTrue(previousHome <= home, "run out of home order at slot " + slot);
            previousHome = home;
            assertEquals(slot, key.find(table), "find of the entry at slot " + slot);
        }
        assertEquals(table.size(), occupied, "slots in use vs size");
    }
}
