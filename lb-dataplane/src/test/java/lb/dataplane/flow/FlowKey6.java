package lb.dataplane.flow;

import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** An IPv6 5-tuple as a value, with helpers that drive an IPv6 {@link FlowTable} by key and check its structure. */
record FlowKey6(long srcHigh, long srcLow, long dstHigh, long dstLow, int srcPort, int dstPort, int protocol)
{
    /** 2001:2::/48 with random bits below it: the testbed's range, here only numbers in a table. */
    private static final long TEST_PREFIX = 0x2001_0002_0000_0000L;

    static FlowKey6 random(final Random random)
    {
        return new FlowKey6(
            TEST_PREFIX | random.nextInt(65536), random.nextLong(), TEST_PREFIX | random.nextInt(65536), random.nextLong(),
            random.nextInt(65536), random.nextInt(65536), random.nextBoolean() ? FlowKey.TCP : FlowKey.UDP);
    }

    /** A random key not in {@code taken} whose home slot in {@code table} is {@code home}; adds it to taken. */
    static FlowKey6 withHome(final FlowTable table, final int home, final Random random, final Set<FlowKey6> taken)
    {
        for (int attempt = 0; attempt < 10_000_000; attempt++)
        {
            final FlowKey6 key = random(random);
            if (table.homeSlot(key.hash()) == home && taken.add(key))
            {
                return key;
            }
        }
        throw new AssertionError("no key found with home " + home);
    }

    static FlowKey6 at(final FlowTable table, final int slot)
    {
        return new FlowKey6(table.srcHigh(slot), table.srcLow(slot), table.dstHigh(slot), table.dstLow(slot),
            table.srcPort(slot), table.dstPort(slot), table.protocol(slot));
    }

    /** The same destination and ports, another source low half, and the source high half that keeps the fold. */
    FlowKey6 withCollidingFold(final long otherSrcLow)
    {
        return new FlowKey6(FlowTable.foldCollidingSrcHigh(srcHigh, srcLow, otherSrcLow), otherSrcLow,
            dstHigh, dstLow, srcPort, dstPort, protocol);
    }

    long fold()
    {
        return FlowTable.fold6(srcHigh, srcLow, dstHigh, dstLow);
    }

    int hash()
    {
        return FlowTable.hash6(srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol);
    }

    int home(final FlowTable table)
    {
        return table.homeSlot(hash());
    }

    int insert(final FlowTable table, final long nowNanos)
    {
        return table.insert6(srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol, nowNanos);
    }

    int find(final FlowTable table)
    {
        return table.find6(srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol);
    }

    boolean remove(final FlowTable table)
    {
        return table.remove6(srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol);
    }

    /** Every key in the table, walking it with nextOccupied. */
    static Set<FlowKey6> keysIn(final FlowTable table)
    {
        final Set<FlowKey6> keys = new HashSet<>();
        for (int slot = table.nextOccupied(0); slot != FlowTable.MISSING; slot = table.nextOccupied(slot + 1))
        {
            assertTrue(keys.add(at(table, slot)), "duplicate key at slot " + slot);
        }
        return keys;
    }

    /**
     * {@link FlowKey#assertStructure}'s invariants for an IPv6 table, from the raw 128-byte slots, plus: the address
     * word of each entry is the fold of its addresses and the reserved bytes 96..127 are zero.
     */
    static void assertStructure(final FlowTable table)
    {
        int occupied = 0;
        int previousHome = -1;
        for (int slot = 0; slot < table.slotCount(); slot++)
        {
            final int base = slot * FlowTable.IPV6_SLOT_LENGTH;
            for (int reserved = 96; reserved < FlowTable.IPV6_SLOT_LENGTH; reserved += 8)
            {
                assertEquals(0L, table.buffer().getLong(base + reserved), "reserved byte " + reserved + " of " + slot);
            }
            if (!table.isOccupied(slot))
            {
                previousHome = -1;
                continue;
            }
            occupied++;
            final FlowKey6 key = at(table, slot);
            final int home = key.home(table);
            if (home > slot || slot >= home + FlowTable.PROBE_WINDOW)
            {
                fail("entry at slot " + slot + " outside the window of its home " + home);
            }
            assertEquals(slot - home, table.buffer().getByte(base + FlowTable.DISPLACEMENT_OFFSET),
                "stored displacement at slot " + slot);
            assertEquals(key.fold(), table.buffer().getLong(base + FlowTable.SRC_IP_OFFSET, ByteOrder.LITTLE_ENDIAN),
                "address word at slot " + slot);
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
