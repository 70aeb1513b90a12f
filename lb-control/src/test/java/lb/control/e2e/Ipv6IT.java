package lb.control.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import lb.control.testbed.Testbed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPv6 end to end (issue 13), on the dual-stack testbed: HTTP and UDP through a VIP6 to IPv6
 * backends, a 64 MiB download intact with every frame's TCP checksum valid (offloads on and off),
 * ping6 to the VIP6 and lb's neighbour advertisement for it, a dead backend found by NDP probes, a
 * closed port found by a TCP check from gateway-ip6, and IPv4 and IPv6 services served at once. One and two workers. Each test gets a fresh testbed.
 */
class Ipv6IT
{
    /** A full IPv6 TCP segment's payload on a 1500-byte link with timestamps: 1500 - 40 - 20 - 12. */
    static final int SEGMENT_PAYLOAD = 1428;

    static final String BASE6 = LbRun.baseConfig() + "client-ip6 " + Testbed.LB_CLIENT_IP6 + "\ngateway-ip6 " +
        Testbed.GATEWAY_IP6 + "\n";
    static final String VIP6_HTTP = Testbed.hostPort(Testbed.VIP6, Testbed.HTTP_PORT);
    static final String WEB6 = "service web6 " + VIP6_HTTP + "/tcp\n  scheduler rr\n" + backends6("");
    static final String ECHO6 = "service echo6 " + Testbed.hostPort(Testbed.VIP6, 53) + "/udp\n  scheduler rr\n" +
        backends6(":" + Testbed.UDP_ECHO_PORT);
    static final String WEB4 = "service web " + Testbed.VIP + ":80/tcp\n  scheduler rr\n" +
        "  backend 198.18.1.11\n  backend 198.18.1.12\n  backend 198.18.1.13\n";
    static final String ECHO4 = "service echo " + Testbed.VIP + ":53/udp\n  scheduler rr\n" +
        "  backend 198.18.1.11:5353\n  backend 198.18.1.12:5353\n  backend 198.18.1.13:5353\n";

    @TempDir
    Path dir;

    @ParameterizedTest(name = "workers {0}")
    @ValueSource(ints = {1, 2})
    void roundRobinOverIpv6Spreads300ConnectionsEvenly(final int workers)
    {
        try (Testbed testbed = dualStack(true);
            LbRun lb = LbRun.start(testbed, dir, withWorkers(testbed.lbArgs6(), workers), 3))
        {
            final Map<String, Integer> answers = requests(testbed, "c1", Testbed.VIP6, 300);
            assertNull(answers.get("FAIL"), answers.toString());
            // One worker: exactly 100 each. Two: each worker's round robin is its own, so each
            // backend's count is 100 within 2 (as WorkersIT).
            for (final String backend : testbed.serverIps6())
            {
                final int got = answers.getOrDefault(backend, 0);
                assertTrue(workers == 1 ? got == 100 : Math.abs(got - 100) <= 2, backend + " got " + got + ": " + answers);
            }
            assertEquals(300, LbRun.total(answers), answers.toString());
            final Map<String, Long> counters = lb.stop();
            assertEquals(300, counters.get("flows_created"), counters.toString());
        }
    }

    @Test
    void udpThroughTheVip6RepliesFromTheVip6AndSpreadsTwoTwoTwo()
    {
        try (Testbed testbed = dualStack(true); LbRun lb = LbRun.startWithConfig(testbed, dir, BASE6 + ECHO6, 3))
        {
            final Map<String, Integer> perBackend = new TreeMap<>();
            for (final String[] reply : udp(testbed, "c1", Testbed.VIP6, 6))
            {
                assertEquals(Testbed.VIP6, reply[1], "the reply comes from the VIP6: " + String.join(" ", reply));
                assertEquals("53", reply[2], "and from the service port: " + String.join(" ", reply));
                assertEquals("hello " + reply[0], reply[4] + " " + reply[5], "the datagram comes back whole");
                perBackend.merge(reply[3], 1, Integer::sum);
            }
            assertEquals(Map.of(Testbed.serverIp6(1), 2, Testbed.serverIp6(2), 2, Testbed.serverIp6(3), 2), perBackend);
            assertEquals(6, lb.stop().get("flows_created"));
        }
    }

