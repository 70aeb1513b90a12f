package lb.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import lb.dataplane.pipeline.ForwardingMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** IPv6 in the config file: lb's own IPv6 addresses, IPv6 services and backends, and what is refused. */
class Ipv6ConfigTest
{
    /** Lines 1 to 6. */
    private static final String HEADER = String.join("\n",
        "client-interface cli0",
        "server-interface srv0",
        "client-ip 198.18.0.1",
        "gateway-ip 198.18.1.1",
        "client-ip6 2001:2::1",
        "gateway-ip6 2001:2:0:1::1");

    static LbConfig build(final String text)
    {
        return ConfigParser.parse("lb.conf", text).build();
    }

    static String lines(final String... lines)
    {
        return String.join("\n", lines);
    }

    @Test
    void parsesIpv6AddressesServicesAndBackendsBesideIpv4Ones()
    {
        final LbConfig config = build(lines(HEADER,
            "server-network6 2001:2:0:1::/64",
            "flow-table-size6 4096",
            "service web6 [2001:2::100]:80/tcp",
            "  backend 2001:2:0:1::11",
            "  backend [2001:0002:0:1::12]:8080 weight 3",
            "service web 198.18.0.100:80/tcp",
            "  backend 198.18.1.11",
            "service dsr6 [2001:2::101]:80/tcp",
            "  mode dsr",
            "  backend 2001:2:0:1::13"));
        final Ipv6Config ipv6 = config.ipv6();
        assertEquals("2001:2::1", IpAddresses.format(ipv6.clientIp6()));
        assertEquals("2001:2:0:1::1", IpAddresses.format(ipv6.gatewayIp6()));
        assertEquals(Ipv6Prefix.parse("2001:2:0:1::/64"), ipv6.serverNetwork6());
        assertEquals(4096, ipv6.flowTableSize6());
        assertEquals(0xC6120001, config.clientIp());

        final ServiceConfig web6 = config.service("web6");
        assertTrue(IpAddresses.isIpv6(web6.vip()));
        assertEquals("[2001:2::100]:80/tcp", web6.key());
        assertEquals(List.of(
            new BackendConfig(IpAddresses.parse("2001:2:0:1::11"), BackendConfig.SAME_PORT, 1),
            new BackendConfig(IpAddresses.parse("2001:2:0:1::12"), 8080, 3)), web6.backends());
        assertEquals(0xC6120064, config.service("web").vip(), "IPv4 as before");
        assertEquals(ForwardingMode.DSR, config.service("dsr6").mode());
    }

    @Test
    void ipipServesAnIpv6ServiceWithoutAServerNetworkAndTheWriterKeepsIt()
    {
        final LbConfig config = build(lines(HEADER,
            "service tun6 [2001:2::102]:80/tcp",
            "  mode ipip",
            "  scheduler maglev",
            "  backend 2001:2:0:1::11",
            "  backend 2001:2:0:1::12"));
        final ServiceConfig tun6 = config.service("tun6");
        assertEquals(ForwardingMode.IPIP, tun6.mode());
        assertTrue(IpAddresses.isIpv6(tun6.vip()));
        assertEquals(2, tun6.backends().size());
        assertEquals(config, build(ConfigWriter.format(config)));
        assertNull(config.ipv6().refusal(tun6.vip()), "the control socket's check agrees");
    }

    @Test
    void anIpv6ServiceTakesATcpCheckLikeAnIpv4One()
    {
        final LbConfig config = build(lines(HEADER,
            "service web6 [2001:2::100]:80/tcp",
            "  check tcp",
            "  check-port 8080",
            "  check-interval 500ms",
            "  check-fall 3",
            "  backend 2001:2:0:1::11"));
        final TcpCheckConfig check = config.service("web6").check();
        assertEquals(8080, check.portFor(80));
        assertEquals(Duration.ofMillis(500), check.interval());
        assertEquals(3, check.fall());
    }

    @Test
    void theWriterPrintsIpv6InRfc5952FormAndItParsesBackToAnEqualConfig()
    {
        final LbConfig config = build(lines(HEADER,
            "server-network6 2001:2:0:1:0:0:0:0/64",
            "service web6 [2001:0002:0000:0000:0000:0000:0000:0100]:80/tcp",
            "  backend 2001:2:0:1:0:0:0:11",
            "  backend [2001:2:0:1::12]:8080"));
        final String written = ConfigWriter.format(config);
        assertEquals(config, build(written));
        assertTrue(written.contains("\nclient-ip6 2001:2::1\ngateway-ip6 2001:2:0:1::1\n"), written);
        assertTrue(written.contains("\nflow-table-size6 262144\n"), written);
        assertTrue(written.contains("\nserver-network6 2001:2:0:1::/64\n"), written);
        assertTrue(written.contains("\nservice web6 [2001:2::100]:80/tcp\n"), written);
        assertTrue(written.contains("\n  backend 2001:2:0:1::11 weight 1\n  backend [2001:2:0:1::12]:8080 weight 1\n"), written);
    }

