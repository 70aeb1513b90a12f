package lb.control.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToLongBiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lb.control.testbed.Testbed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Route services end to end: lb as the clients' router for 198.19.0.0/16, spread over two next
 * hops. On the testbed's server LAN, s2 and s3 act as the next-hop routers (forwarding, no
 * redirects) toward 198.19.0.5, which s1 holds on lo; s1 answers through its default route, lb's
 * gateway address, so replies come back through lb to the client.
 */
class RoutesIT
{
    static final String DESTINATION = "198.19.0.5";
    static final int FILE_BYTES = 64 << 20;
    static final Pattern NEXT_HOP = Pattern.compile(
        "^next-hop \\S+ (\\S+) health=(\\S+) packets=(\\d+) bytes=(\\d+) active_flows=(\\d+)$", Pattern.MULTILINE);
    static final Pattern ROUTE = Pattern.compile("^route \\S+ \\S+ policy=\\S+ flows=(\\d+) moves=(\\d+) flowlet_switches=(\\d+)$", Pattern.MULTILINE);

    @TempDir
    Path dir;

    static void routers(final Testbed testbed)
    {
        routers(testbed, List.of("s2", "s3"));
    }

    static void routers(final Testbed testbed, final List<String> routers)
    {
        run(testbed, "s1", "ip", "addr", "add", DESTINATION + "/32", "dev", "lo");
        for (final String router : routers)
        {
            run(testbed, router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0",
                "net.ipv4.conf.eth0.send_redirects=0");
            run(testbed, router, "ip", "route", "add", DESTINATION + "/32", "via", Testbed.serverIp(1));
        }
        for (final String client : List.of("c1", "c2"))
        {
            run(testbed, client, "ip", "route", "add", "198.19.0.0/16", "via", Testbed.LB_CLIENT_IP);
        }
    }

    static void run(final Testbed testbed, final String role, final String... cmd)
    {
        final Testbed.ExecResult result = testbed.exec(role, Duration.ofSeconds(10), cmd);
        assertTrue(result.ok(), role + " " + String.join(" ", cmd) + ": " + result);
    }

    String config(final String policy, final String extra)
    {
        return LbRun.baseConfig() + "control-socket " + dir.resolve("lb.sock") + "\nserver-network " + Testbed.SERVER_NETWORK + "\nprobe-interval 1s\nprobe-timeout 500ms\n\n" +
            "route far 198.19.0.0/16\n  policy " + policy + "\n" + extra + "  next-hop " + Testbed.serverIp(2) +
            "\n  next-hop " + Testbed.serverIp(3) + "\n";
    }

    /** Per next hop (address): packets and active flows, from what lb printed at stop. */
    static Map<String, long[]> nextHops(final LbRun lb)
    {
        final Map<String, long[]> hops = new HashMap<>();
        final Matcher m = NEXT_HOP.matcher(lb.log());
        while (m.find())
        {
            hops.put(m.group(1), new long[] {Long.parseLong(m.group(3)), Long.parseLong(m.group(5))});
        }
        assertEquals(2, hops.size(), lb.log());
        return hops;
    }

    static long moves(final LbRun lb)
    {
        final Matcher m = ROUTE.matcher(lb.log());
        assertTrue(m.find(), lb.log());
        return Long.parseLong(m.group(2));
    }

    /** Datagrams a router namespace forwarded so far (Ip: ForwDatagrams). */
    static long forwarded(final Testbed testbed, final String role)
    {
        final List<String> ip = testbed.exec(role, Duration.ofSeconds(5), "cat", "/proc/net/snmp").stdout().lines()
            .filter(l -> l.startsWith("Ip:")).toList();
        final List<String> names = List.of(ip.get(0).split("\\s+"));
        return Long.parseLong(ip.get(1).split("\\s+")[names.indexOf("ForwDatagrams")]);
    }

    /**
     * Runs lb with the policy for one download of f.bin by c1, which must arrive whole.
     *
     * @return the packets lb sent to s2 and to s3.
     */
    long[] oneDownload(final Testbed testbed, final String policy, final byte[] content) throws Exception
    {
        final LbRun lb = LbRun.startWithConfig(testbed, dir, config(policy, ""), 2);
        try (lb)
        {
            download(testbed, content);
            lb.stop();
            final Map<String, long[]> hops = nextHops(lb);
            return new long[] {hops.get(Testbed.serverIp(2))[0], hops.get(Testbed.serverIp(3))[0]};
        }
    }

