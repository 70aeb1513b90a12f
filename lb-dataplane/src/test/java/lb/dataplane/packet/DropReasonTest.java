package lb.dataplane.packet;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DropReasonTest
{
    @Test
    void metricNamesAreShortLowercaseAndUnique()
    {
        final Set<String> names = new HashSet<>();
        for (final DropReason reason : DropReason.values())
        {
            final String name = reason.metricName();
            assertTrue(name.matches("[a-z][a-z0-9_]{2,31}"), name);
            assertTrue(names.add(name), name);
            assertEquals(reason.name().toLowerCase(java.util.Locale.ROOT), name);
            assertFalse(reason.description().isBlank(), name);
            assertFalse(reason.description().contains("\n"), name);
        }
        assertEquals("truncated_ipv4", DropReason.TRUNCATED_IPV4.metricName());
    }

    @Test
    void declaresThePipelineAndIoReasons()
    {
        for (final String name : new String[]{
            "NOT_FOR_US", "NO_SERVICE", "NO_BACKEND", "TTL_EXCEEDED", "FLOW_TABLE_FULL", "NO_FLOW",
            "SNAPLEN_TRUNCATED", "TX_RING_FULL", "OVERSIZE_FRAME" })
        {
            assertEquals(name, DropReason.valueOf(name).name());
        }
    }
}