    @Test
    void ping6ToTheVip6IsAnsweredOnLinkAndThroughTheRouter()
    {
        try (Testbed testbed = dualStack(true); LbRun lb = LbRun.startWithConfig(testbed, dir, BASE6 + WEB6, 3))
        {
            final Testbed.ExecResult onLink = testbed.exec("c1", Duration.ofSeconds(15), "ping", "-6", "-n", "-c", "3", "-W", "2",
                Testbed.VIP6);
            assertTrue(onLink.ok() && onLink.stdout().contains("3 received"), onLink.toString());
            // c1 found the VIP6 by NDP: lb advertised it with its own client-side MAC.
            final String lbMac = testbed.exec("lb", Duration.ofSeconds(5), "cat", "/sys/class/net/" + Testbed.CLIENT_IF +
                "/address").stdout().strip();
            final Testbed.ExecResult neighbour = testbed.exec("c1", Duration.ofSeconds(5), "ip", "-6", "neigh", "show", Testbed.VIP6);
            assertTrue(neighbour.stdout().contains("lladdr " + lbMac), "c1's neighbour entry for the VIP6: " + neighbour +
                " (lb's MAC " + lbMac + ")");
            // c3 sits behind rt: the echo crosses the router both ways (lb answers rt's solicitation).
            final Testbed.ExecResult routed = testbed.exec("c3", Duration.ofSeconds(15), "ping", "-6", "-n", "-c", "3", "-W", "2",
                Testbed.VIP6);
            assertTrue(routed.ok() && routed.stdout().contains("3 received"), routed.toString());
            // And lb's own client-side address answers too.
            final Testbed.ExecResult own = testbed.exec("c2", Duration.ofSeconds(15), "ping", "-6", "-n", "-c", "1", "-W", "2",
                Testbed.LB_CLIENT_IP6);
            assertTrue(own.ok(), own.toString());
        }
    }

    @ParameterizedTest(name = "offloads {0}")
    @ValueSource(booleans = {true, false})
    void bigFileOverIpv6KeepsItsSha256AndEveryFrameItsTcpChecksum(final boolean offloads) throws Exception
    {
        final Path files = Files.createDirectories(dir.resolve("files"));
        final String expected = IntegrityIT.writeBigFile(files);

        try (Testbed testbed = Testbed.upDualStack(offloads, 3, "nat"))
        {
            testbed.startServers(files);
            // Offloads on with one worker, off with two (as PathMtuIT).
            try (LbRun lb = LbRun.start(testbed, dir, withWorkers(testbed.lbArgs6(), offloads ? 1 : 2), 3))
            {
                final Path pcap = dir.resolve("client6.pcap");
                final Path captureLog = dir.resolve("tshark6.log");
                // As IntegrityIT: a 64 MiB capture buffer and a download capped at 20 MB/s, so tshark keeps up.
                final Process capture = testbed.start("c1", List.of("tshark", "-n", "-B", "64", "-i", "eth0", "-f",
                    "src host " + Testbed.VIP6 + " and (tcp or icmp6)", "-w", pcap.toString()), captureLog);
                IntegrityIT.awaitCapture(testbed, captureLog, pcap, Testbed.VIP6);

                final Testbed.ExecResult download = testbed.exec("c1", Duration.ofSeconds(120), "bash", "-c",
                    "curl -g -s --max-time 100 --limit-rate 20M " + Testbed.httpUrl(Testbed.VIP6, Testbed.HTTP_PORT, "/file/big.bin") +
                    " | sha256sum");
                IntegrityIT.awaitCaughtUp(pcap);
                testbed.stop(capture);
                assertTrue(download.ok(), download.toString());
                assertEquals(expected, download.stdout().split("\\s+")[0], "sha256 of the file through the VIP6");

                // IPv6 has no header checksum: the TCP checksum (over the IPv6 pseudo-header) is the one to check.
                final Testbed.ExecResult check = testbed.exec("c1", Duration.ofSeconds(120), "tshark", "-n", "-r", pcap.toString(),
                    "-o", "tcp.check_checksum:TRUE", "-o", "tcp.desegment_tcp_streams:FALSE",
                    "-o", "tcp.analyze_sequence_numbers:FALSE", "--disable-protocol", "http",
                    "-T", "fields", "-e", "ipv6.nxt", "-e", "frame.len", "-e", "ipv6.src", "-e", "tcp.checksum.status");
                assertTrue(check.ok(), check.toString());
                final List<String> frames = check.stdout().lines().filter(f -> f.startsWith("6\t")).map(f -> f.substring(2)).toList();
                IntegrityIT.assertCapturedFramesValid(frames, captureLog, IntegrityIT.FILE_BYTES / SEGMENT_PAYLOAD,
                    "\\d+\\t" + Pattern.quote(Testbed.VIP6) + "\\t1");

                final Map<String, Long> counters = lb.stop();
                assertTrue(counters.get("tx_client_bytes") >= IntegrityIT.FILE_BYTES, counters.toString());
            }
        }
    }