    /** c1 downloads f.bin from the destination through the route: it arrives whole. */
    static void download(final Testbed testbed, final byte[] content) throws Exception
    {
        final Testbed.ExecResult download = testbed.exec("c1", Duration.ofSeconds(60), "bash", "-c",
            "curl -s --max-time 50 http://" + DESTINATION + "/file/f.bin | sha256sum");
        assertTrue(download.ok(), download.toString());
        assertEquals(DirectReturnIT.sha256(content), download.stdout().split("\\s+")[0], "sha256 through the route");
    }

    /** Which router carries a held connection: the one whose forwarded count rises when one byte is sent on it. */
    static String routerOf(final Testbed testbed, final ConnectionHolder held, final int port)
    {
        return routerOf(testbed, held, port, List.of("s2", "s3"));
    }

    static String routerOf(final Testbed testbed, final ConnectionHolder held, final int port, final List<String> routers)
    {
        return routerOf(testbed, held, port, routers, RoutesIT::forwarded);
    }

    /** @param forwarded datagrams a router forwarded so far, of the family under test. */
    static String routerOf(final Testbed testbed, final ConnectionHolder held, final int port, final List<String> routers,
        final ToLongBiFunction<Testbed, String> forwarded)
    {
        final long[] before = new long[routers.size()];
        for (int i = 0; i < before.length; i++)
        {
            before[i] = forwarded.applyAsLong(testbed, routers.get(i));
        }
        assertEquals("poked " + port, held.command("poke " + port));
        LbRun.sleep(50);
        String carrier = null;
        final StringBuilder deltas = new StringBuilder();
        for (int i = 0; i < before.length; i++)
        {
            final long delta = forwarded.applyAsLong(testbed, routers.get(i)) - before[i];
            deltas.append(routers.get(i)).append('=').append(delta).append(' ');
            if (delta > 0)
            {
                assertTrue(carrier == null, "one router carried the byte: " + deltas);
                carrier = routers.get(i);
            }
        }
        assertTrue(carrier != null, "some router carried the byte: " + deltas);
        return carrier;
    }

    /** The router of every held connection. */
    static Map<Integer, String> routersOf(final Testbed testbed, final ConnectionHolder held, final List<String> routers)
    {
        final Map<Integer, String> of = new HashMap<>();
        for (final int port : held.ports)
        {
            of.put(port, routerOf(testbed, held, port, routers));
        }
        return of;
    }

    static String lbctlOk(final Testbed testbed, final Path socket, final String... args)
    {
        final Testbed.ExecResult result = LbRun.lbctl(testbed, socket, args);
        assertTrue(result.ok(), String.join(" ", args) + ": " + result);
        return result.stdout();
    }

    /** Waits until `show routes` lists the route's next hops all up. */
    static void awaitHopsUp(final Testbed testbed, final Path socket, final int hops, final Duration timeout)
    {
        final long deadline = System.nanoTime() + timeout.toNanos();
        String shown = "";
        while (System.nanoTime() < deadline)
        {
            shown = lbctlOk(testbed, socket, "show", "routes");
            if (Pattern.compile("\\s+up\\s+").matcher(shown).results().count() == hops)
            {
                return;
            }
            LbRun.sleep(100);
        }
        throw new AssertionError("not " + hops + " hops up within " + timeout + ":\n" + shown);
    }

    @Test
    void perPacketSpreadsOneFlowEvenlyAndTheFileArrivesWhole() throws Exception
    {
        final byte[] content = DirectReturnIT.randomFile(dir, "f.bin", FILE_BYTES, 21);
        try (Testbed testbed = Testbed.up(false, 3))
        {
            testbed.startServers(dir.resolve("files"));
            routers(testbed);
            final long[] packets = oneDownload(testbed, "packet", content);
            assertTrue(packets[0] > 100 && Math.abs(packets[0] - packets[1]) <= 1,
                "one flow's packets alternate: " + packets[0] + " / " + packets[1]);
        }
    }

