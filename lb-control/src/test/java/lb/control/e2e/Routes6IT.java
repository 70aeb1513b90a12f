package lb.control.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lb.control.testbed.Testbed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static lb.control.e2e.RoutesIT.awaitHopsUp;
import static lb.control.e2e.RoutesIT.lbctlOk;
import static lb.control.e2e.RoutesIT.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPv6 route services end to end, on the dual-stack testbed: lb as the clients' router for 2001:2:0:3::/64, spread
 * over two next hops. As in {@link RoutesIT}, s2 and s3 are the next-hop routers (IPv6 forwarding on) toward
 * 2001:2:0:3::5, which s1 holds on lo; s1 answers through its IPv6 default route, lb's gateway-ip6, so replies come
 * back through lb to the client. c1 and c2 route the far /64 via lb's client-ip6 (more specific than their
 * 2001:2::/48 via rt). Which hop carries a connection is seen from the routers' own Ip6OutForwDatagrams.
 */
class Routes6IT
{
    static final String FAR_PREFIX = "2001:2:0:3::/64";
    static final String DESTINATION = "2001:2:0:3::5";
    static final int FILE_BYTES = 8 << 20;
    static final List<String> ROUTERS = List.of("s2", "s3");
    static final Pattern NEXT_HOP = Pattern.compile(
        "^next-hop \\S+ (\\S+) health=(\\S+) packets=(\\d+) bytes=(\\d+) active_flows=(\\d+)$", Pattern.MULTILINE);

    @TempDir
    Path dir;

    /** s2 and s3 forward to s1, which holds the destination; the clients route the far prefix via lb. */
    static void routers6(final Testbed testbed)
    {
        run(testbed, "s1", "ip", "-6", "addr", "add", DESTINATION + "/128", "dev", "lo");
        for (final String router : ROUTERS)
        {
            run(testbed, router, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1");
            run(testbed, router, "ip", "-6", "route", "add", DESTINATION + "/128", "via", Testbed.serverIp6(1), "dev", "eth0");
        }
        for (final String client : List.of("c1", "c2"))
        {
            run(testbed, client, "ip", "-6", "route", "add", FAR_PREFIX, "via", Testbed.LB_CLIENT_IP6);
        }
    }

    /** lb's IPv6 addresses and LANs, fast probes, and the given route sections. */
    String config(final String routes)
    {
        return Ipv6IT.BASE6 + "control-socket " + dir.resolve("lb.sock") + "\nserver-network " + Testbed.SERVER_NETWORK +
            "\nserver-network6 " + Testbed.SERVER_NETWORK6 + "\nprobe-interval 1s\nprobe-timeout 500ms\n\n" + routes;
    }

    static String farRoute(final String policy)
    {
        return "route far6 " + FAR_PREFIX + "\n  policy " + policy + "\n  next-hop " + Testbed.serverIp6(2) +
            "\n  next-hop " + Testbed.serverIp6(3) + "\n";
    }

    /** IPv6 datagrams a router namespace forwarded so far. */
    static long forwarded6(final Testbed testbed, final String role)
    {
        final Matcher m = Pattern.compile("^Ip6OutForwDatagrams\\s+(\\d+)$", Pattern.MULTILINE)
            .matcher(testbed.exec(role, Duration.ofSeconds(5), "cat", "/proc/net/snmp6").stdout());
        assertTrue(m.find(), role + " has no Ip6OutForwDatagrams");
        return Long.parseLong(m.group(1));
    }

    /** Which router carries a held connection: the one whose IPv6 forwarded count rises when one byte is sent on it. */
    static String routerOf6(final Testbed testbed, final ConnectionHolder held, final int port)
    {
        return RoutesIT.routerOf(testbed, held, port, ROUTERS, Routes6IT::forwarded6);
    }

    static Map<Integer, String> routersOf6(final Testbed testbed, final ConnectionHolder held)
    {
        final Map<Integer, String> of = new HashMap<>();
        for (final int port : held.ports)
        {
            of.put(port, routerOf6(testbed, held, port));
        }
        return of;
    }

    /** Per next hop (its IPv6 address): packets lb sent to it, from what lb printed at stop. */
    static Map<String, Long> packetsPerHop(final LbRun lb)
    {
        final Map<String, Long> packets = new HashMap<>();
        final Matcher m = NEXT_HOP.matcher(lb.log());
        while (m.find())
        {
            packets.put(m.group(1), Long.parseLong(m.group(3)));
        }
        return packets;
    }

    /** c1 downloads f.bin from the far destination through the route: it arrives whole. */
    static void download(final Testbed testbed, final byte[] content) throws Exception
    {
        final Testbed.ExecResult download = testbed.exec("c1", Duration.ofSeconds(60), "bash", "-c",
            "curl -s -g --max-time 50 " + Testbed.httpUrl(DESTINATION, 80, "/file/f.bin") + " | sha256sum");
        assertTrue(download.ok(), download.toString());
        assertEquals(DirectReturnIT.sha256(content), download.stdout().split("\\s+")[0], "sha256 through the IPv6 route");
    }

    /** Waits until the client has no TCP connection to port 80 but in TIME-WAIT: every close went through. */
    static void awaitClosed(final Testbed testbed, final String client)
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        String open = "";
        while (System.nanoTime() < deadline)
        {
            open = testbed.exec(client, Duration.ofSeconds(5), "ss", "-Htn", "exclude", "time-wait", "( dport = :80 )").stdout();
            if (open.isBlank())
            {
                return;
            }
            LbRun.sleep(100);
        }
        throw new AssertionError(client + " still has connections open:\n" + open);
    }