    @Test
    void withoutIpv6SettingsThereIsNoIpv6()
    {
        final LbConfig config = build(lines("client-interface cli0", "server-interface srv0", "client-ip 198.18.0.1",
            "gateway-ip 198.18.1.1", "service web 198.18.0.100:80/tcp", "  backend 198.18.1.11"));
        assertEquals(Ipv6Config.NONE, config.ipv6());
        assertTrue(!config.ipv6().enabled());
        assertNull(config.ipv6().serverNetwork6());
        assertTrue(!ConfigWriter.format(config).contains("ip6 "), "no IPv6 address lines printed");
    }

    static Stream<Arguments> errors()
    {
        return Stream.of(
            Arguments.of(lines(HEADER, "client-ip6 2001:2::2"), "lb.conf:7: client-ip6: already set (line 5)"),
            Arguments.of(lines("client-ip6 198.18.0.1"),
                "lb.conf:1: client-ip6: expected an IPv6 address such as 2001:2::1, got '198.18.0.1' (no ':')"),
            Arguments.of(lines("gateway-ip6 ff02::1"),
                "lb.conf:1: gateway-ip6: expected an IPv6 host address, got 'ff02::1' (a multicast address)"),
            Arguments.of(lines("client-ip 2001:2::1"),
                "lb.conf:1: client-ip: expected an IPv4 address a.b.c.d, got '2001:2::1' (IPv6 is not taken here)"),
            Arguments.of(lines("server-network6 2001:2:0:1::1/64"),
                "lb.conf:1: server-network6: 2001:2:0:1::1/64 has host bits set (the network is 2001:2:0:1::/64)"),
            Arguments.of(lines("flow-table-size6 100"),
                "lb.conf:1: flow-table-size6: expected an integer 1024..8388608, got '100'"),
            Arguments.of(lines(HEADER, "service web6 2001:2::100:80/tcp"),
                "lb.conf:7: service web6: expected VIP:PORT/PROTO with an IPv6 VIP in brackets such as " +
                "[2001:2::100]:80/tcp, got '2001:2::100:80/tcp'"),
            Arguments.of(lines(HEADER, "service web6 [2001:2::100:80/tcp"),
                "lb.conf:7: service web6: expected VIP:PORT/PROTO with an IPv6 VIP in brackets such as " +
                "[2001:2::100]:80/tcp, got '[2001:2::100:80/tcp'"),
            Arguments.of(lines(HEADER, "service web6 [2001:2::1x0]:80/tcp"),
                "lb.conf:7: service web6: expected an IPv6 address such as 2001:2::1, got '2001:2::1x0' " +
                "('1x0' is not a group of 1 to 4 hex digits)"),
            Arguments.of(lines(HEADER, "service web6 [2001:2::100]:80/tcp", "  backend [2001:2:0:1::11]8080"),
                "lb.conf:8: backend: expected [IPv6]:PORT such as [2001:2:0:1::11]:8080, got '[2001:2:0:1::11]8080'"),
            Arguments.of(lines(HEADER, "service web6 [2001:2::100]:80/tcp", "  backend 198.18.1.11"),
                "lb.conf:8: backend: 198.18.1.11 is IPv4 but service 'web6' has an IPv6 VIP: a service's backends are " +
                "of its VIP's family"),
            Arguments.of(lines(HEADER, "service web 198.18.0.100:80/tcp", "  backend 2001:2:0:1::11"),
                "lb.conf:8: backend: 2001:2:0:1::11 is IPv6 but service 'web' has an IPv4 VIP: a service's backends are " +
                "of its VIP's family"),
            Arguments.of(lines(HEADER, "service tun6 [2001:2::100]:80/tcp", "  mode ipip", "  backend 2001:2:0:1::1"),
                "lb.conf:9: backend: 2001:2:0:1::1 is lb's own address, the gateway-ip6 (line 6)"),
            Arguments.of(lines(HEADER, "service tun6 [2001:2::100]:80/tcp", "  mode ipip", "  backend 2001:2::1"),
                "lb.conf:9: backend: 2001:2::1 is lb's own address, the client-ip6 (line 5)"),
            Arguments.of(lines(HEADER, "service tun6 [2001:2::100]:80/tcp", "  mode ipip", "  backend 198.18.1.11"),
                "lb.conf:9: backend: 198.18.1.11 is IPv4 but service 'tun6' has an IPv6 VIP: a service's backends are " +
                "of its VIP's family"),
            Arguments.of(lines("client-interface cli0", "server-interface srv0", "client-ip 198.18.0.1",
                "gateway-ip 198.18.1.1", "service tun6 [2001:2::100]:80/tcp", "  mode ipip", "  backend 2001:2:0:1::11"),
                "lb.conf:5: service tun6: IPv6 VIP 2001:2::100 needs client-ip6 and gateway-ip6 (lb's own IPv6 addresses)"),
            Arguments.of(lines(HEADER, "server-network6 2001:2:0:1::/64", "service tun6 [2001:2::100]:80/tcp", "  mode ipip",
                "  backend 2001:2:0:2::11"),
                "lb.conf:10: backend: 2001:2:0:2::11 is not on the server-side LAN 2001:2:0:1::/64 (server-network6, " +
                "line 7): lb reaches backends on that LAN only"),
            Arguments.of(lines(HEADER, "service dns6 [2001:2::100]:53/udp", "  check tcp", "  backend 2001:2:0:1::11"),
                "lb.conf:8: check: service 'dns6' is udp: give check-port, the TCP port to check"),
            Arguments.of(lines(HEADER, "service web6 [2001:2::100]:80/tcp", "  check-port 8080", "  backend 2001:2:0:1::11"),
                "lb.conf:8: check-port: needs 'check tcp' in service 'web6'"),
            Arguments.of(lines(HEADER, "service web6 [2001:2::100]:80/tcp", "  mode dsr", "  backend 2001:2:0:1::11"),
                "lb.conf:8: mode: dsr needs the server-side LAN: add 'server-network6 PREFIX' (e.g. 2001:2:0:1::/64) " +
                "above the services"),
            Arguments.of(lines(HEADER, "server-network6 2001:2:0:1::/64", "service web6 [2001:2::100]:80/tcp",
                "  backend 2001:2:0:2::11"),
                "lb.conf:9: backend: 2001:2:0:2::11 is not on the server-side LAN 2001:2:0:1::/64 (server-network6, " +
                "line 7): lb reaches backends on that LAN only"),
            Arguments.of(lines(HEADER, "service web6 [2001:2::1]:80/tcp", "  backend 2001:2:0:1::11"),
                "lb.conf:7: service web6: VIP 2001:2::1 is also the client-ip6 (line 5); lb's own addresses must be distinct"),
            Arguments.of(lines(HEADER, "service web6 [2001:2::100]:80/tcp", "  backend 2001:2:0:1::1"),
                "lb.conf:8: backend: 2001:2:0:1::1 is lb's own address, the gateway-ip6 (line 6)"),
            Arguments.of(lines(HEADER.replace("gateway-ip6 2001:2:0:1::1", "gateway-ip6 2001:2::1")),
                "lb.conf:6: gateway-ip6: 2001:2::1 is also the client-ip6 (line 5); lb's own addresses must be distinct"),
            Arguments.of(lines("client-interface cli0", "server-interface srv0", "client-ip 198.18.0.1",
                "gateway-ip 198.18.1.1", "service web6 [2001:2::100]:80/tcp", "  backend 2001:2:0:1::11"),
                "lb.conf:5: service web6: IPv6 VIP 2001:2::100 needs client-ip6 and gateway-ip6 (lb's own IPv6 addresses)"),
            Arguments.of(lines("client-interface cli0", "server-interface srv0", "client-ip 198.18.0.1",
                "gateway-ip 198.18.1.1", "gateway-ip6 2001:2:0:1::1", "service web6 [2001:2::100]:80/tcp",
                "  backend 2001:2:0:1::11"),
                "lb.conf:6: service web6: IPv6 VIP 2001:2::100 needs client-ip6 (lb's own IPv6 addresses)"),
            Arguments.of(lines("client-interface cli0", "server-interface srv0", "client-ip 198.18.0.1",
                "gateway-ip 198.18.1.1", "client-ip6 2001:2::1", "service web 198.18.0.100:80/tcp", "  backend 198.18.1.11"),
                "lb.conf:5: client-ip6: needs gateway-ip6 too (lb's server-side IPv6 address, the IPv6 backends' default route)"));
    }

    @ParameterizedTest
    @MethodSource("errors")
    void everyIpv6ErrorIsOneLineNamingTheField(final String text, final String message)
    {
        assertEquals(message, assertThrows(ConfigException.class, () -> build(text)).getMessage());
    }
}