    @Test
    void flowPoliciesPinLeastFlowsBalancesRebalancingMovesOneFlowAndADeadHopsFlowsCarryOn() throws Exception
    {
        final byte[] content = DirectReturnIT.randomFile(dir, "f.bin", FILE_BYTES, 22);
        try (Testbed testbed = Testbed.up(false, 3))
        {
            testbed.startServers(dir.resolve("files"));
            routers(testbed);

            // Each flow policy: a whole 64 MiB download on one next hop, intact.
            for (final String policy : List.of("flow-hash", "flow-random", "least-flows"))
            {
                final long[] packets = oneDownload(testbed, policy, content);
                assertTrue(Math.min(packets[0], packets[1]) == 0 && Math.max(packets[0], packets[1]) > 100,
                    policy + ": every packet of the flow on one hop: " + packets[0] + " / " + packets[1]);
            }

            // least-flows with rebalancing: 4 connections 2/2; both on one hop end: one flow moves there.
            final LbRun lb = LbRun.startWithConfig(testbed, dir, config("least-flows", "  rebalance on\n"), 2);
            try (lb; ConnectionHolder held = new ConnectionHolder(testbed, "c2", DESTINATION, 4))
            {
                final Map<Integer, String> hopOf = new HashMap<>();
                for (final int port : held.ports)
                {
                    hopOf.put(port, routerOf(testbed, held, port));
                }
                assertEquals(2, hopOf.values().stream().filter("s2"::equals).count(), "least-flows: 2 and 2 " + hopOf);
                // lbctl says so too, live.
                final Testbed.ExecResult routes = LbRun.lbctl(testbed, dir.resolve("lb.sock"), "show", "routes");
                assertTrue(routes.ok(), routes.toString());
                for (final String hop : List.of(Testbed.serverIp(2), Testbed.serverIp(3)))
                {
                    assertTrue(Pattern.compile("^far\\s+198\\.19\\.0\\.0/16\\s+least-flows\\+rebalance\\s+" +
                        Pattern.quote(hop) + "\\s+up\\s+2\\s", Pattern.MULTILINE).matcher(routes.stdout()).find(),
                        "show routes: 2 active flows on " + hop + "\n" + routes.stdout());
                }
                final List<Integer> onS2 = held.ports.stream().filter(p -> hopOf.get(p).equals("s2")).toList();
                final List<Integer> onS3 = held.ports.stream().filter(p -> hopOf.get(p).equals("s3")).toList();
                for (final int port : onS2)
                {
                    assertEquals("closed " + port, held.command("close " + port));
                }
                LbRun.sleep(500); // the FINs both ways
                int moved = 0;
                for (final int port : onS3)
                {
                    if (routerOf(testbed, held, port).equals("s2"))
                    {
                        moved++;
                    }
                }
                assertEquals(1, moved, "exactly one of s3's two flows moved to the emptied s2");

                // s3's link goes down: lb takes it out within probe cycle + timeout and its one retry's timeout;
                // its flow carries on via s2.
                run(testbed, "s3", "ip", "link", "set", "eth0", "down");
                lb.awaitLog("backend " + Testbed.serverIp(3).replace(".", "\\.") + " down", 1, Duration.ofMillis(2_000 + 1_000));
                for (final int port : onS3)
                {
                    final String answer = held.command("get " + port);
                    assertTrue(answer.startsWith("got " + port + " 200"), "carried on via s2: " + answer);
                }
                lb.stop();
                assertEquals(1, moves(lb), "the move counter says 1");
            }
        }
    }

