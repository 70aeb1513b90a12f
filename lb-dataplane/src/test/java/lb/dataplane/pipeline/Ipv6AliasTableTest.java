package lb.dataplane.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class Ipv6AliasTableTest
{
    private static final long TESTBED_HIGH = 0x2001_0002_0000_0001L;

    @Test
    void aliasesAreThisNetworkAddressesAndNeverZero()
    {
        assertFalse(Ipv6AliasTable.isAlias(0));
        assertTrue(Ipv6AliasTable.isAlias(1));
        assertTrue(Ipv6AliasTable.isAlias(Ipv6AliasTable.MAX_ALIAS));
        assertFalse(Ipv6AliasTable.isAlias(0x0100_0000));
        assertFalse(Ipv6AliasTable.isAlias(0xC612_0001)); // 198.18.0.1

        for (long low = 0; low < 100_000; low++)
        {
            final int alias = Ipv6AliasTable.preferredAlias(TESTBED_HIGH, low);
            assertTrue(Ipv6AliasTable.isAlias(alias), "alias " + alias);
        }
    }

    @Test
    void preferredAliasIsAFunctionOfTheAddressAndSpreads()
    {
        final Set<Integer> seen = new HashSet<>();
        for (long low = 1; low <= 1000; low++)
        {
            assertEquals(Ipv6AliasTable.preferredAlias(TESTBED_HIGH, low), Ipv6AliasTable.preferredAlias(TESTBED_HIGH, low));
            seen.add(Ipv6AliasTable.preferredAlias(TESTBED_HIGH, low));
        }
        // 1,000 addresses in 2^24 values: a collision or two at most (expected 0.03).
        assertTrue(seen.size() >= 998, "distinct " + seen.size());
    }

    @Test
    void looksUpBothWaysAndRefusesConflicts()
    {
        final Ipv6AliasTable table = new Ipv6AliasTable();
        assertTrue(table.put(5, TESTBED_HIGH, 0x11));
        assertTrue(table.put(5, TESTBED_HIGH, 0x11), "the same pair again is a no-op");
        assertFalse(table.put(5, TESTBED_HIGH, 0x12), "alias already names another address");
        assertFalse(table.put(6, TESTBED_HIGH, 0x11), "address already has another alias");
        assertFalse(table.put(0xC612_0001, TESTBED_HIGH, 0x13), "not an alias");

        assertEquals(5, table.alias(TESTBED_HIGH, 0x11));
        assertEquals(Ipv6AliasTable.NONE, table.alias(TESTBED_HIGH, 0x12));
        assertEquals(TESTBED_HIGH, table.high(5));
        assertEquals(0x11, table.low(5));
        assertEquals(1, table.size());

        final int index = table.indexOf(5);
        assertEquals(TESTBED_HIGH, table.highAt(index));
        assertEquals(0x11, table.lowAt(index));
        assertEquals(-1, table.indexOf(6));
        assertEquals(0, table.highAt(table.indexOf(6)), "an unknown alias has no address");
        assertEquals(0, table.lowAt(table.indexOf(6)));
    }

    @Test
    void holdsItsCapacityAndNoMore()
    {
        final Ipv6AliasTable table = new Ipv6AliasTable();
        for (int i = 0; i < Ipv6AliasTable.MAX_ALIASES; i++)
        {
            assertTrue(table.put(i + 1, TESTBED_HIGH, i));
        }
        assertFalse(table.put(Ipv6AliasTable.MAX_ALIASES + 1, TESTBED_HIGH, -1L));
        for (int i = 0; i < Ipv6AliasTable.MAX_ALIASES; i++)
        {
            assertEquals(i + 1, table.alias(TESTBED_HIGH, i));
            assertEquals(i, table.low(i + 1));
        }
    }
}
