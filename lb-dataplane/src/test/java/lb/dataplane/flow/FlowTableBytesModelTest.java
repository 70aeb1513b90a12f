package lb.dataplane.flow;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The raw bytes of a {@link FlowTable} against a reference model after every operation of long random sequences of
 * inserts, removals (by key, by slot, by expiry) and evictions. The model keeps the values in a {@link HashMap} and the
 * placement in an array of keys, moved one element at a time as the Robin Hood rules say; every slot of the table must
 * hold exactly the 64 bytes the model implies (zeros when empty), so the bulk moves of runs in {@code place} and
 * {@code removeAt} are checked byte for byte, including the displacement bytes and the cleared last slot.
 * <p>
 * The table does not wrap: probing runs into {@link FlowTable#PROBE_WINDOW} overflow slots at the end instead. The
 * crowded keys at the last home slots push runs to the last slot any entry can reach ({@code slotCount - 2}: a key at
 * home {@code h} sits at most at {@code h + 31}), which the test asserts it reached.
 */
final class FlowTableBytesModelTest
{
    /** The value fields of one entry, as the model expects them. */
    /** The table as a plain array of keys plus a map of values, following the documented rules one slot at a time. */
    private static final class Model
    {
        final int capacity;
        final int homeSlots;
        final int slotCount;
        final FullPolicy policy;
        final FlowKey[] slots;
        final Map<FlowKey, FlowValues> values = new HashMap<>();
        final long[] timeouts = new long[4];
        int expiryCursor;
        long refused;
        long evictions;
        long multiSlotMovesUp;
        long multiSlotMovesDown;
        int longestMove;
        int highestSlotUsed;

        Model(final int capacity, final FullPolicy policy)
        {
            this.capacity = capacity;
            this.homeSlots = (int)((capacity * 4L + 2) / 3);
            this.slotCount = homeSlots + FlowTable.PROBE_WINDOW;
            this.policy = policy;
            this.slots = new FlowKey[slotCount];
        }

        int home(final FlowKey key)
        {
            return (int)(((key.hash() & 0xFFFF_FFFFL) * homeSlots) >>> 32);
        }

        int slotOf(final FlowKey key)
        {
            for (int slot = 0; slot < slotCount; slot++)
            {
                if (key.equals(slots[slot]))
                {
                    return slot;
                }
            }
            return FlowTable.MISSING;
        }

        /** Returns the slot, or FULL; {@code evicted} receives the victim, if any. */
        int insert(final FlowKey key, final long now, final List<FlowKey> evicted)
        {
            final int present = slotOf(key);
            if (present >= 0)
            {
                return present;
            }
            if (values.size() < capacity)
            {
                final int slot = place(key, now);
                if (slot >= 0)
                {
                    return slot;
                }
            }
            if (policy == FullPolicy.REFUSE)
            {
                refused++;
                return FlowTable.FULL;
            }

            final int home = home(key);
            int victim = FlowTable.MISSING;
            long oldestAge = Long.MIN_VALUE;
            for (int slot = home; slot < home + FlowTable.PROBE_WINDOW; slot++)
            {
                if (slots[slot] != null && now - values.get(slots[slot]).lastSeen > oldestAge)
                {
                    oldestAge = now - values.get(slots[slot]).lastSeen;
                    victim = slot;
                }
            }
            if (victim == FlowTable.MISSING)
            {
                victim = nextOccupied(home + FlowTable.PROBE_WINDOW);
                if (victim == FlowTable.MISSING)
                {
                    victim = nextOccupied(0);
                }
            }
            evicted.add(slots[victim]);
            removeAt(victim);
            evictions++;

            final int slot = values.size() < capacity ? place(key, now) : FlowTable.FULL;
            if (slot == FlowTable.FULL)
            {
                refused++;
            }
            return slot;
        }

        private int place(final FlowKey key, final long now)
        {
            final int home = home(key);
            int slot = home;
            while (slot < slotCount && slots[slot] != null && home(slots[slot]) <= home)
            {
                slot++;
            }
            if (slot - home >= FlowTable.PROBE_WINDOW)
            {
                return FlowTable.FULL;
            }
            int end = slot;
            while (true)
            {
                if (end == slotCount || end - slot > FlowTable.MAX_SHIFT)
                {
                    return FlowTable.FULL;
                }
                if (slots[end] == null)
                {
                    break;
                }
                if (end + 1 - home(slots[end]) >= FlowTable.PROBE_WINDOW)
                {
                    return FlowTable.FULL;
                }
                end++;
            }
            multiSlotMovesUp += end - slot >= 2 ? 1 : 0;
            longestMove = Math.max(longestMove, end - slot);
            for (int to = end; to > slot; to--)
            {
                slots[to] = slots[to - 1];
            }
            slots[slot] = key;
            values.put(key, new FlowValues(now));
            highestSlotUsed = Math.max(highestSlotUsed, end);
            return slot;
        }

        void removeAt(final int slot)
        {
            values.remove(slots[slot]);
            slots[slot] = null;
            int hole = slot;
            while (hole + 1 < slotCount && slots[hole + 1] != null && home(slots[hole + 1]) != hole + 1)
            {
                slots[hole] = slots[hole + 1];
                slots[hole + 1] = null;
                hole++;
            }
            multiSlotMovesDown += hole - slot >= 2 ? 1 : 0;
            longestMove = Math.max(longestMove, hole - slot);
        }

        int nextOccupied(final int from)
        {
            for (int slot = Math.max(from, 0); slot < slotCount; slot++)
            {
                if (slots[slot] != null)
                {
                    return slot;
                }
            }
            return FlowTable.MISSING;
        }

        int expire(final long now, final int maxSlots, final int salt)
        {
            int removed = 0;
            int slot = expiryCursor;
            for (int examined = 0; examined < maxSlots; examined++)
            {
                boolean advance = true;
                final FlowKey key = slots[slot];
                if (key != null && now - values.get(key).lastSeen > timeouts[values.get(key).tcpState] &&
                    acceptsIdle(key, salt))
                {
                    removeAt(slot);
                    removed++;
                    advance = false;
                }
                if (advance && ++slot == slotCount)
                {
                    slot = 0;
                }
            }
            expiryCursor = slot;
            return removed;
        }

        private final ByteBuffer expected = ByteBuffer.allocate(FlowTable.SLOT_LENGTH).order(ByteOrder.LITTLE_ENDIAN);

        /** The 64 bytes a slot must hold (in a reused array). */
        byte[] expectedSlot(final int slot)
        {
            final ByteBuffer bytes = expected;
            Arrays.fill(bytes.array(), (byte)0);
            final FlowKey key = slots[slot];
            if (key == null)
            {
                return bytes.array();
            }
            final FlowValues v = values.get(key);
            bytes.putInt(FlowTable.SRC_IP_OFFSET, key.srcIp());
            bytes.putInt(FlowTable.DST_IP_OFFSET, key.dstIp());
            bytes.putShort(FlowTable.SRC_PORT_OFFSET, (short)key.srcPort());
            bytes.putShort(FlowTable.DST_PORT_OFFSET, (short)key.dstPort());
            bytes.put(FlowTable.PROTOCOL_OFFSET, (byte)key.protocol());
            bytes.put(FlowTable.FLAGS_OFFSET, (byte)(FlowTable.FLAG_IN_USE |
                (v.returnDirection ? FlowTable.FLAG_RETURN_DIRECTION : 0) | (v.finSeen ? FlowTable.FLAG_FIN_SEEN : 0)));
            bytes.put(FlowTable.TCP_STATE_OFFSET, (byte)v.tcpState);
            bytes.put(FlowTable.DISPLACEMENT_OFFSET, (byte)(slot - home(key)));
            bytes.putInt(FlowTable.SERVICE_ID_OFFSET, v.serviceId);
            bytes.putInt(FlowTable.BACKEND_ID_OFFSET, v.backendId);
            bytes.putInt(FlowTable.NAT_IP_OFFSET, v.natIp);
            bytes.putShort(FlowTable.NAT_PORT_OFFSET, (short)v.natPort);
            bytes.putLong(FlowTable.LAST_SEEN_OFFSET, v.lastSeen);
            bytes.putLong(FlowTable.PACKETS_OFFSET, v.packets);
            bytes.putLong(FlowTable.BYTES_OFFSET, v.bytes);
            bytes.putLong(FlowTable.PEER_MAC_OFFSET, v.peerMac);
            return bytes.array();
        }
    }

    private static boolean acceptsIdle(final FlowKey key, final int salt)
    {
        return ((key.hash() + salt) & 3) != 0;
    }

    /**
     * Agrona 2.6.0's {@code UnsafeBuffer.putBytes(index, this, srcIndex, length)} calls {@code Unsafe.copyMemory},
     * which HotSpot implements as a conjoint (memmove) copy in the interpreter and in the C2 intrinsic alike. The table
     * relies on that for overlapping moves in both directions, so check it, long enough for the JIT to compile it.
     */
    @Test
    void overlappingPutBytesIntoItselfIsAMemmove()
    {
        final Random random = new Random(0x5EED_0B01L);
        final int capacity = 64 * 64;
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(capacity));
        final byte[] model = new byte[capacity];
        final byte[] actual = new byte[capacity];
        for (int round = 0; round < 200_000; round++)
        {
            if (round % 1_000 == 0)
            {
                random.nextBytes(model);
                buffer.putBytes(0, model);
            }
            final int length = 1 + random.nextInt(capacity / 2);
            final int from = random.nextInt(capacity - length + 1);
            // Mostly overlapping moves by a slot or a few, up and down; sometimes anywhere.
            final int shift = random.nextInt(4) == 0 ? random.nextInt(capacity) - from :
                (random.nextBoolean() ? 1 : -1) * (random.nextBoolean() ? 64 : 1 + random.nextInt(200));
            final int to = Math.max(0, Math.min(capacity - length, from + shift));

            buffer.putBytes(to, buffer, from, length);
            System.arraycopy(model, from, model, to, length);

            if (round % 97 == 0)
            {
                buffer.getBytes(0, actual);
                assertArrayEquals(model, actual, "round " + round + " from " + from + " to " + to + " length " + length);
            }
        }
        buffer.getBytes(0, actual);
        assertArrayEquals(model, actual);
    }

    @Test
    void bytesMatchModelWithRefusePolicy()
    {
        final Model model = run(96, FullPolicy.REFUSE, 0x5EED_B001L, 150_000, false);
        assertTrue(model.refused > 1_000, "refusals: " + model.refused);
    }

    @Test
    void bytesMatchModelWithEvictStalestPolicy()
    {
        final Model model = run(96, FullPolicy.EVICT_STALEST, 0x5EED_B002L, 150_000, false);
        assertTrue(model.evictions > 1_000, "evictions: " + model.evictions);
    }

    /** Moves of hundreds of slots at once: the run starts as one key on each of 700 consecutive home slots. */
    @Test
    void bytesMatchModelWithLongRuns()
    {
        final Model model = run(1_500, FullPolicy.EVICT_STALEST, 0x5EED_B003L, 30_000, true);
        assertTrue(model.evictions > 20, "evictions: " + model.evictions);
        assertTrue(model.longestMove > 200, "longest move: " + model.longestMove);
    }

    private static Model run(
        final int capacity, final FullPolicy policy, final long seed, final int operations, final boolean longRuns)
    {
        // Every slot's bytes after every operation in the small tables, after every fourth in the large one.
        final int compareEvery = longRuns ? 4 : 1;
        final Random random = new Random(seed);
        final FlowTable table = new FlowTable(capacity, policy);
        final Model model = new Model(capacity, policy);
        assertEquals(model.slotCount, table.slotCount());
        // Timeouts long enough that expiry does not keep the table nearly empty, short enough that it removes some.
        table.setTimeouts(2_000, 20_000, 500, 5_000);
        model.timeouts[FlowTable.TCP_NONE] = 5_000;
        model.timeouts[FlowTable.TCP_SYN_SEEN] = 2_000;
        model.timeouts[FlowTable.TCP_ESTABLISHED] = 20_000;
        model.timeouts[FlowTable.TCP_CLOSING] = 500;

        final Set<FlowKey> taken = new HashSet<>();
        final List<FlowKey> pool = new ArrayList<>();
        final int crowdedHome = model.homeSlots / 5;
        for (int i = 0; i < 60; i++)
        {
            pool.add(FlowKey.withHome(table, crowdedHome + random.nextInt(3), random, taken));
        }
        // The last home slots: their runs reach into the overflow slots up to the last one an entry can use.
        for (int i = 0; i < 60; i++)
        {
            pool.add(FlowKey.withHome(table, model.homeSlots - 1 - random.nextInt(3), random, taken));
        }
        for (int i = 0; i < capacity / 2; i++)
        {
            pool.add(FlowKey.withHome(table, random.nextInt(model.homeSlots), random, taken));
        }
        final List<FlowKey> runKeys = new ArrayList<>();
        if (longRuns)
        {
            final int runStart = model.homeSlots / 2;
            for (int home = runStart; home < runStart + 700; home++)
            {
                runKeys.add(FlowKey.withHome(table, home, random, taken));
            }
            for (int i = 0; i < 100; i++)
            {
                pool.add(FlowKey.withHome(table, runStart + random.nextInt(700), random, taken));
            }
        }

        final List<FlowKey> evicted = new ArrayList<>();
        final List<FlowKey> expectedEvicted = new ArrayList<>();
        table.setEvictionListener(new FlowExpiry()
        {
            public boolean onIdle(final FlowTable t, final int slot)
            {
                throw new AssertionError("onIdle during insert");
            }

            public void onEvict(final FlowTable t, final int slot)
            {
                evicted.add(FlowKey.at(t, slot));
            }
        });

        long now = 1_000;
        for (final FlowKey key : runKeys)
        {
            assertEquals(model.insert(key, now, expectedEvicted), key.insert(table, now));
        }
        assertBytesMatch(table, model, "after the long run");
        pool.addAll(runKeys);

        for (int op = 0; op < operations; op++)
        {
            now += 1 + random.nextInt(3);
            final FlowKey key = pool.get(random.nextInt(pool.size()));
            final int choice = random.nextInt(100);
            final String step = "seed " + seed + " op " + op;
            if (choice < 40)
            {
                final int expected = model.insert(key, now, expectedEvicted);
                assertEquals(expected, key.insert(table, now), step + " insert");
                assertEquals(expectedEvicted, evicted, step + " evicted");
                expectedEvicted.clear();
                evicted.clear();
            }
            else if (choice < 60)
            {
                final int slot = model.slotOf(key);
                if (slot >= 0)
                {
                    model.removeAt(slot);
                }
                assertEquals(slot >= 0, key.remove(table), step + " remove");
            }
            else if (choice < 65)
            {
                final int from = random.nextInt(model.slotCount);
                final int slot = model.nextOccupied(from);
                assertEquals(slot, table.nextOccupied(from), step + " nextOccupied");
                if (slot != FlowTable.MISSING)
                {
                    model.removeAt(slot);
                    table.removeAt(slot);
                }
            }
            else if (choice < 67)
            {
                final int salt = random.nextInt();
                final int maxSlots = 1 + random.nextInt(64);
                final int expected = model.expire(now, maxSlots, salt);
                assertEquals(expected, table.expire(now, maxSlots, new FlowExpiry()
                {
                    public boolean onIdle(final FlowTable t, final int slot)
                    {
                        return acceptsIdle(FlowKey.at(t, slot), salt);
                    }

                    public void onEvict(final FlowTable t, final int slot)
                    {
                        throw new AssertionError("onEvict during expire");
                    }
                }), step + " expire");
                assertEquals(model.expiryCursor, table.expiryCursor(), step + " expiry cursor");
            }
            else
            {
                final int slot = model.slotOf(key);
                assertEquals(slot, key.find(table), step + " find");
                if (slot >= 0)
                {
                    model.values.get(key).mutate(table, slot, random, now);
                }
            }

            assertEquals(model.values.size(), table.size(), step + " size");
            if (op % compareEvery == 0)
            {
                assertBytesMatch(table, model, step);
            }
        }

        System.out.printf("bytes model %s capacity %d: %d moves up and %d down of 2+ slots, highest slot %d of %d, " +
            "longest %d, %d refused, %d evicted%n", policy, capacity, model.multiSlotMovesUp, model.multiSlotMovesDown,
            model.highestSlotUsed, model.slotCount, model.longestMove, model.refused, model.evictions);
        assertEquals(model.refused, table.refusedInserts());
        assertEquals(model.evictions, table.evictions());
        assertEquals(model.slotCount - 2, model.highestSlotUsed, "runs reached the last usable slot");
        assertTrue(model.multiSlotMovesUp > 1_000, "moves up: " + model.multiSlotMovesUp);
        assertTrue(model.multiSlotMovesDown > 1_000, "moves down: " + model.multiSlotMovesDown);
        return model;
    }

    private static void assertBytesMatch(final FlowTable table, final Model model, final String step)
    {
        final UnsafeBuffer buffer = table.buffer();
        assertEquals((long)model.slotCount * FlowTable.SLOT_LENGTH, buffer.capacity());
        final byte[] actual = new byte[FlowTable.SLOT_LENGTH];
        for (int slot = 0; slot < model.slotCount; slot++)
        {
            buffer.getBytes(slot * FlowTable.SLOT_LENGTH, actual);
            final byte[] expected = model.expectedSlot(slot);
            if (!Arrays.equals(expected, actual))
            {
                assertArrayEquals(expected, actual, step + ": bytes of slot " + slot);
            }
        }
    }
}
