package lb.dataplane.io;

import lb.dataplane.flow.FlowTable;
import lb.dataplane.flow.FullPolicy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HugePageMemoryTest
{
    @Test
    void mapsZeroedAlignedMemoryThatAFlowTableUses()
    {
        final long before = HugePageMemory.anonHugePagesBytes();
        final UnsafeBuffer buffer = HugePageMemory.allocate(64L << 20);
        assertNotNull(buffer);
        assertEquals(0, buffer.addressOffset() % HugePageMemory.HUGE_PAGE, "2 MiB aligned");
        for (int i = 0; i < buffer.capacity(); i += 4096)
        {
            assertEquals(0, buffer.getLong(i), "zeroed");
            buffer.putLong(i, i);
        }
        assertEquals(4096L * 100, buffer.getLong(4096 * 100));
        // THP is "madvise" or "always" on this machine: touching 64 MiB of advised memory gets huge pages.
        assertTrue(HugePageMemory.anonHugePagesBytes() > before, "huge pages after touching: " + HugePageMemory.anonHugePagesBytes());

        final FlowTable table = new FlowTable(100_000, FullPolicy.REFUSE, HugePageMemory::allocate);
        final int slot = table.insert(1, 2, 3, 4, 6, 5L);
        assertEquals(slot, table.find(1, 2, 3, 4, 6));
        assertEquals(1, table.size());
    }
}
