package lb.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lb.dataplane.pipeline.Ipv6AliasTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IpAddressesTest
{
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // text as written                          | high               | low                | RFC 5952 form
        "2001:2::1                                  | 2001000200000000 | 0000000000000001 | 2001:2::1",
        "2001:0002:0000:0000:0000:0000:0000:0001    | 2001000200000000 | 0000000000000001 | 2001:2::1",
        "2001:2:0:1::11                             | 2001000200000001 | 0000000000000011 | 2001:2:0:1::11",
        "2001:2:0:0:1:0:0:1                         | 2001000200000000 | 0001000000000001 | 2001:2::1:0:0:1",
        "2001:2:0:0:0:1:0:0                         | 2001000200000000 | 0000000100000000 | 2001:2::1:0:0",
        "2001:2:0:1:0:0:0:0                         | 2001000200000001 | 0000000000000000 | 2001:2:0:1::",
        "2001:2:1:1:1:1:0:1                         | 2001000200010001 | 0001000100000001 | 2001:2:1:1:1:1:0:1",
        "2001:2:1:0:0:1:1:1                         | 2001000200010000 | 0000000100010001 | 2001:2:1::1:1:1",
        "2001:DB8:AbCd::FFFF                        | 20010db8abcd0000 | 000000000000ffff | 2001:db8:abcd::ffff",
        "::                                         | 0000000000000000 | 0000000000000000 | ::",
        "::1                                        | 0000000000000000 | 0000000000000001 | ::1",
        "1::                                        | 0001000000000000 | 0000000000000000 | 1::",
        "0:0:0:0:0:0:0:2                            | 0000000000000000 | 0000000000000002 | ::2",
        "1:0:0:2:0:0:0:3                            | 0001000000000002 | 0000000000000003 | 1:0:0:2::3",
        "::ffff:198.18.0.1                          | 0000000000000000 | 0000ffffc6120001 | ::ffff:198.18.0.1",
        "2001:2::198.18.0.1                         | 2001000200000000 | 00000000c6120001 | 2001:2::c612:1",
        "ff02::1:ff00:11                            | ff02000000000000 | 00000001ff000011 | ff02::1:ff00:11"})
    void parsesTheTextFormsAndFormatsRfc5952(final String text, final String high, final String low, final String canonical)
    {
        final Ipv6Address address = Ipv6Address.parse(text);
        assertEquals(Long.parseUnsignedLong(high, 16), address.high(), text);
        assertEquals(Long.parseUnsignedLong(low, 16), address.low(), text);
        assertEquals(canonical, address.toString());
        assertEquals(address, Ipv6Address.parse(canonical), "the canonical form reads back");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "2001:2::1::2            | more than one '::'",
        "2001:2:3:4:5:6:7        | 7 groups, need 8 or a '::'",
        "1:2:3:4:5:6:7:8:9       | more than 8 groups",
        "1:2:3:4::5:6:7:8        | 8 groups and a '::', which stands for at least one more",
        "2001:2::12345           | '12345' is not a group of 1 to 4 hex digits",
        "2001:2::g               | 'g' is not a group of 1 to 4 hex digits",
        ":2001:2::1              | a single ':' at an end",
        "2001:2::1:              | a single ':' at an end",
        "2001::2:::1             | more than one '::'",
        "2001:2:::1              | more than one '::'",
        "fe80::1%eth0            | a zone index is not allowed",
        "198.18.0.1              | no ':'",
        "::198.18.0.1:1          | a dotted quad may only be the last 32 bits",
        "2001:2::-1              | '-1' is not a group of 1 to 4 hex digits",
        "2001:2::+1              | '+1' is not a group of 1 to 4 hex digits"})
    void rejectsMalformedText(final String text, final String why)
    {
        assertEquals("expected an IPv6 address such as 2001:2::1, got '" + text + "' (" + why + ")",
            assertThrows(IllegalArgumentException.class, () -> Ipv6Address.parse(text)).getMessage());
    }

    @Test
    void anEmbeddedQuadIsCheckedAsStrictlyAsAnIpv4Address()
    {
        assertEquals("expected an IPv4 address a.b.c.d, got '198.18.0.256' (256 is not 0..255)",
            assertThrows(IllegalArgumentException.class, () -> Ipv6Address.parse("::ffff:198.18.0.256")).getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "::            | the unspecified address",
        "::1           | the loopback address",
        "ff02::1       | a multicast address",
        "::ffff:1.2.3.4 | IPv4-mapped: write the IPv4 address as a.b.c.d"})
    void refusesAddressesNoHostHas(final String text, final String why)
    {
        assertEquals("expected an IPv6 host address, got '" + text + "' (" + why + ")",
            assertThrows(IllegalArgumentException.class, () -> IpAddresses.parse(text)).getMessage());
    }

    @Test
    void ipv4TextIsTheAddressItselfAndThisNetworkIsRefused()
    {
        assertEquals(0xC6120001, IpAddresses.parse("198.18.0.1"));
        assertFalse(IpAddresses.isIpv6(0xC6120001));
        assertEquals("198.18.0.1", IpAddresses.format(0xC6120001));
        assertEquals("198.18.0.1:80", IpAddresses.endpoint(0xC6120001, 80));
        assertEquals("expected an IPv4 address a.b.c.d, got '0.0.0.7' (0.0.0.0/8 is 'this network', never a host)",
            assertThrows(IllegalArgumentException.class, () -> IpAddresses.parse("0.0.0.7")).getMessage());
        assertEquals("expected an IPv4 address a.b.c.d, got '2001:2::1' (IPv6 is not taken here)",
            assertThrows(IllegalArgumentException.class, () -> IpAddresses.parseIpv4("2001:2::1")).getMessage());
    }

    @Test
    void anIpv6AddressIsNamedByItsPreferredAliasAndAlwaysTheSameOne()
    {
        final int alias = IpAddresses.parse("2001:2:0:1::31");
        assertTrue(IpAddresses.isIpv6(alias));
        assertTrue(Ipv6AliasTable.isAlias(alias), "in 0.0.0.0/8, not 0");
        assertEquals(Ipv6AliasTable.preferredAlias(0x2001000200000001L, 0x31L), alias);
        assertEquals(alias, IpAddresses.parse("2001:0002:0:1:0:0:0:0031"), "another spelling, the same address");
        assertEquals(alias, IpAddresses.alias(0x2001000200000001L, 0x31L));
        assertEquals(0x2001000200000001L, IpAddresses.high(alias));
        assertEquals(0x31L, IpAddresses.low(alias));
        assertEquals("2001:2:0:1::31", IpAddresses.format(alias));
        assertEquals("[2001:2:0:1::31]:8080", IpAddresses.endpoint(alias, 8080));
        assertEquals(new Ipv6Address(0x2001000200000001L, 0x31L), IpAddresses.all6().get(alias));
        assertEquals(Ipv6AliasTable.NONE, IpAddresses.alias(0x2001000200000001L, 0x7777L), "never configured");
    }

    @Test
    void aCollisionProbesOnToTheNextFreeAlias()
    {
        // Find a second address in 2001:2:0:2::/64 whose preferred alias equals the first one's.
        final long high = 0x2001000200000002L;
        final int wanted = Ipv6AliasTable.preferredAlias(high, 1);
        long other = -1;
        for (long low = 2; low < 200_000_000L && other < 0; low++)
        {
            if (Ipv6AliasTable.preferredAlias(high, low) == wanted)
            {
                other = low;
            }
        }
        assertTrue(other > 0, "a colliding address exists among the first 2e8");
        final int first = IpAddresses.intern(new Ipv6Address(high, 1));
        final int second = IpAddresses.intern(new Ipv6Address(high, other));
        assertEquals(wanted, first);
        assertNotEquals(first, second);
        assertEquals(wanted == Ipv6AliasTable.MAX_ALIAS ? 1 : wanted + 1, second);
        assertEquals(other, IpAddresses.low(second));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "2001:2:0:1::/64     | 2001:2:0:1::11   | true",
        "2001:2:0:1::/64     | 2001:2:0:2::11   | false",
        "2001:2::/48         | 2001:2:0:ffff::1 | true",
        "2001:2::/48         | 2001:2:1::1      | false",
        "2001:2::/48         | 2001:3::1        | false",
        "2001:2:0:1::10/124  | 2001:2:0:1::1f   | true",
        "2001:2:0:1::10/124  | 2001:2:0:1::20   | false",
        "::/0                | 2001:2::1        | true"})
    void prefixesHoldTheirNetwork(final String prefix, final String address, final boolean inside)
    {
        final Ipv6Prefix p = Ipv6Prefix.parse(prefix);
        assertEquals(prefix, p.toString());
        assertEquals(inside, p.contains(Ipv6Address.parse(address)));
        assertEquals(inside, p.contains(IpAddresses.parse(address)));
        assertFalse(p.contains(0xC6120001), "never an IPv4 address");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "2001:2:0:1::1/64    | 2001:2:0:1::1/64 has host bits set (the network is 2001:2:0:1::/64)",
        "2001:2::/129        | prefix length 129 is not 0..128",
        "2001:2::/x          | prefix length 'x' is not a number 0..128",
        "2001:2::            | '2001:2::' has no prefix length, expected NETWORK/LENGTH such as 2001:2:0:1::/64"})
    void rejectsBadPrefixes(final String text, final String message)
    {
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> Ipv6Prefix.parse(text)).getMessage());
    }
}
