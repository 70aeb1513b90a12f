package lb.control.config;

import static lb.control.config.Ipv6ConfigTest.build;
import static lb.control.config.Ipv6ConfigTest.lines;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import lb.dataplane.spread.SpreadPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** IPv6 route services in the config file: what parses and prints back, and every refusal as one line naming the field. */
class Route6ConfigTest
{
    /** Lines 1 to 10: both families' addresses and LANs, an IPv4 and an IPv6 service. */
    private static final String HEADER = String.join("\n",
        "client-interface cli0",
        "server-interface srv0",
        "client-ip 198.18.0.1",
        "gateway-ip 198.18.1.1",
        "server-network 198.18.1.0/24",
        "client-ip6 2001:2::1",
        "gateway-ip6 2001:2:0:1::1",
        "server-network6 2001:2:0:1::/64",
        "service web6 [2001:2::100]:80/tcp",
        "  backend 2001:2:0:1::11");

    private static String error(final String text)
    {
        return assertThrows(ConfigException.class, () -> build(text)).getMessage();
    }

    @Test
    void ipv6RoutesParseBesideIpv4OnesAndPrintBack()
    {
        final LbConfig config = build(lines(HEADER,
            "route far6 2001:2:0:3::/64",
            "  policy least-flows",
            "  next-hop 2001:2:0:1::12",
            "  next-hop 2001:2:0:1::13",
            "route far 198.19.0.0/16",
            "  next-hop 198.18.1.12",
            "route other6 2001:2:0:4::/64",
            "  policy packet",
            "  next-hop 2001:2:0:1::14",
            ""));
        assertEquals(3, config.routes().size());
        final RouteConfig far6 = config.routes().get(0);
        assertTrue(far6.prefix().isIpv6());
        assertEquals(Ipv6Prefix.parse("2001:2:0:3::/64"), far6.prefix());
        assertEquals(SpreadPolicy.LEAST_FLOWS, far6.policy());
        assertEquals(List.of(IpAddresses.parse("2001:2:0:1::12"), IpAddresses.parse("2001:2:0:1::13")), far6.nextHops());
        assertTrue(far6.nextHops().stream().allMatch(IpAddresses::isIpv6), "IPv6 next hops are aliases, as backends are");
        assertFalse(config.routes().get(1).prefix().isIpv6());
        assertEquals(SpreadPolicy.PACKET, config.routes().get(2).policy());
        final String written = ConfigWriter.format(config);
        assertTrue(written.contains("route far6 2001:2:0:3::/64\n"), written);
        assertTrue(written.contains("  next-hop 2001:2:0:1::12\n"), written);
        assertEquals(config, build(written));
    }

    @Test
    void prefixesOfEitherFamilyHoldOnlyTheirOwnAddresses()
    {
        final RoutePrefix v6 = RoutePrefix.parse("::/0");
        final RoutePrefix v4 = RoutePrefix.parse("0.0.0.0/0");
        final int alias = IpAddresses.parse("2001:2:0:3::5");
        assertTrue(v6.holds(alias));
        assertFalse(v4.holds(alias), "0.0.0.0/0 holds no alias, though aliases are in 0.0.0.0/8");
        assertFalse(v6.holds(IpAddresses.parse("198.19.0.5")));
        assertFalse(v4.overlaps(v6) || v6.overlaps(v4));
        assertTrue(RoutePrefix.parse("2001:2::/48").overlaps(RoutePrefix.parse("2001:2:0:3::/64")));
        assertTrue(RoutePrefix.parse("2001:2:0:3::/64").overlaps(RoutePrefix.parse("2001:2::/48")));
        assertFalse(RoutePrefix.parse("2001:2:0:3::/64").overlaps(RoutePrefix.parse("2001:2:0:4::/64")));
    }

    static Stream<Arguments> refusals()
    {
        final String route = "route far6 2001:2:0:3::/64";
        return Stream.of(
            Arguments.of(lines(HEADER, route), "lb.conf:11: route far6: no next hops (add 'next-hop IP' lines after it)"),
            Arguments.of(lines(HEADER, route, "  next-hop 2001:2:0:9::12"),
                "lb.conf:12: next-hop: 2001:2:0:9::12 is outside server-network6 2001:2:0:1::/64: next hops must be on the " +
                    "server-side LAN"),
            Arguments.of(lines(HEADER, route, "  next-hop 198.18.1.12"),
                "lb.conf:12: next-hop: 198.18.1.12 is IPv4 but the route's prefix 2001:2:0:3::/64 is IPv6: next hops are of " +
                    "the prefix's family"),
            Arguments.of(lines(HEADER, "route far 198.19.0.0/16", "  next-hop 2001:2:0:1::12"),
                "lb.conf:12: next-hop: 2001:2:0:1::12 is IPv6 but the route's prefix 198.19.0.0/16 is IPv4: next hops are of " +
                    "the prefix's family"),
            Arguments.of(lines(HEADER, route, "  next-hop 2001:2:0:1::1"),
                "lb.conf:12: next-hop: 2001:2:0:1::1 is lb's own address"),
            Arguments.of(lines(HEADER, "route near6 2001:2::/64", "  next-hop 2001:2:0:1::12"),
                "lb.conf:11: route near6: 2001:2::/64 holds VIP 2001:2::100 of service 'web6': a VIP cannot be routed through"),
            Arguments.of(lines(HEADER, "route lan6 2001:2:0:1::/120", "  next-hop 2001:2:0:1::12"),
                "lb.conf:11: route lan6: 2001:2:0:1::/120 holds lb's own address 2001:2:0:1::1"),
            Arguments.of(lines(HEADER, route, "  next-hop 2001:2:0:1::12", "route near6 2001:2::/48",
                "  next-hop 2001:2:0:1::13"),
                "lb.conf:13: route near6: 2001:2::/48 overlaps route 'far6' 2001:2:0:3::/64 (line 11)"),
            Arguments.of(lines(HEADER, "route far6 2001:2:0:3::1/64", "  next-hop 2001:2:0:1::12"),
                "lb.conf:11: route far6: 2001:2:0:3::1/64 has host bits set (the network is 2001:2:0:3::/64)"),
            Arguments.of(lines(HEADER, "route far6 2001:2:0:3::/129", "  next-hop 2001:2:0:1::12"),
                "lb.conf:11: route far6: prefix length 129 is not 0..128"),
            Arguments.of(lines("client-interface cli0", "server-interface srv0", "client-ip 198.18.0.1", "gateway-ip 198.18.1.1",
                "server-network 198.18.1.0/24", route, "  next-hop 2001:2:0:1::12"),
                "lb.conf:6: route far6: an IPv6 route needs client-ip6 and gateway-ip6 (lb's own IPv6 addresses: the clients' " +
                    "router and the next hops' way back)"),
            Arguments.of(lines("client-interface cli0", "server-interface srv0", "client-ip 198.18.0.1", "gateway-ip 198.18.1.1",
                "client-ip6 2001:2::1", "gateway-ip6 2001:2:0:1::1", route, "  next-hop 2001:2:0:1::12"),
                "lb.conf:7: route far6: needs server-network6 (the LAN its next hops are on)"));
    }

    @ParameterizedTest
    @MethodSource("refusals")
    void everyRefusalIsOneLineNamingTheField(final String text, final String message)
    {
        assertEquals(message, error(text));
        assertFalse(message.contains("\n"));
    }
}