    @Test
    void deadBackendIsFoundByNdpWithinCyclePlusTimeoutAndComesBack()
    {
        final String config = BASE6 + "probe-interval 1s\nprobe-timeout 500ms\n" + WEB6;
        try (Testbed testbed = dualStack(true); LbRun lb = LbRun.startWithConfig(testbed, dir, config, 3))
        {
            assertEquals(3, requests(testbed, "c1", Testbed.VIP6, 30).size(), "all three serve at first");

            final String dead = Testbed.serverIp6(2);
            final long downAt = System.nanoTime();
            assertTrue(testbed.exec("s2", Duration.ofSeconds(5), "ip", "link", "set", "eth0", "down").ok());
            lb.awaitLog("backend " + Pattern.quote(dead) + " down", 1, Duration.ofSeconds(10));
            final long detectMillis = (System.nanoTime() - downAt) / 1_000_000;
            // One probe cycle (1 s) plus the reply timeout twice (solicitation and its retry), with
            // margin for a loaded machine: as HealthAndExpiryIT's ARP bound.
            assertTrue(detectMillis <= 2000 + 1500, "marked down after " + detectMillis + " ms");

            final Map<String, Integer> whileDown = requests(testbed, "c1", Testbed.VIP6, 30);
            assertEquals(Map.of(Testbed.serverIp6(1), 15, Testbed.serverIp6(3), 15), whileDown, "every request goes to the others");

            assertTrue(testbed.exec("s2", Duration.ofSeconds(5), "ip", "link", "set", "eth0", "up").ok());
            // The address stayed (keep_addr_on_down); the default route went with the link: put it back.
            assertTrue(testbed.exec("s2", Duration.ofSeconds(5), "ip", "-6", "route", "replace", "default", "via",
                Testbed.GATEWAY_IP6, "dev", "eth0").ok());
            lb.awaitLog("backend " + Pattern.quote(dead) + " up at", 2, Duration.ofSeconds(10));
            final Map<String, Integer> afterBack = requests(testbed, "c1", Testbed.VIP6, 30);
            assertEquals(Map.of(Testbed.serverIp6(1), 10, dead, 10, Testbed.serverIp6(3), 10), afterBack, "it gets flows again");
        }
    }