    @Test
    void routesAddedAtRuntimeFlowHashMovesOnlyARemovedHopsFlowsAndFlowletsChangePathAfterAGap() throws Exception
    {
        final List<String> routers = List.of("s2", "s3", "s4");
        final byte[] content = DirectReturnIT.randomFile(dir, "f.bin", FILE_BYTES, 23);
        try (Testbed testbed = Testbed.up(false, 4))
        {
            testbed.startServers(dir.resolve("files"));
            routers(testbed, routers);
            final Path socket = dir.resolve("lb.sock");
            // lb starts with another route only; "far" comes over the control socket.
            final String config = LbRun.baseConfig() + "control-socket " + socket + "\nserver-network " +
                Testbed.SERVER_NETWORK + "\nprobe-interval 1s\nprobe-timeout 500ms\n\nroute near 198.20.0.0/24\n  next-hop " +
                Testbed.serverIp(2) + "\n";
            final LbRun lb = LbRun.startWithConfig(testbed, dir, config, 1);
            try (lb)
            {
                final String hops = Testbed.serverIp(2) + "," + Testbed.serverIp(3) + "," + Testbed.serverIp(4);
                assertEquals("added route far 198.19.0.0/16 policy flow-hash next hops " + hops + "\n",
                    lbctlOk(testbed, socket, "add", "route", "far", "198.19.0.0/16", hops));
                // Refusals name what is wrong, in one line.
                final Testbed.ExecResult overlap = LbRun.lbctl(testbed, socket, "add", "route", "x", "198.19.7.0/24",
                    Testbed.serverIp(3));
                assertEquals("error: 198.19.7.0/24 overlaps route 'far' 198.19.0.0/16\n", overlap.stderr());
                final Testbed.ExecResult vip = LbRun.lbctl(testbed, socket, "add", "service", "v", "198.19.0.9:80/tcp");
                assertEquals("error: 198.19.0.9 is inside route 'far': a VIP cannot be routed through\n", vip.stderr());
                awaitHopsUp(testbed, socket, 1 + 3, Duration.ofSeconds(5));
                // As a router, lb answers a packet whose TTL runs out with time exceeded, from its own address.
                final Testbed.ExecResult ttl = testbed.exec("c1", Duration.ofSeconds(10), "ping", "-n", "-c", "1", "-W", "2",
                    "-t", "1", DESTINATION);
                assertTrue(ttl.stdout().contains("From " + Testbed.LB_CLIENT_IP + " icmp_seq=1 Time to live exceeded"),
                    ttl.toString());

                try (ConnectionHolder held = new ConnectionHolder(testbed, "c2", DESTINATION, 24))
                {
                    final Map<Integer, String> before = routersOf(testbed, held, routers);
                    // show stat lists the route's next hops beside the services, live: 24 active flows over them.
                    final Matcher stat = Pattern.compile("^far\\s+(\\S+)\\s+next-hop\\s+up\\s+-\\s+(\\d+)\\s", Pattern.MULTILINE)
                        .matcher(lbctlOk(testbed, socket, "show", "stat"));
                    long active = 0;
                    int shownHops = 0;
                    while (stat.find())
                    {
                        shownHops++;
                        active += Long.parseLong(stat.group(2));
                    }
                    assertEquals(3, shownHops, "three next hops in show stat");
                    assertEquals(24, active, "24 active flows over them");
                    for (final String router : routers)
                    {
                        assertTrue(before.containsValue(router), "24 flows hash onto every hop: " + before);
                    }
                    // s4 leaves the group: its flows, and only its flows, change path.
                    lbctlOk(testbed, socket, "del", "next-hop", "far", Testbed.serverIp(4));
                    final Map<Integer, String> without = routersOf(testbed, held, routers);
                    int moved = 0;
                    for (final int port : held.ports)
                    {
                        if (before.get(port).equals("s4"))
                        {
                            moved++;
                            assertNotEquals("s4", without.get(port), "s4's flow left it: " + port);
                        }
                        else
                        {
                            assertEquals(before.get(port), without.get(port), "a flow of s2/s3 stayed where it was: " + port);
                        }
                    }
                    assertEquals(before.values().stream().filter("s4"::equals).count(), moved);
                    assertFalse(lbctlOk(testbed, socket, "show", "routes").contains(Testbed.serverIp(4)),
                        "a removed hop is not shown");
                    // Back again: it takes back its own buckets, so exactly its flows return.
                    lbctlOk(testbed, socket, "add", "next-hop", "far", Testbed.serverIp(4));
                    awaitHopsUp(testbed, socket, 1 + 3, Duration.ofSeconds(5));
                    assertEquals(before, routersOf(testbed, held, routers), "every flow back on its first hop");
                    for (final int port : held.ports.subList(0, 4))
                    {
                        final String answer = held.command("get " + port);
                        assertTrue(answer.startsWith("got " + port + " 200"), "the flow works after its moves: " + answer);
                    }
                }

                // flowlet: a flow poked every 100 ms (gaps above the 10 ms flowlet gap) takes more than one path.
                lbctlOk(testbed, socket, "del", "route", "far");
                assertFalse(lbctlOk(testbed, socket, "show", "routes").contains("far"), "the route is gone");
                final Testbed.ExecResult unrouted = testbed.exec("c1", Duration.ofSeconds(10), "curl", "-s",
                    "--connect-timeout", "2", "http://" + DESTINATION + "/whoami");
                assertFalse(unrouted.ok(), "no route, no connection: " + unrouted);
                lbctlOk(testbed, socket, "add", "route", "far", "198.19.0.0/16", hops, "flowlet", "10ms");
                awaitHopsUp(testbed, socket, 1 + 3, Duration.ofSeconds(5));
                try (ConnectionHolder held = new ConnectionHolder(testbed, "c2", DESTINATION, 1))
                {
                    final Set<String> seen = new HashSet<>();
                    for (int poke = 0; poke < 12; poke++)
                    {
                        seen.add(routerOf(testbed, held, held.ports.get(0), routers));
                        LbRun.sleep(50);
                    }
                    assertTrue(seen.size() >= 2, "flowlets after idle gaps took several hops: " + seen);
                    final String routesJson = lbctlOk(testbed, socket, "--json", "show", "routes");
                    final Matcher switches = Pattern.compile("\"route\":\"far\"[^}]*\"flowlet_switches\":(\\d+)").matcher(routesJson);
                    assertTrue(switches.find() && Long.parseLong(switches.group(1)) >= 1, "counted as flowlet switches: " +
                        routesJson);
                    final String answer = held.command("get " + held.ports.get(0));
                    assertTrue(answer.startsWith("got " + held.ports.get(0) + " 200"), answer);
                }
                download(testbed, content);
            }
        }
    }
}
