package lb.dataplane.flow;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** FlowTable against a HashMap model under long seeded random operation sequences with forced collisions. */
final class FlowTableModelTest
{
    private static final int OPERATIONS = 300_000;

    /** The value fields of one entry as the model expects them. */
    @Test
    void matchesModelWithRefusePolicy()
    {
        runAgainstModel(FullPolicy.REFUSE, 0x5EED_0001L);
    }

    @Test
    void matchesModelWithEvictStalestPolicy()
    {
        runAgainstModel(FullPolicy.EVICT_STALEST, 0x5EED_0002L);
    }

    private static void runAgainstModel(final FullPolicy policy, final long seed)
    {
        final Random random = new Random(seed);
        final FlowTable table = new FlowTable(96, policy);
        assertEquals(128 + FlowTable.PROBE_WINDOW, table.slotCount());

        // Keys crowding into two home slots (more of them than a window holds), keys at the end of the home range
        // (probing into the overflow slots), and keys spread at random: more keys than the capacity.
        final Set<FlowKey> taken = new HashSet<>();
        final List<FlowKey> pool = new ArrayList<>();
        for (int i = 0; i < 80; i++)
        {
            pool.add(FlowKey.withHome(table, 20 + random.nextInt(2), random, taken));
        }
        for (int i = 0; i < 30; i++)
        {
            pool.add(FlowKey.withHome(table, 124 + random.nextInt(4), random, taken));
        }
        for (int i = 0; i < 100; i++)
        {
            pool.add(FlowKey.withHome(table, random.nextInt(128), random, taken));
        }

        final Map<FlowKey, FlowValues> model = new HashMap<>();
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
            }
        });

        long now = 1_000;
        long refusals = 0;
        long evictions = 0;
        long misfits = 0;
        for (int op = 0; op < OPERATIONS; op++)
        {
            now += 1 + random.nextInt(3);
            final FlowKey key = pool.get(random.nextInt(pool.size()));
            final int choice = random.nextInt(100);
            if (choice < 35)
            {
                final boolean present = model.containsKey(key);
                final boolean fits = present || key.fits(table);
                final boolean noRoom = !present && (!fits || model.size() == table.capacity());
                final FlowKey expectedVictim = noRoom && policy == FullPolicy.EVICT_STALEST ?
                    expectedVictim(table, key, now) : null;
                final int presentSlot = key.find(table);
                misfits += fits ? 0 : 1;

                final int slot = key.insert(table, now);

                if (present)
                {
                    assertEquals(presentSlot, slot, "insert of a present key returns its slot");
                    assertValues(table, slot, model.get(key));
                }
                else if (noRoom && policy == FullPolicy.REFUSE)
                {
                    assertEquals(FlowTable.FULL, slot);
                    refusals++;
                }
                else
                {
                    assertTrue(slot >= 0, "insert returned " + slot + (noRoom ? " after evicting" : ""));
                    if (noRoom)
                    {
                        assertEquals(List.of(expectedVictim), evicted, "evicted the stalest in the window");
                        evicted.clear();
                        model.remove(expectedVictim);
                        evictions++;
                    }
                    model.put(key, new FlowValues(now));
                    assertEquals(key, FlowKey.at(table, slot));
                    assertValues(table, slot, model.get(key));
                }
                assertTrue(evicted.isEmpty(), "unexpected eviction");
            }
            else if (choice < 60)
            {
                assertEquals(model.remove(key) != null, key.remove(table));
                assertEquals(FlowTable.MISSING, key.find(table));
            }
            else if (choice < 65)
            {
                final int slot = table.nextOccupied(random.nextInt(table.slotCount()));
                if (slot != FlowTable.MISSING)
                {
                    final FlowKey atSlot = FlowKey.at(table, slot);
                    table.removeAt(slot);
                    assertTrue(model.remove(atSlot) != null);
                    assertEquals(FlowTable.MISSING, atSlot.find(table));
                }
            }
            else if (choice < 85)
            {
                final int slot = key.find(table);
                final FlowValues values = model.get(key);
                assertEquals(values == null, slot == FlowTable.MISSING, "find agrees with the model");
                if (values != null)
                {
                    assertValues(table, slot, values);
                }
            }
            else
            {
                final int slot = key.find(table);
                final FlowValues values = model.get(key);
                if (values != null)
                {
                    values.mutate(table, slot, random, now);
                }
            }

            assertEquals(model.size(), table.size());
            if (op % 2_000 == 0)
            {
                assertMatchesModel(table, model);
            }
        }
        assertMatchesModel(table, model);

        System.out.printf("%s: %d ops, %d keys did not fit their window, %d refused, %d evicted%n",
            policy, OPERATIONS, misfits, refusals, evictions);
        assertEquals(refusals, table.refusedInserts());
        assertEquals(evictions, table.evictions());
        // The run must actually have exercised the full cases it claims to cover.
        assertTrue(misfits > 1_000, "keys that did not fit their window: " + misfits);
        if (policy == FullPolicy.REFUSE)
        {
            assertTrue(refusals > 1_000, "refusals: " + refusals);
        }
        else
        {
            assertEquals(0, table.refusedInserts());
            assertTrue(evictions > 1_000, "evictions: " + evictions);
        }
    }

    /** What EVICT_STALEST should pick: the oldest in the window (first on ties), else the next entry after it. */
    private static FlowKey expectedVictim(final FlowTable table, final FlowKey key, final long now)
    {
        final int home = key.home(table);
        int victim = FlowTable.MISSING;
        long oldestAge = Long.MIN_VALUE;
        for (int slot = home; slot < home + FlowTable.PROBE_WINDOW; slot++)
        {
            if (table.isOccupied(slot) && now - table.lastSeen(slot) > oldestAge)
            {
                oldestAge = now - table.lastSeen(slot);
                victim = slot;
            }
        }
        if (victim == FlowTable.MISSING)
        {
            victim = table.nextOccupied(home + FlowTable.PROBE_WINDOW);
            if (victim == FlowTable.MISSING)
            {
                victim = table.nextOccupied(0);
            }
        }
        return FlowKey.at(table, victim);
    }

    private static void assertValues(final FlowTable table, final int slot, final FlowValues values)
    {
        assertEquals(values.serviceId, table.serviceId(slot));
        assertEquals(values.backendId, table.backendId(slot));
        assertEquals(values.natIp, table.natIp(slot));
        assertEquals(values.natPort, table.natPort(slot));
        assertEquals(values.peerMac, table.peerMac(slot));
        assertEquals(values.lastSeen, table.lastSeen(slot));
        assertEquals(values.tcpState, table.tcpState(slot));
        assertEquals(values.returnDirection, table.isReturnDirection(slot));
        assertEquals(values.packets, table.packets(slot));
        assertEquals(values.bytes, table.bytes(slot));
    }

    private static void assertMatchesModel(final FlowTable table, final Map<FlowKey, FlowValues> model)
    {
        FlowKey.assertStructure(table);
        assertEquals(model.keySet(), FlowKey.keysIn(table));
        for (final Map.Entry<FlowKey, FlowValues> entry : model.entrySet())
        {
            final int slot = entry.getKey().find(table);
            assertNotEquals(FlowTable.MISSING, slot);
            assertValues(table, slot, entry.getValue());
        }
    }

    /**
     * Millions of remove/insert cycles at full capacity. With tombstones every slot would end up non-empty and
     * misses would read the whole window; with backward-shift deletion the slots in use must be exactly those of a
     * table built fresh from the surviving keys (linear probing's occupied set does not depend on insertion order).
     */
    @Test
    void churnLeavesNoTombstones()
    {
        final Random random = new Random(0x70B5_70E5L);
        final FlowTable table = new FlowTable(4096);
        final List<FlowKey> present = new ArrayList<>();
        final Set<FlowKey> presentSet = new HashSet<>();
        while (present.size() < table.capacity())
        {
            final FlowKey key = FlowKey.random(random);
            if (presentSet.add(key))
            {
                assertTrue(key.insert(table, 0) >= 0);
                present.add(key);
            }
        }
        assertEquals(table.capacity(), table.size());

        long refused = 0;
        for (int cycle = 0; cycle < 2_000_000; cycle++)
        {
            final int index = random.nextInt(present.size());
            final FlowKey gone = present.get(index);
            present.set(index, present.get(present.size() - 1));
            present.remove(present.size() - 1);
            presentSet.remove(gone);
            assertTrue(gone.remove(table));

            FlowKey fresh = FlowKey.random(random);
            while (presentSet.contains(fresh))
            {
                fresh = FlowKey.random(random);
            }
            if (fresh.insert(table, cycle) >= 0)
            {
                present.add(fresh);
                presentSet.add(fresh);
            }
            else
            {
                refused++;
            }
        }
        assertEquals(refused, table.refusedInserts());
        assertEquals(0, refused, "inserts refused at full load (capacity reached counts too)");
        assertEquals(present.size(), table.size());
        FlowKey.assertStructure(table);
        assertEquals(presentSet, FlowKey.keysIn(table));

        final FlowTable rebuilt = new FlowTable(4096);
        Collections.shuffle(present, random);
        for (final FlowKey key : present)
        {
            assertTrue(key.insert(rebuilt, 0) >= 0);
        }
        int empty = 0;
        for (int slot = 0; slot < table.slotCount(); slot++)
        {
            assertEquals(rebuilt.isOccupied(slot), table.isOccupied(slot), "slot " + slot);
            empty += table.isOccupied(slot) ? 0 : 1;
        }
        assertEquals(table.slotCount() - table.size(), empty);

        // A miss reads no further than the first empty slot after its home (in Robin Hood order it usually stops
        // sooner): that distance must stay well inside the window on average.
        long probed = 0;
        for (int i = 0; i < 10_000; i++)
        {
            final FlowKey absent = FlowKey.random(random);
            assertFalse(presentSet.contains(absent));
            assertEquals(FlowTable.MISSING, absent.find(table));
            int slot = absent.home(table);
            while (slot < table.slotCount() && table.isOccupied(slot))
            {
                slot++;
            }
            probed += slot - absent.home(table) + 1;
        }
        final double meanToEmpty = probed / 10_000.0;
        assertTrue(meanToEmpty < FlowTable.PROBE_WINDOW / 2.0, "mean slots from home to an empty slot: " + meanToEmpty);
        System.out.printf("churn: refused %d of 2000000 inserts at full load, mean %.2f slots from home to empty%n",
            refused, meanToEmpty);
    }
}