    /**
     * A TCP check on an IPv6 service: its SYNs go from gateway-ip6 to each backend's IPv6 address, and a backend
     * whose HTTP server stops (its host still answers neighbour solicitations) is out within fall checks and the
     * timeout, and back after rise checks once it listens again; the healthy ones stay up throughout.
     */
    @ParameterizedTest(name = "workers {0}")
    @ValueSource(ints = {1, 2})
    void tcpCheckTakesOutAnIpv6BackendWhosePortClosesAndBringsItBack(final int workers) throws Exception
    {
        final long interval = 500;
        final long timeout = 500;
        final int rise = 2;
        final int fall = 2;
        try (Testbed testbed = dualStack(true))
        {
            // Our own server processes, so one can be stopped while its host stays up.
            testbed.stopServers();
            final Process[] servers = new Process[3];
            for (int i = 1; i <= 3; i++)
            {
                servers[i - 1] = TcpCheckIT.startServer(testbed, dir, i, true);
            }
            final Path socket = dir.resolve("lb.sock");
            final String config = BASE6 + "workers " + workers + "\nprobe-interval 1s\nprobe-timeout 500ms\n" +
                "control-socket " + socket + "\n" +
                "service web6 " + VIP6_HTTP + "/tcp\n  scheduler rr\n  check tcp\n  check-interval " + interval + "ms\n" +
                "  check-timeout " + timeout + "ms\n  check-rise " + rise + "\n  check-fall " + fall + "\n" + backends6("");
            try (LbRun lb = LbRun.startWithConfig(testbed, dir, config, 3))
            {
                LbRun.sleep(3 * interval); // a few checks of every backend
                assertFalse(lb.log().contains("check down"), lb.log());
                assertSpread(requests(testbed, "c1", Testbed.VIP6, 30), testbed.serverIps6(), 30, workers);
                TcpCheckIT.assertNoHalfOpenCheckConnections(testbed);

                final String stopped = Testbed.serverIp6(2);
                final String endpoint = Testbed.hostPort(stopped, Testbed.HTTP_PORT);
                final long stoppedAt = System.nanoTime();
                testbed.stop(servers[1]);
                lb.awaitLog(Pattern.quote("backend " + endpoint + " of service web6 check down: rst"), 1, Duration.ofSeconds(10));
                final long detectMillis = (System.nanoTime() - stoppedAt) / 1_000_000;
                // fall checks one interval apart, then the timeout at most, with margin for a loaded machine.
                assertTrue(detectMillis <= interval * fall + timeout + 1500, "check down after " + detectMillis + " ms");
                final String stat = TcpCheckIT.lbctlOk(testbed, socket, "show", "stat");
                final String row = stat.lines().filter(l -> l.contains(endpoint)).findFirst().orElseThrow();
                assertTrue(row.matches(".*\\bready\\s+up\\s+down \\(rst.*"), "NDP still says up, the check says down: " + row);
                assertFalse(lb.log().contains("backend " + stopped + " down"), "NDP never lost the host");
                final Map<String, Integer> whileDown = requests(testbed, "c1", Testbed.VIP6, 30);
                assertEquals(30, whileDown.getOrDefault(Testbed.serverIp6(1), 0) + whileDown.getOrDefault(Testbed.serverIp6(3), 0),
                    "every new connection goes to the others, none fails: " + whileDown);

                final long restartedAt = System.nanoTime();
                servers[1] = TcpCheckIT.startServer(testbed, dir, 2, true);
                lb.awaitLog(Pattern.quote("backend " + endpoint + " of service web6 check up: syn-ack"), 1, Duration.ofSeconds(10));
                final long backMillis = (System.nanoTime() - restartedAt) / 1_000_000;
                assertTrue(backMillis <= interval * rise + 1500, "check up after " + backMillis + " ms");
                assertSpread(requests(testbed, "c1", Testbed.VIP6, 30), testbed.serverIps6(), 30, workers);
                assertEquals(1, Pattern.compile("check down").matcher(lb.log()).results().count(),
                    "the healthy backends never went down: " + lb.log());

                final Map<String, Long> counters = lb.stop();
                TcpCheckIT.assertEveryAnswerCounted(lb, counters, rise, fall, workers);
                // The dual-stack testbed's only drops are the hosts' own IPv6 chatter (MLD reports, solicitations
                // for other addresses): no check's answer is dropped.
                assertEquals(counters.getOrDefault("drop_ipv6_not_for_us", 0L) + counters.getOrDefault("drop_ndp_not_for_us", 0L),
                    counters.get("drops_total"), counters.toString());
                System.out.println("Ipv6IT: tcp check, workers " + workers + ": down " + detectMillis + " ms after the server stopped, up " +
                    backMillis + " ms after it started; " + TcpCheckIT.checkCounters(counters));
            }
        }
    }