    static void answers(final ConnectionHolder held, final int port)
    {
        final String answer = held.command("get " + port);
        assertTrue(answer.startsWith("got " + port + " 200"), "the reply reached the client: " + answer);
    }

    /**
     * flow-hash (two workers) and least-flows (one): 24 held connections from c2 over both hops (least-flows exactly
     * 12/12, and show routes says so live), each connection on one hop, their replies reaching c2; a download intact;
     * ping6 through the route answered by the far host.
     */
    @Test
    void flowHashAndLeastFlowsSpreadIpv6FlowsOverBothHopsAndRepliesReachTheClient() throws Exception
    {
        final byte[] content = DirectReturnIT.randomFile(dir, "f.bin", FILE_BYTES, 61);
        try (Testbed testbed = Testbed.upDualStack(false, 3, "nat"))
        {
            testbed.startServers(dir.resolve("files"));
            routers6(testbed);
            for (final String policy : List.of("flow-hash", "least-flows"))
            {
                // flow-hash with two workers: the steering hash keeps each flow's both ways in one worker, and every
                // worker's bucket table is the same, so the flows spread as with one.
                final String workers = policy.equals("flow-hash") ? "workers 2\n" : "";
                final LbRun lb = LbRun.startWithConfig(testbed, dir, workers + config(farRoute(policy)), 2);
                try (lb; ConnectionHolder held = new ConnectionHolder(testbed, "c2", DESTINATION, 24))
                {
                    final Map<Integer, String> first = routersOf6(testbed, held);
                    final long onS2 = first.values().stream().filter("s2"::equals).count();
                    assertTrue(onS2 > 0 && onS2 < 24, policy + ": 24 flows over both hops " + first);
                    if (policy.equals("least-flows"))
                    {
                        assertEquals(12, onS2, "least-flows: 12 and 12 " + first);
                        final String routes = lbctlOk(testbed, dir.resolve("lb.sock"), "show", "routes");
                        for (final String hop : List.of(Testbed.serverIp6(2), Testbed.serverIp6(3)))
                        {
                            assertTrue(Pattern.compile("^far6\\s+" + Pattern.quote(FAR_PREFIX) + "\\s+least-flows\\s+" +
                                Pattern.quote(hop) + "\\s+up\\s+12\\s", Pattern.MULTILINE).matcher(routes).find(),
                                "show routes: 12 active flows on " + hop + "\n" + routes);
                        }
                    }
                    assertEquals(first, routersOf6(testbed, held), policy + ": every flow kept its hop");
                    for (final int port : held.ports.subList(0, 4))
                    {
                        answers(held, port);
                    }
                    download(testbed, content);
                    final Testbed.ExecResult ping = testbed.exec("c1", Duration.ofSeconds(10), "ping", "-6", "-n", "-c", "3",
                        "-i", "0.2", "-W", "2", DESTINATION);
                    assertTrue(ping.ok() && ping.stdout().contains("3 received"), "ping6 through the route: " + ping);
                    // Closed while lb runs: FINs retransmitted into the next lb would reach the routers in bursts.
                    held.close();
                    awaitClosed(testbed, "c2");
                    lb.stop();
                    final Map<String, Long> packets = packetsPerHop(lb);
                    assertEquals(2, packets.size(), lb.log());
                    assertTrue(packets.values().stream().allMatch(n -> n > 0), policy + ": both hops carried packets " + packets);
                    assertTrue(lb.log().contains("route far6 " + FAR_PREFIX + " policy="), lb.log());
                }
            }
        }
    }

