package lb.control.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Brings real testbeds up and down (needs root; fails, never skips, without it). */
@Timeout(120)
class TestbedTest
{
    private static final Duration SHORT = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    @Test
    void upExecDownWithOffloadsOffLeavesNoNamespaceBehind() throws Exception
    {
        final Testbed testbed = Testbed.up(false, 2);
        final String prefix = testbed.prefix();
        final Set<String> expected = Set.of(prefix + "-sw", prefix + "-lb", prefix + "-c1", prefix + "-c2",
            prefix + "-rt", prefix + "-c3", prefix + "-s1", prefix + "-s2");
        final long serverPid;
        final Process background;
        try
        {
            assertEquals(expected, new TreeSet<>(testbed.namespaces()));
            assertEquals(expected, namespacesWithPrefix(prefix), "namespaces while up");
            assertTrue(Files.exists(stateFile(prefix)));
            assertThrows(IllegalArgumentException.class, () -> testbed.ns("s3"));

            // lb's namespace: both interfaces up, no IPv4 address on either, no forwarding, no IPv6.
            final Testbed.ExecResult links = testbed.exec("lb", SHORT, "ip", "-o", "link", "show", "up");
            assertTrue(links.ok(), links::toString);
            assertTrue(links.stdout().contains(" cli0@") && links.stdout().contains(" srv0@"), links::toString);
            final Testbed.ExecResult addresses = testbed.exec("lb", SHORT, "ip", "-o", "-4", "addr", "show");
            assertTrue(addresses.ok(), addresses::toString);
            assertEquals(List.of("lo"), addresses.stdout().lines().map(l -> l.split("\\s+")[1]).collect(Collectors.toList()));
            final Testbed.ExecResult sysctl = testbed.exec("lb", SHORT, "sysctl", "-n",
                "net.ipv4.ip_forward", "net.ipv6.conf.all.disable_ipv6");
            assertEquals(List.of("0", "1"), sysctl.stdout().lines().collect(Collectors.toList()), sysctl::toString);

            final Testbed.ExecResult features = testbed.exec("c1", SHORT, "ethtool", "-k", "eth0");
            assertTrue(features.stdout().contains("tcp-segmentation-offload: off"), features::toString);
            assertTrue(features.stdout().contains("rx-checksumming: off"), features::toString);
            final Testbed.ExecResult bridgeSide = testbed.exec("sw", SHORT, "ethtool", "-k", "s2");
            assertTrue(bridgeSide.stdout().contains("generic-receive-offload: off"), bridgeSide::toString);

            // Client LAN, and c3 through the router: one hop, so TTL 64 arrives as 63.
            final Testbed.ExecResult lan = testbed.exec("c1", SHORT, "ping", "-c", "1", "-W", "2", Testbed.clientIp("c2"));
            assertTrue(lan.ok() && lan.stdout().contains("ttl=64"), lan::toString);
            final Testbed.ExecResult routed = testbed.exec("c3", SHORT, "ping", "-c", "1", "-W", "2", Testbed.clientIp("c1"));
            assertTrue(routed.ok() && routed.stdout().contains("ttl=63"), routed::toString);

            // Servers: HTTP /whoami and /file/, UDP echo, each asked from inside its own namespace.
            final byte[] content = new byte[200_000];
            new java.util.Random(42).nextBytes(content);
            Files.write(tmp.resolve("blob.bin"), content);
            testbed.startServers(tmp);
            final Testbed.ExecResult whoami = testbed.exec("s2", SHORT, "curl", "-s", "--max-time", "2",
                "http://" + Testbed.serverIp(2) + "/whoami");
            assertEquals(Testbed.serverIp(2), whoami.stdout(), whoami::toString);
            final Testbed.ExecResult file = testbed.exec("s1", SHORT, "sh", "-c",
                "curl -s --max-time 5 http://" + Testbed.serverIp(1) + "/file/blob.bin | sha256sum");
            assertEquals(sha256(content), file.stdout().split(" ")[0], file::toString);
            final Testbed.ExecResult echo = testbed.exec("s1", SHORT, "/usr/bin/python3", "-c",
                "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2); " +
                "s.sendto(b'hello', ('" + Testbed.serverIp(1) + "', 5353)); print(s.recv(100).decode())");
            assertEquals(Testbed.serverIp(1) + " hello", echo.stdout().strip(), echo::toString);
            serverPid = Long.parseLong(pidsIn(testbed.ns("s1")).iterator().next());

            // exec kills on timeout: nothing is left running in c1.
            final Testbed.ExecResult slow = testbed.exec("c1", Duration.ofMillis(300), "sleep", "30");
            assertTrue(slow.timedOut(), slow::toString);
            assertEquals(Set.of(), pidsIn(testbed.ns("c1")));

            background = testbed.start("c2", List.of("sleep", "600"), tmp.resolve("sleep.log"));
            assertTrue(background.isAlive());
            // `ip netns exec` enters the namespace only after the process started: wait (bounded) for it there.
            final long deadline = System.nanoTime() + 5_000_000_000L;
            while (pidsIn(testbed.ns("c2")).isEmpty() && System.nanoTime() < deadline)
            {
                Thread.sleep(20);
            }
            assertEquals(Set.of(Long.toString(background.pid())), pidsIn(testbed.ns("c2")));
        }
        finally
        {
            testbed.close();
        }

        assertEquals(Set.of(), namespacesWithPrefix(prefix), "namespaces after close");
        assertFalse(Files.exists(stateFile(prefix)), "state file after close");
        assertFalse(background.isAlive(), "the process from start() after close");
        assertFalse(ProcessHandle.of(serverPid).map(ProcessHandle::isAlive).orElse(false), "server after close");
        testbed.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> testbed.exec("c1", SHORT, "true"));
    }

    @Test
    void sweepTakesDownATestbedWhoseOwnerDiedAndLeavesALiveOwnersAlone() throws Exception
    {
        final Testbed live = Testbed.up(true, 1);
        final String orphan = String.format("lbt%06x", new Random().nextInt(1 << 24));
        final String script = live.repoRoot().resolve("docker/testbed.sh").toString();
        final Process owner = new ProcessBuilder("sleep", "60").start();
        try
        {
            final Testbed.ExecResult up = run("bash", script, "up", "--prefix", orphan, "--servers", "1", "--owner",
                Long.toString(owner.pid()));
            assertTrue(up.ok(), up::toString);
            assertEquals(7, namespacesWithPrefix(orphan).size(), "sw lb c1 c2 rt c3 s1");
            assertTrue(Files.readString(stateFile(live.prefix())).contains("\nowner " + ProcessHandle.current().pid() + " "),
                "Testbed records this JVM as the owner");

            final Testbed.ExecResult whileAlive = run("bash", script, "sweep");
            assertTrue(whileAlive.ok(), whileAlive::toString);
            assertEquals(7, namespacesWithPrefix(orphan).size(), "an owner that runs keeps its testbed");

            owner.destroyForcibly().waitFor();
            final Testbed.ExecResult swept = run("bash", script, "sweep");
            assertTrue(swept.ok(), swept::toString);
            assertEquals(Set.of(), namespacesWithPrefix(orphan), "the dead owner's namespaces: " + swept);
            assertFalse(Files.exists(stateFile(orphan)));
            assertEquals(new TreeSet<>(live.namespaces()), namespacesWithPrefix(live.prefix()), "the live testbed is untouched");
            assertTrue(Files.exists(stateFile(live.prefix())));
        }
        finally
        {
            owner.destroyForcibly();
            run("bash", script, "down", "--prefix", orphan);
            live.close();
        }
    }

    @Test
    void defaultOffloadsStayOnAndTheRouterForwards()
    {
        final String prefix;
        try (Testbed testbed = Testbed.up(true, 1))
        {
            prefix = testbed.prefix();
            final Testbed.ExecResult features = testbed.exec("c3", SHORT, "ethtool", "-k", "eth0");
            assertTrue(features.stdout().contains("tcp-segmentation-offload: on"), features::toString);
            final Testbed.ExecResult routed = testbed.exec("c3", SHORT, "ping", "-c", "1", "-W", "2", Testbed.clientIp("c1"));
            assertTrue(routed.ok() && routed.stdout().contains("ttl=63"), routed::toString);
            // Only c1 and c2 sit on the client LAN next to lb: the router's leg is its own subnet.
            final Testbed.ExecResult route = testbed.exec("c3", SHORT, "ip", "route", "get", Testbed.VIP);
            assertTrue(route.stdout().contains("via 198.18.2.1"), route::toString);
            // Without upDualStack, IPv6 is off everywhere, as before it existed.
            assertFalse(testbed.ipv6());
            for (final String role : testbed.roles())
            {
                final Testbed.ExecResult off = testbed.exec(role, SHORT, "sysctl", "-n", "net.ipv6.conf.all.disable_ipv6");
                assertEquals("1", off.stdout().strip(), role + ": " + off);
            }
            assertThrows(IllegalStateException.class, testbed::lbArgs6);
        }
        assertEquals(Set.of(), namespacesWithPrefix(prefix));
    }

    @Test
    void dualStackHostsReachEachOtherOverIpv6AndTheServersListenOnBoth() throws Exception
    {
        final String prefix;
        try (Testbed testbed = Testbed.upDualStack(true, 2, "nat"))
        {
            prefix = testbed.prefix();
            assertTrue(testbed.ipv6());
            for (final String role : List.of("c1", "c2", "c3", "rt", "s1", "s2"))
            {
                // IPv6 on, no DAD (addresses usable at once), no router solicitations, no autoconfiguration.
                final Testbed.ExecResult sysctl = testbed.exec(role, SHORT, "sysctl", "-n", "net.ipv6.conf.eth0.disable_ipv6",
                    "net.ipv6.conf.eth0.accept_dad", "net.ipv6.conf.eth0.router_solicitations", "net.ipv6.conf.eth0.accept_ra",
                    "net.ipv6.conf.eth0.keep_addr_on_down");
                assertEquals(List.of("0", "0", "0", "0", "1"), sysctl.stdout().lines().collect(Collectors.toList()),
                    role + ": " + sysctl);
                final Testbed.ExecResult tentative = testbed.exec(role, SHORT, "ip", "-6", "addr", "show", "tentative");
                assertEquals("", tentative.stdout().strip(), role + ": no tentative address: " + tentative);
            }
            // lb's namespace (and the switch's) keep IPv6 off: no kernel address of any family on cli0 or srv0.
            for (final String role : List.of("lb", "sw"))
            {
                final Testbed.ExecResult off = testbed.exec(role, SHORT, "sysctl", "-n", "net.ipv6.conf.all.disable_ipv6");
                assertEquals("1", off.stdout().strip(), role + ": " + off);
            }
            final Testbed.ExecResult lbAddresses = testbed.exec("lb", SHORT, "ip", "-o", "-6", "addr", "show");
            assertEquals("", lbAddresses.stdout().strip(), lbAddresses::toString);

            assertEquals(Testbed.clientIp6("c1") + "/64", globalAddress(testbed, "c1"));
            assertEquals(Testbed.clientIp6("c3") + "/64", globalAddress(testbed, "c3"));
            assertEquals(Testbed.serverIp6(2) + "/64", globalAddress(testbed, "s2"));
            assertEquals(Testbed.ROUTER_CLIENT_IP6 + "/64", globalAddress(testbed, "rt"));
            // The VIP6s are on-link for c1; the rest of the test range goes via rt; nothing else is routed.
            final Testbed.ExecResult vipRoute = testbed.exec("c1", SHORT, "ip", "-6", "route", "get", Testbed.VIP6);
            assertTrue(vipRoute.stdout().startsWith(Testbed.VIP6 + " from :: dev eth0"), vipRoute::toString);
            final Testbed.ExecResult legRoute = testbed.exec("c1", SHORT, "ip", "-6", "route", "get", Testbed.clientIp6("c3"));
            assertTrue(legRoute.stdout().contains("via " + Testbed.ROUTER_CLIENT_IP6), legRoute::toString);
            final Testbed.ExecResult outside = testbed.exec("c1", SHORT, "ip", "-6", "route", "get", "2001:db8::1");
            assertFalse(outside.ok(), "no route out of 2001:2::/48: " + outside);
            final Testbed.ExecResult c3Route = testbed.exec("c3", SHORT, "ip", "-6", "route", "get", Testbed.VIP6);
            assertTrue(c3Route.stdout().contains("via " + Testbed.ROUTER_LEG_IP6), c3Route::toString);
            for (final String server : List.of("s1", "s2"))
            {
                final Testbed.ExecResult route = testbed.exec(server, SHORT, "ip", "-6", "route", "show", "default");
                assertTrue(route.stdout().startsWith("default via " + Testbed.GATEWAY_IP6 + " dev eth0"), route::toString);
            }

            // NDP between hosts: c1 resolves c2 (one LAN, hop limit 64 arrives), c3 reaches c1 through rt (63).
            final Testbed.ExecResult lan = testbed.exec("c1", SHORT, "ping", "-6", "-n", "-c", "1", "-W", "2", Testbed.clientIp6("c2"));
            assertTrue(lan.ok() && lan.stdout().contains("ttl=64"), lan::toString);
            final Testbed.ExecResult neighbour = testbed.exec("c1", SHORT, "ip", "-6", "neigh", "show", Testbed.clientIp6("c2"));
            final String c2Mac = testbed.exec("c2", SHORT, "cat", "/sys/class/net/eth0/address").stdout().strip();
            assertTrue(neighbour.stdout().contains("lladdr " + c2Mac), "c1 learned c2's MAC by NDP: " + neighbour);
            final Testbed.ExecResult routed = testbed.exec("c3", SHORT, "ping", "-6", "-n", "-c", "1", "-W", "2", Testbed.clientIp6("c1"));
            assertTrue(routed.ok() && routed.stdout().contains("ttl=63"), routed::toString);

            // Servers on both families: /whoami and the echo name the family asked.
            final byte[] content = new byte[300_000];
            new java.util.Random(7).nextBytes(content);
            Files.write(tmp.resolve("blob.bin"), content);
            testbed.startServers(tmp);
            final Testbed.ExecResult listeners = testbed.exec("s1", SHORT, "ss", "-H", "-l", "-n", "-t", "-u");
            for (final String socket : List.of("0.0.0.0:80", "[::]:80", "0.0.0.0:5353", "[::]:5353"))
            {
                assertTrue(listeners.stdout().contains(" " + socket + " "), socket + " in " + listeners);
            }
            final Testbed.ExecResult whoami6 = testbed.exec("s1", SHORT, "curl", "-g", "-s", "--max-time", "2",
                Testbed.httpUrl(Testbed.serverIp6(2), Testbed.HTTP_PORT, "/whoami"));
            assertEquals(Testbed.serverIp6(2), whoami6.stdout(), whoami6::toString);
            final Testbed.ExecResult whoami4 = testbed.exec("s1", SHORT, "curl", "-s", "--max-time", "2",
                Testbed.httpUrl(Testbed.serverIp(2), Testbed.HTTP_PORT, "/whoami"));
            assertEquals(Testbed.serverIp(2), whoami4.stdout(), whoami4::toString);
            final Testbed.ExecResult echo6 = testbed.exec("s1", SHORT, "/usr/bin/python3",
                testbed.repoRoot().resolve("docker/udp_ask.py").toString(), Testbed.serverIp6(2), "5353", "2");
            assertEquals(List.of("0 " + Testbed.serverIp6(2) + " 5353 " + Testbed.serverIp6(2) + " hello 0",
                "1 " + Testbed.serverIp6(2) + " 5353 " + Testbed.serverIp6(2) + " hello 1"),
                echo6.stdout().lines().collect(Collectors.toList()), echo6::toString);
            final Testbed.ExecResult echo4 = testbed.exec("s1", SHORT, "/usr/bin/python3",
                testbed.repoRoot().resolve("docker/udp_ask.py").toString(), Testbed.serverIp(2), "5353", "1");
            assertEquals("0 " + Testbed.serverIp(2) + " 5353 " + Testbed.serverIp(2) + " hello 0", echo4.stdout().strip(),
                echo4::toString);
            final Testbed.ExecResult fetch = testbed.exec("s2", SHORT, "/usr/bin/python3",
                testbed.repoRoot().resolve("docker/testbed_fetch.py").toString(), "--count", "2", "--timeout", "5",
                Testbed.httpUrl(Testbed.serverIp6(1), Testbed.HTTP_PORT, "/file/blob.bin"));
            assertTrue(fetch.ok(), fetch::toString);
            final String digest = sha256(content);
            assertEquals(2, fetch.stdout().lines().filter(l -> l.matches("\\d ok " + digest + " 300000 .*")).count(),
                fetch::toString);

            assertTrue(String.join(" ", testbed.lbArgs6()).endsWith("--client-ip6 2001:2::1 --gateway-ip6 2001:2:0:1::1 " +
                "--vip [2001:2::100]:80/tcp --backends 2001:2:0:1::11,2001:2:0:1::12 --scheduler rr"), testbed.lbArgs6()::toString);
        }
        assertEquals(Set.of(), namespacesWithPrefix(prefix));
    }

    /** From c3, a UDP datagram to the VIP6's echo port: prints "source-ip source-port reply". */
    private static final String UDP_TO_VIP6 =
        "import socket\n" +
        "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n" +
        "s.settimeout(3)\n" +
        "s.sendto(b'hello', ('" + Testbed.VIP6 + "', 5353))\n" +
        "data, peer = s.recvfrom(200)\n" +
        "print(peer[0], peer[1], data.decode())\n";

    @Test
    void dualStackDsrServersHoldTheVip6sAndAnswerThroughTheRouter()
    {
        final String prefix;
        try (Testbed testbed = Testbed.upDualStack(true, 2, "dsr"))
        {
            prefix = testbed.prefix();
            for (final String server : List.of("s1", "s2"))
            {
                final Testbed.ExecResult local = testbed.exec(server, SHORT, "ip", "-6", "route", "show", "table", "local",
                    Testbed.SERVER_LOCAL_VIPS6);
                assertTrue(local.stdout().contains("local " + Testbed.SERVER_LOCAL_VIPS6 + " dev lo"), local::toString);
                final Testbed.ExecResult route = testbed.exec(server, SHORT, "ip", "-6", "route", "show", "default");
                assertTrue(route.stdout().startsWith("default via " + Testbed.ROUTER_SERVER_IP6 + " dev eth0"), route::toString);
                final Testbed.ExecResult nonlocal = testbed.exec(server, SHORT, "sysctl", "-n", "net.ipv6.ip_nonlocal_bind");
                assertEquals("1", nonlocal.stdout().strip(), nonlocal::toString);
            }
            final Testbed.ExecResult rt = testbed.exec("rt", SHORT, "sysctl", "-n", "net.ipv6.conf.all.forwarding");
            assertEquals("1", rt.stdout().strip(), rt::toString);
            assertEquals(Testbed.ROUTER_CLIENT_IP6 + "/64", globalAddress(testbed, "rt"));
            // A VIP6 is local on a server, lb's and the clients' addresses are not (and no server
            // answers a neighbour solicitation for a VIP6: it holds them in a route, not on eth0).
            final Testbed.ExecResult get = testbed.exec("s1", SHORT, "ip", "-6", "route", "get", "2001:2::1ff");
            assertTrue(get.stdout().startsWith("local 2001:2::1ff"), get::toString);
            final Testbed.ExecResult other = testbed.exec("s1", SHORT, "ip", "-6", "route", "get", Testbed.LB_CLIENT_IP6);
            assertTrue(other.stdout().contains("via " + Testbed.ROUTER_SERVER_IP6), other::toString);
            // rt told the VIP6 is on the server LAN solicits it there: unanswered, so the ping fails.
            assertTrue(testbed.exec("rt", SHORT, "ip", "-6", "route", "add", Testbed.VIP6 + "/128", "dev", "eth2").ok());
            final Testbed.ExecResult solicit = testbed.exec("rt", SHORT, "ping", "-6", "-n", "-c", "1", "-W", "2", Testbed.VIP6);
            assertFalse(solicit.ok(), "no server answers a neighbour solicitation for the VIP6: " + solicit);
            final Testbed.ExecResult unresolved = testbed.exec("rt", SHORT, "ip", "-6", "neigh", "show", Testbed.VIP6, "dev", "eth2");
            assertTrue(unresolved.stdout().matches("(?s).*(INCOMPLETE|FAILED).*"), "rt did solicit it: " + unresolved);

            // lb's dsr over IPv6, played by rt (a route to the VIP6 via s1): s1 answers from VIP6:5353 through rt.
            testbed.startServers();
            assertTrue(testbed.exec("rt", SHORT, "ip", "-6", "route", "replace", Testbed.VIP6 + "/128", "via",
                Testbed.serverIp6(1)).ok());
            final Testbed.ExecResult echo = testbed.exec("c3", SHORT, "/usr/bin/python3", "-c", UDP_TO_VIP6);
            assertEquals(Testbed.VIP6 + " 5353 " + Testbed.serverIp6(1) + " hello", echo.stdout().strip(), echo::toString);
        }
        assertEquals(Set.of(), namespacesWithPrefix(prefix));
    }

    @Test
    void lbCommandCarriesTheTestbedsBackends()
    {
        try (Testbed testbed = Testbed.up(true, 3))
        {
            final List<String> cmd = testbed.lbCommand(testbed.lbArgs());
            final String joined = String.join(" ", cmd);
            assertTrue(joined.endsWith("--client-if cli0 --server-if srv0 --client-ip 198.18.0.1 --gateway-ip 198.18.1.1 " +
                "--vip 198.18.0.100:80/tcp --backends 198.18.1.11,198.18.1.12,198.18.1.13 --scheduler rr"), joined);
            assertTrue(cmd.get(0).endsWith("bin/lb") || joined.contains("-jar " + testbed.repoRoot().resolve(
                "lb-control/target/lb.jar")), joined);
        }
    }

    /** From c3, a UDP datagram to the VIP's echo port, sent plainly: prints "source-ip source-port reply". */
    private static final String UDP_TO_VIP =
        "import socket\n" +
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n" +
        "s.settimeout(3)\n" +
        "s.bind(('198.18.2.11', 0))\n" +
        "s.sendto(b'hello', ('" + Testbed.VIP + "', 5353))\n" +
        "data, peer = s.recvfrom(200)\n" +
        "print(peer[0], peer[1], data.decode())\n";

    /**
     * From c3, the same datagram wrapped the way lb's ipip mode wraps it (outer protocol 4, here
     * from c3 itself to s1): prints "source-ip source-port reply" of the direct answer.
     */
    private static final String IPIP_TO_VIP =
        "import socket, struct\n" +
        "def csum(b):\n" +
        "    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))\n" +
        "    while t >> 16: t = (t & 0xffff) + (t >> 16)\n" +
        "    return ~t & 0xffff\n" +
        "src, vip = socket.inet_aton('198.18.2.11'), socket.inet_aton('" + Testbed.VIP + "')\n" +
        "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n" +
        "u.settimeout(3)\n" +
        "u.bind(('198.18.2.11', 0))\n" +
        "port = u.getsockname()[1]\n" +
        "payload = b'hello'\n" +
        "udp = struct.pack('!HHHH', port, 5353, 8 + len(payload), 0) + payload\n" +
        "ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0, src, vip)\n" +
        "ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]\n" +
        "r = socket.socket(socket.AF_INET, socket.SOCK_RAW, 4)\n" +
        "r.sendto(ip + udp, ('" + Testbed.serverIp(1) + "', 0))\n" +
        "data, peer = u.recvfrom(200)\n" +
        "print(peer[0], peer[1], data.decode())\n";

    /**
     * From c3, a UDP datagram to VIP6:5353 wrapped the way lb's ipip mode wraps an IPv6 packet (outer IPv6 from c3 to
     * s1, next header 41; the kernel writes the outer header): prints "source-ip source-port reply" of the direct answer.
     */
    private static final String IP6IP6_TO_VIP6 =
        "import socket, struct\n" +
        "def csum(b):\n" +
        "    b += b'\\0' * (len(b) & 1)\n" +
        "    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))\n" +
        "    while t >> 16: t = (t & 0xffff) + (t >> 16)\n" +
        "    return ~t & 0xffff\n" +
        "me = '" + Testbed.clientIp6("c3") + "'\n" +
        "src, vip = socket.inet_pton(socket.AF_INET6, me), socket.inet_pton(socket.AF_INET6, '" + Testbed.VIP6 + "')\n" +
        "u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n" +
        "u.settimeout(3)\n" +
        "u.bind((me, 0))\n" +
        "port = u.getsockname()[1]\n" +
        "payload = b'hello'\n" +
        "length = 8 + len(payload)\n" +
        "udp = struct.pack('!HHHH', port, 5353, length, 0) + payload\n" +
        "pseudo = src + vip + struct.pack('!IxxxB', length, 17)\n" +
        "udp = udp[:6] + struct.pack('!H', csum(pseudo + udp)) + udp[8:]\n" +
        "ip = struct.pack('!IHBB', 6 << 28, length, 17, 64) + src + vip\n" +
        "r = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 41)\n" +
        "r.sendto(ip + udp, ('" + Testbed.serverIp6(1) + "', 0))\n" +
        "data, peer = u.recvfrom(200)\n" +
        "print(peer[0], peer[1], data.decode())\n";

    @Test
    void dsrServersHoldTheVipsAndAnswerThroughTheRouter()
    {
        final String prefix;
        try (Testbed testbed = Testbed.up(true, 2, "dsr"))
        {
            prefix = testbed.prefix();
            assertEquals("dsr", testbed.mode());
            assertFalse(testbed.ecmp());
            assertEquals(List.of("lb"), testbed.lbRoles());
            for (final String server : List.of("s1", "s2"))
            {
                final Testbed.ExecResult local = testbed.exec(server, SHORT, "ip", "route", "show", "table", "local",
                    Testbed.SERVER_LOCAL_VIPS);
                assertTrue(local.stdout().contains("local " + Testbed.SERVER_LOCAL_VIPS + " dev lo"), local::toString);
                final Testbed.ExecResult route = testbed.exec(server, SHORT, "ip", "route", "show", "default");
                assertEquals("default via " + Testbed.ROUTER_SERVER_IP + " dev eth0", route.stdout().strip(), route::toString);
                final Testbed.ExecResult sysctl = testbed.exec(server, SHORT, "sysctl", "-n",
                    "net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.eth0.arp_ignore", "net.ipv4.conf.all.arp_announce",
                    "net.ipv4.conf.eth0.arp_announce", "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.default.rp_filter",
                    "net.ipv4.conf.eth0.rp_filter", "net.ipv4.conf.lo.rp_filter");
                assertEquals(List.of("1", "1", "2", "2", "0", "0", "0", "0"), sysctl.stdout().lines().collect(Collectors.toList()),
                    sysctl::toString);
            }
            // The VIPs tests use are local on the servers; lb's, rt's and the clients' addresses are not.
            for (final String vip : List.of("198.18.0.100", "198.18.0.103", "198.18.0.127"))
            {
                final Testbed.ExecResult get = testbed.exec("s1", SHORT, "ip", "route", "get", vip);
                assertTrue(get.stdout().startsWith("local " + vip), get::toString);
            }
            for (final String other : List.of(Testbed.LB_CLIENT_IP, Testbed.ROUTER_CLIENT_IP, "198.18.0.11", "198.18.0.12"))
            {
                final Testbed.ExecResult get = testbed.exec("s1", SHORT, "ip", "route", "get", other);
                assertTrue(get.stdout().startsWith(other + " via " + Testbed.ROUTER_SERVER_IP), get::toString);
            }
            final Testbed.ExecResult rt = testbed.exec("rt", SHORT, "ip", "-o", "-4", "addr", "show", "dev", "eth2");
            assertTrue(rt.stdout().contains(Testbed.ROUTER_SERVER_IP + "/24"), rt::toString);
            final Testbed.ExecResult routed = testbed.exec("c3", SHORT, "ping", "-c", "1", "-W", "2", Testbed.serverIp(2));
            assertTrue(routed.ok() && routed.stdout().contains("ttl=63"), routed::toString);

            // What lb's dsr does, played by rt (a route to the VIP via s1): the frame reaches s1
            // unchanged, and s1 answers from VIP:5353 straight back through rt.
            testbed.startServers();
            assertTrue(testbed.exec("rt", SHORT, "ip", "route", "add", Testbed.VIP + "/32", "via", Testbed.serverIp(1)).ok());
            final Testbed.ExecResult echo = testbed.exec("c3", SHORT, "/usr/bin/python3", "-c", UDP_TO_VIP);
            assertEquals(Testbed.VIP + " 5353 " + Testbed.serverIp(1) + " hello", echo.stdout().strip(), echo::toString);
        }
        assertEquals(Set.of(), namespacesWithPrefix(prefix));
    }

    @Test
    void ipipServersUnwrapInUserSpaceAndAnswerDirectly() throws Exception
    {
        final String prefix;
        final long decapPid;
        try (Testbed testbed = Testbed.up(true, 1, "ipip"))
        {
            prefix = testbed.prefix();
            assertEquals("ipip", testbed.mode());
            final Testbed.ExecResult tun = testbed.exec("s1", SHORT, "ip", "-o", "link", "show", "ipip0");
            assertTrue(tun.ok() && tun.stdout().contains(",UP"), tun::toString);
            final Testbed.ExecResult route = testbed.exec("s1", SHORT, "ip", "route", "show", "default");
            assertEquals("default via " + Testbed.ROUTER_SERVER_IP + " dev eth0", route.stdout().strip(), route::toString);
            final Testbed.ExecResult rpFilter = testbed.exec("s1", SHORT, "sysctl", "-n", "net.ipv4.conf.ipip0.rp_filter");
            assertEquals("0", rpFilter.stdout().strip(), rpFilter::toString);

            testbed.startServers();
            final Path stats = Path.of("/run/lb-testbed", prefix + ".s1.decap.stats");
            decapPid = pidsIn(testbed.ns("s1")).stream().mapToLong(Long::parseLong)
                .filter(pid -> cmdline(pid).contains("ipip_decap.py")).findFirst()
                .orElseThrow(() -> new AssertionError("no ipip_decap.py in s1"));

            final long unreachableBefore = icmpCounter(testbed, "s1", "OutDestUnreachs");
            final Testbed.ExecResult echo = testbed.exec("c3", SHORT, "/usr/bin/python3", "-c", IPIP_TO_VIP);
            assertEquals(Testbed.VIP + " 5353 " + Testbed.serverIp(1) + " hello", echo.stdout().strip(), echo::toString);
            assertEquals(unreachableBefore, icmpCounter(testbed, "s1", "OutDestUnreachs"),
                "no ICMP protocol-unreachable while the decapsulator runs");

            // Stopped, it writes its final counters; then the kernel itself refuses protocol 4.
            testbed.stopServers();
            final String counters = Files.readString(stats);
            assertTrue(counters.contains("received 1\n") && counters.contains("decapsulated 1\n"), counters);
            assertFalse(ProcessHandle.of(decapPid).map(ProcessHandle::isAlive).orElse(false), "decap after stop-servers");
            testbed.exec("c3", SHORT, "/usr/bin/python3", "-c", IPIP_TO_VIP);
            assertEquals(unreachableBefore + 1, icmpCounter(testbed, "s1", "OutDestUnreachs"),
                "protocol-unreachable without the decapsulator");
        }
        assertEquals(Set.of(), namespacesWithPrefix(prefix));
    }

    @Test
    void ipipServersOfTheDualStackTestbedUnwrapIpv6InIpv6Too() throws Exception
    {
        final String prefix;
        try (Testbed testbed = Testbed.upDualStack(true, 1, "ipip"))
        {
            prefix = testbed.prefix();
            final Testbed.ExecResult local = testbed.exec("s1", SHORT, "ip", "-6", "route", "get", Testbed.VIP6);
            assertTrue(local.stdout().startsWith("local " + Testbed.VIP6), local::toString);
            final Testbed.ExecResult route = testbed.exec("s1", SHORT, "ip", "-6", "route", "show", "default");
            assertTrue(route.stdout().startsWith("default via " + Testbed.ROUTER_SERVER_IP6 + " dev eth0"), route::toString);

            testbed.startServers();
            final Testbed.ExecResult echo = testbed.exec("c3", SHORT, "/usr/bin/python3", "-c", IP6IP6_TO_VIP6);
            assertEquals(Testbed.VIP6 + " 5353 " + Testbed.serverIp6(1) + " hello", echo.stdout().strip(), echo::toString);
            // The IPv4 tunnel still works beside it, through the same TUN device.
            final Testbed.ExecResult echo4 = testbed.exec("c3", SHORT, "/usr/bin/python3", "-c", IPIP_TO_VIP);
            assertEquals(Testbed.VIP + " 5353 " + Testbed.serverIp(1) + " hello", echo4.stdout().strip(), echo4::toString);

            testbed.stopServers();
            final String counters = Files.readString(Path.of("/run/lb-testbed", prefix + ".s1.decap.stats"));
            assertTrue(counters.contains("received6 1\n") && counters.contains("decapsulated6 1\n") &&
                counters.contains("received 1\n") && counters.contains("decapsulated 1\n"), counters);
        }
        assertEquals(Set.of(), namespacesWithPrefix(prefix));
    }

    @Test
    void ecmpTopologyPeersWithEveryInstanceAndMergesTheirRoutes() throws Exception
    {
        final String prefix;
        final long birdPid;
        final Path socket;
        try (Testbed testbed = Testbed.upEcmp(3))
        {
            prefix = testbed.prefix();
            assertTrue(testbed.ecmp());
            assertEquals(3, testbed.instances());
            assertEquals(List.of("lb1", "lb2", "lb3"), testbed.lbRoles());
            assertEquals(Set.of(prefix + "-sw", prefix + "-lb1", prefix + "-lb2", prefix + "-lb3", prefix + "-c1",
                prefix + "-c2", prefix + "-rt", prefix + "-c3", prefix + "-s1", prefix + "-s2", prefix + "-s3"),
                namespacesWithPrefix(prefix));
            assertThrows(IllegalArgumentException.class, () -> testbed.ns("lb"));
            for (int i = 1; i <= 3; i++)
            {
                final String lb = "lb" + i;
                final Testbed.ExecResult addresses = testbed.exec(lb, SHORT, "ip", "-o", "-4", "addr", "show");
                assertEquals(List.of("lo", "mgmt0 " + Testbed.lbMgmtIp(i) + "/24"), addresses.stdout().lines()
                    .map(l -> l.split("\\s+")).map(f -> f[1].equals("lo") ? "lo" : f[1] + " " + f[3])
                    .collect(Collectors.toList()), addresses::toString);
                final Testbed.ExecResult filter = testbed.exec(lb, SHORT, "tc", "filter", "show", "dev", "cli0", "ingress");
                assertTrue(filter.stdout().contains("bpf"), filter::toString);
                final Testbed.ExecResult features = testbed.exec(lb, SHORT, "ethtool", "-k", "srv0");
                assertTrue(features.stdout().contains("tcp-segmentation-offload: off"), features::toString);
                final Testbed.ExecResult mgmt = testbed.exec(lb, SHORT, "ping", "-c", "1", "-W", "2", Testbed.ROUTER_MGMT_IP);
                assertTrue(mgmt.ok(), mgmt::toString);
            }
            final Testbed.ExecResult hash = testbed.exec("rt", SHORT, "sysctl", "-n", "net.ipv4.fib_multipath_hash_policy",
                "net.ipv4.ip_forward");
            assertEquals(List.of("1", "1"), hash.stdout().lines().collect(Collectors.toList()), hash::toString);
            // Every client is behind rt; the servers answer through it.
            final Testbed.ExecResult routed = testbed.exec("c1", SHORT, "ping", "-c", "1", "-W", "2", Testbed.serverIp(3));
            assertTrue(routed.ok() && routed.stdout().contains("ttl=63"), routed::toString);
            assertEquals("198.18.2.21", testbed.clientAddress("c1"));

            socket = testbed.birdSocket();
            final Testbed.ExecResult protocols = testbed.birdc("show protocols");
            assertTrue(protocols.ok(), protocols::toString);
            for (final String name : List.of("lb1", "lb2", "lb3"))
            {
                assertTrue(protocols.stdout().lines().anyMatch(l -> l.matches(name + "\\s+BGP\\s.*")), protocols::toString);
            }
            assertTrue(protocols.stdout().lines().anyMatch(l -> l.matches("bfd1\\s+BFD\\s.*up.*")), protocols::toString);
            birdPid = pidsIn(testbed.ns("rt")).stream().mapToLong(Long::parseLong)
                .filter(pid -> cmdline(pid).contains("bird")).findFirst().orElseThrow();

            // Two stand-in instances (BIRD in lb1 and lb2) announce the VIP with their client-ips
            // as next hops: rt installs one route with both; one gone, the other remains.
            final List<Process> speakers = new java.util.ArrayList<>();
            for (int i = 1; i <= 2; i++)
            {
                final Path conf = tmp.resolve("lb" + i + ".conf");
                Files.writeString(conf, "router id " + Testbed.lbMgmtIp(i) + ";\n" +
                    "protocol device {}\n" +
                    "protocol static vips { ipv4; route " + Testbed.VIP + "/32 blackhole; }\n" +
                    "protocol bfd { interface \"mgmt0\" { interval 100 ms; multiplier 3; }; }\n" +
                    "protocol bgp uplink { local " + Testbed.lbMgmtIp(i) + " as " + Testbed.LB_AS + "; neighbor " +
                    Testbed.ROUTER_MGMT_IP + " as " + Testbed.ROUTER_AS + "; bfd on; hold time 3; keepalive time 1;\n" +
                    "  error wait time 1, 2; connect retry time 1;\n" +
                    "  ipv4 { import none; export where proto = \"vips\"; next hop address " + Testbed.lbClientIp(i) + "; }; }\n");
                speakers.add(testbed.start("lb" + i, List.of("/usr/sbin/bird", "-f", "-c", conf.toString(),
                    "-s", tmp.resolve("lb" + i + ".ctl").toString()), tmp.resolve("lb" + i + ".log")));
            }
            final String both = awaitRoute(testbed, r -> r.contains("via " + Testbed.lbClientIp(1)) &&
                r.contains("via " + Testbed.lbClientIp(2)));
            assertTrue(both.contains("nexthop via " + Testbed.lbClientIp(1) + " dev eth0"), both);
            assertTrue(testbed.birdc("show protocols lb1").stdout().contains("Established"));
            testbed.stop(speakers.get(0));
            final String one = awaitRoute(testbed, r -> !r.contains(Testbed.lbClientIp(1)) && r.contains(Testbed.lbClientIp(2)));
            assertTrue(one.startsWith(Testbed.VIP + " via " + Testbed.lbClientIp(2) + " dev eth0"), one);
        }
        assertEquals(Set.of(), namespacesWithPrefix(prefix));
        assertFalse(ProcessHandle.of(birdPid).map(ProcessHandle::isAlive).orElse(false), "rt's BIRD after close");
        assertFalse(Files.exists(socket), "BIRD's socket after close");
    }

    /** Waits up to 15 s for rt's route to the VIP to satisfy {@code check}; returns it. */
    private static String awaitRoute(final Testbed testbed, final java.util.function.Predicate<String> check)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        String routes = testbed.routerRoutes(Testbed.VIP);
        while (!check.test(routes))
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("rt's route to " + Testbed.VIP + " after 15 s: '" + routes + "'\n" +
                    testbed.birdc("show protocols all").stdout());
            }
            Thread.sleep(100);
            routes = testbed.routerRoutes(Testbed.VIP);
        }
        return routes;
    }

    private static long icmpCounter(final Testbed testbed, final String role, final String name)
    {
        final Testbed.ExecResult snmp = testbed.exec(role, SHORT, "cat", "/proc/net/snmp");
        final List<String> icmp = snmp.stdout().lines().filter(l -> l.startsWith("Icmp:")).collect(Collectors.toList());
        final List<String> names = List.of(icmp.get(0).split("\\s+"));
        return Long.parseLong(icmp.get(1).split("\\s+")[names.indexOf(name)]);
    }

    /** @return the one global IPv6 address (with its prefix length) on a role's eth0. */
    private static String globalAddress(final Testbed testbed, final String role)
    {
        final Testbed.ExecResult show = testbed.exec(role, SHORT, "ip", "-o", "-6", "addr", "show", "dev", "eth0", "scope", "global");
        final List<String> addresses = show.stdout().lines().map(l -> l.split("\\s+")[3]).collect(Collectors.toList());
        assertEquals(1, addresses.size(), role + ": " + show);
        return addresses.get(0);
    }

    private static String cmdline(final long pid)
    {
        try
        {
            return Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
        }
        catch (final java.io.IOException ex)
        {
            return "";
        }
    }

    private static Set<String> namespacesWithPrefix(final String prefix)
    {
        final Set<String> names = new TreeSet<>();
        final Testbed.ExecResult list = run("ip", "netns", "list");
        list.stdout().lines().map(l -> l.split("\\s+")[0]).filter(n -> n.startsWith(prefix + "-")).forEach(names::add);
        return names;
    }

    private static Set<String> pidsIn(final String namespace)
    {
        return new TreeSet<>(run("ip", "netns", "pids", namespace).stdout().lines().collect(Collectors.toList()));
    }

    private static Testbed.ExecResult run(final String... cmd)
    {
        try
        {
            final Process process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            final String out = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            final int exit = process.waitFor();
            assertEquals(0, exit, () -> String.join(" ", cmd) + ": " + out);
            return new Testbed.ExecResult(exit, out, "", false);
        }
        catch (final Exception ex)
        {
            throw new AssertionError("cannot run " + String.join(" ", cmd), ex);
        }
    }

    private static Path stateFile(final String prefix)
    {
        return Path.of("/run/lb-testbed", prefix + ".state");
    }

    private static String sha256(final byte[] bytes) throws Exception
    {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