    /** `lbctl add service` with check=tcp on a VIP6: every IPv6 backend added to it later is checked too. */
    @Test
    void anIpv6ServiceAddedAtRunTimeChecksEveryBackendAddedToIt()
    {
        final Path socket = dir.resolve("lb.sock");
        try (Testbed testbed = dualStack(true);
            LbRun lb = LbRun.startWithConfig(testbed, dir, BASE6 + "control-socket " + socket + "\n" + WEB6, 3))
        {
            final String vip = "2001:2::101";
            final String added = TcpCheckIT.lbctlOk(testbed, socket, "add", "service", "chk6", Testbed.hostPort(vip, 80) + "/tcp",
                "rr", "nat", "check=tcp", "check-interval=300ms", "check-timeout=300ms");
            assertTrue(added.contains("check tcp port backend interval 300ms timeout 300ms rise 2 fall 2"), added);
            final String closed = Testbed.hostPort(Testbed.serverIp6(2), 81); // nothing listens there
            TcpCheckIT.lbctlOk(testbed, socket, "add", "backend", "chk6", Testbed.serverIp6(1));
            TcpCheckIT.lbctlOk(testbed, socket, "add", "backend", "chk6", closed);
            lb.awaitLog(Pattern.quote("backend " + closed + " of service chk6 check down: rst from port 81 (first check)"), 1,
                Duration.ofSeconds(5));
            assertEquals(Map.of(Testbed.serverIp6(1), 10), requests(testbed, "c1", vip, 10), "only the backend that passes");
            final String stat = TcpCheckIT.lbctlOk(testbed, socket, "show", "stat");
            assertTrue(stat.lines().anyMatch(l -> l.startsWith("chk6 ") && l.contains(closed) && l.contains(" down (rst)")), stat);
            assertTrue(stat.lines().anyMatch(l -> l.startsWith("chk6 ") && l.contains(Testbed.hostPort(Testbed.serverIp6(1), 80)) &&
                l.matches(".*\\bup\\s+up\\b.*")), stat);
            final String metrics = TcpCheckIT.lbctlOk(testbed, socket, "show", "metrics");
            assertTrue(metrics.contains("lb_backend_check_up{service=\"chk6\",backend=\"" + closed + "\"} 0"), metrics);
            assertTrue(lb.stop().get("tcp_check_rsts") >= 1);
        }
    }

    @ParameterizedTest(name = "workers {0}")
    @ValueSource(ints = {1, 2})
    void ipv4AndIpv6ServicesServeAtOnce(final int workers)
    {
        final String config = BASE6 + "workers " + workers + "\n" + WEB4 + ECHO4 + WEB6 + ECHO6;
        // Six backends: each server once per family, each found by its own probe (ARP, NDP).
        try (Testbed testbed = dualStack(true); LbRun lb = LbRun.startWithConfig(testbed, dir, config, 6))
        {
            final CompletableFuture<Map<String, Integer>> http4 =
                CompletableFuture.supplyAsync(() -> requests(testbed, "c1", Testbed.VIP, 60));
            final CompletableFuture<Map<String, Integer>> http6 =
                CompletableFuture.supplyAsync(() -> requests(testbed, "c2", Testbed.VIP6, 60));
            final CompletableFuture<List<String[]>> udp4 = CompletableFuture.supplyAsync(() -> udp(testbed, "c3", Testbed.VIP, 30));
            final CompletableFuture<List<String[]>> udp6 = CompletableFuture.supplyAsync(() -> udp(testbed, "c3", Testbed.VIP6, 30));

            assertSpread(http4.join(), testbed.serverIps(), 60, workers);
            assertSpread(http6.join(), testbed.serverIps6(), 60, workers);
            assertSpread(udpBackends(udp4.join(), Testbed.VIP), testbed.serverIps(), 30, workers);
            assertSpread(udpBackends(udp6.join(), Testbed.VIP6), testbed.serverIps6(), 30, workers);
            assertEquals(180, lb.stop().get("flows_created"));
        }
    }