    /**
     * A route added over lbctl (refusals one line each); 4 held connections 2/2 by least-flows; s3's link goes down:
     * the NDP probes take it out within probe cycle + 2 x timeout (probe and retry) and its flows carry on via s2.
     */
    @Test
    void aRouteAddedAtRuntimeLosesAHopToNdpAndItsFlowsMoveToTheOther() throws Exception
    {
        try (Testbed testbed = Testbed.upDualStack(false, 3, "nat"))
        {
            testbed.startServers();
            routers6(testbed);
            final Path socket = dir.resolve("lb.sock");
            final LbRun lb = LbRun.startWithConfig(testbed, dir,
                config("route near6 2001:2:0:4::/64\n  next-hop " + Testbed.serverIp6(2) + "\n"), 1);
            try (lb)
            {
                final String hops = Testbed.serverIp6(2) + "," + Testbed.serverIp6(3);
                assertEquals("added route far6 " + FAR_PREFIX + " policy least-flows next hops " + hops + "\n",
                    lbctlOk(testbed, socket, "add", "route", "far6", FAR_PREFIX, hops, "least-flows"));
                assertEquals("error: 2001:2:0:3:1::/80 overlaps route 'far6' 2001:2:0:3::/64\n",
                    LbRun.lbctl(testbed, socket, "add", "route", "x", "2001:2:0:3:1::/80", Testbed.serverIp6(3)).stderr());
                assertEquals("error: next hop 198.18.1.12 is IPv4 but the route's prefix 2001:2:0:5::/64 is IPv6: next " +
                    "hops are of the prefix's family\n",
                    LbRun.lbctl(testbed, socket, "add", "route", "y", "2001:2:0:5::/64", Testbed.serverIp(2)).stderr());
                assertEquals("error: 2001:2:0:3::9 is inside route 'far6': a VIP cannot be routed through\n",
                    LbRun.lbctl(testbed, socket, "add", "service", "v", "[2001:2:0:3::9]:80/tcp").stderr());
                awaitHopsUp(testbed, socket, 1 + 2, Duration.ofSeconds(5));

                try (ConnectionHolder held = new ConnectionHolder(testbed, "c2", DESTINATION, 4))
                {
                    final Map<Integer, String> before = routersOf6(testbed, held);
                    assertEquals(2, before.values().stream().filter("s2"::equals).count(), "least-flows: 2 and 2 " + before);
                    final long downAt = System.nanoTime();
                    run(testbed, "s3", "ip", "link", "set", "eth0", "down");
                    lb.awaitLog("backend " + Pattern.quote(Testbed.serverIp6(3)) + " down", 1, Duration.ofSeconds(10));
                    final long detectMillis = (System.nanoTime() - downAt) / 1_000_000;
                    // One probe cycle (1 s) plus the reply timeout twice, with margin for a loaded machine.
                    assertTrue(detectMillis <= 1_000 + 2 * 500 + 1_500, "found down by NDP within " + detectMillis + " ms");
                    for (final int port : held.ports)
                    {
                        answers(held, port);
                    }
                    final String routes = lbctlOk(testbed, socket, "show", "routes");
                    assertTrue(Pattern.compile("^far6\\s+\\S+\\s+least-flows\\s+" + Pattern.quote(Testbed.serverIp6(3)) +
                        "\\s+down\\s", Pattern.MULTILINE).matcher(routes).find(), routes);
                }
                try (ConnectionHolder held = new ConnectionHolder(testbed, "c2", DESTINATION, 2))
                {
                    for (final int port : held.ports)
                    {
                        assertEquals("s2", routerOf6(testbed, held, port), "new flows only on the hop still up");
                        answers(held, port);
                    }
                }
            }
        }
    }
}