    /** Every answer from one of {@code backends}, {@code total} in all, a third each (within 2 with two workers). */
    private static void assertSpread(final Map<String, Integer> answers, final List<String> backends, final int total,
        final int workers)
    {
        assertNull(answers.get("FAIL"), answers.toString());
        assertEquals(total, LbRun.total(answers), answers.toString());
        for (final String backend : backends)
        {
            final int got = answers.getOrDefault(backend, 0);
            final int third = total / backends.size();
            assertTrue(workers == 1 ? got == third : Math.abs(got - third) <= 2, backend + " got " + got + ": " + answers);
        }
    }

    /** The backend that answered each UDP reply, counted; every reply must come from {@code vip}:53. */
    private static Map<String, Integer> udpBackends(final List<String[]> replies, final String vip)
    {
        final Map<String, Integer> perBackend = new TreeMap<>();
        for (final String[] reply : replies)
        {
            assertEquals(vip + " 53", reply[1] + " " + reply[2], "the reply comes from the VIP: " + String.join(" ", reply));
            perBackend.merge(reply[3], 1, Integer::sum);
        }
        return perBackend;
    }

    private static Testbed dualStack(final boolean offloads)
    {
        final Testbed testbed = Testbed.upDualStack(offloads, 3, "nat");
        try
        {
            testbed.startServers();
            return testbed;
        }
        catch (final RuntimeException ex)
        {
            testbed.close();
            throw ex;
        }
    }

    private static List<String> withWorkers(final List<String> args, final int workers)
    {
        final List<String> all = new ArrayList<>(args);
        all.addAll(List.of("--workers", Integer.toString(workers)));
        return all;
    }

    private static String backends6(final String portSuffix)
    {
        final StringBuilder lines = new StringBuilder();
        for (int i = 1; i <= 3; i++)
        {
            final String ip = Testbed.serverIp6(i);
            lines.append("  backend ").append(portSuffix.isEmpty() ? ip : "[" + ip + "]" + portSuffix).append('\n');
        }
        return lines.toString();
    }

    /**
     * {@code count} HTTP requests for /whoami to {@code vip} (either family) from a client, one new
     * connection each (2 s at most per request), counted by the answering backend; failures under "FAIL".
     */
    static Map<String, Integer> requests(final Testbed testbed, final String role, final String vip, final int count)
    {
        final String loop = "for i in $(seq " + count + "); do " +
            "r=$(curl -g -s --max-time 2 " + Testbed.httpUrl(vip, Testbed.HTTP_PORT, "/whoami") + ") && echo \"$r\" || echo FAIL; done";
        final Testbed.ExecResult result = testbed.exec(role, Duration.ofSeconds(10L + 3L * count), "bash", "-c", loop);
        assertTrue(!result.timedOut(), "request loop timed out: " + result);
        final Map<String, Integer> answers = new TreeMap<>();
        result.stdout().lines().map(String::trim).filter(l -> !l.isEmpty()).forEach(l -> answers.merge(l, 1, Integer::sum));
        return answers;
    }

    /**
     * {@code count} datagrams to {@code vip}:53, each from a new socket (a new flow), with
     * {@code docker/udp_ask.py}; every one must be answered. Each reply as its words: index,
     * source address, source port, then the echo: backend address, "hello", index.
     */
    static List<String[]> udp(final Testbed testbed, final String role, final String vip, final int count)
    {
        final Testbed.ExecResult result = testbed.exec(role, Duration.ofSeconds(10L + 3L * count), "/usr/bin/python3",
            testbed.repoRoot().resolve("docker/udp_ask.py").toString(), vip, "53", Integer.toString(count));
        assertTrue(result.ok(), result.toString());
        final List<String[]> replies = result.stdout().lines().map(l -> l.trim().split(" ")).toList();
        assertEquals(count, replies.size(), result.toString());
        return replies;
    }
}
