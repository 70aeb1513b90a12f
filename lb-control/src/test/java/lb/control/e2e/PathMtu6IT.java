package lb.control.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import lb.control.config.Ipv6Address;
import lb.control.testbed.Testbed;
import lb.dataplane.io.FanoutProgram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Path MTU discovery through the VIP6, the IPv6 twin of {@link PathMtuIT} on the dual-stack
 * testbed: c3 (2001:2:0:2::11) sits behind rt, whose link toward c3 has MTU 1400 while c3 keeps
 * 1500 (its SYN asks for MSS 1440), so the backend's full-size segments do not fit there. IPv6
 * routers never fragment: rt answers each with ICMPv6 packet too big (MTU 1400) to the VIP6, their
 * source. lb must relay it to the flow's backend, NAT66-translated, or the download stalls.
 *
 * <p>Both halves in one run, as in PathMtuIT: with rt's packet-too-big errors dropped on their way
 * out of rt the download stalls and the backend's route to c3 keeps no MTU; with them reaching lb it
 * completes with the right sha256, the backend's route says {@code mtu 1400}, and lb counted what
 * it relayed. Offloads on with one worker, off with two (the download's client port steered to
 * worker 1, so its errors must be steered by their quote to reach it).
 *
 * <p>And lb's own ICMPv6 error: a SYN from c3 with hop limit 2 (rt takes one) reaches lb with 1, and
 * c3 hears time exceeded from lb's client-ip6, as from any router on the path; with hop limit 3 the
 * same connection is made.
 */
class PathMtu6IT
{
    static final String DROP_PACKET_TOO_BIG = "OUTPUT -p icmpv6 --icmpv6-type packet-too-big -j DROP";

    @TempDir
    Path dir;

    @ParameterizedTest(name = "offloads {0}, {1} workers")
    @CsvSource({"true, 1", "false, 2"})
    void aDownloadThroughARouterWithASmallerMtuCompletesOnceLbRelaysPacketTooBig(final boolean offloads, final int workers)
        throws Exception
    {
        final String clientIp = Testbed.clientIp6(PathMtuIT.CLIENT);
        try (Testbed testbed = Testbed.upDualStack(offloads, 1, "nat"))
        {
            PathMtuIT.stallsThenCompletes(dir, testbed, testbed.lbArgs6(), workers, clientIp,
                portOfWorker(clientIp, workers - 1, workers), Testbed.httpUrl(Testbed.VIP6, Testbed.HTTP_PORT, "/file/big.bin"),
                "ip6tables", DROP_PACKET_TOO_BIG);
        }
    }

    /**
     * c3 connects to the VIP6 with the given hop limit while a raw ICMPv6 socket listens: prints
     * "connected" (within 3 s), or "error SOURCE TYPE CODE" for the first ICMPv6 error within 5 s after, or "nothing".
     */
    static final String CONNECT_WITH_HOP_LIMIT = String.join("\n",
        "import socket, sys, time",
        "hops = int(sys.argv[1])",
        "raw = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)",
        "raw.settimeout(0.2)",
        "tcp = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)",
        "tcp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hops)",
        "tcp.settimeout(3)",
        "end = time.time() + 5",
        "try:",
        "    tcp.connect(('" + Testbed.VIP6 + "', " + Testbed.HTTP_PORT + "))",
        "    print('connected'); sys.exit(0)",
        "except OSError:",
        "    pass",
        "while time.time() < end:",
        "    try:",
        "        data, source = raw.recvfrom(2048)",
        "    except socket.timeout:",
        "        continue",
        "    if data[0] < 128:",
        "        print('error', source[0], data[0], data[1]); sys.exit(0)",
        "print('nothing')");

    @Test
    void aHopLimitThatRunsOutAtLbIsAnsweredWithTimeExceededFromClientIp6()
    {
        try (Testbed testbed = Testbed.upDualStack(false, 1, "nat"))
        {
            testbed.startServers();
            try (LbRun lb = LbRun.start(testbed, dir, testbed.lbArgs6(), 1))
            {
                final Testbed.ExecResult expired = testbed.exec(PathMtuIT.CLIENT, Duration.ofSeconds(20), "/usr/bin/python3",
                    "-c", CONNECT_WITH_HOP_LIMIT, "2");
                assertTrue(expired.ok(), expired.toString());
                assertEquals("error " + Testbed.LB_CLIENT_IP6 + " 3 0", expired.stdout().strip(),
                    "time exceeded (3), hop limit exceeded in transit (0), from lb's client-ip6: " + expired);

                final Testbed.ExecResult reached = testbed.exec(PathMtuIT.CLIENT, Duration.ofSeconds(20), "/usr/bin/python3",
                    "-c", CONNECT_WITH_HOP_LIMIT, "3");
                assertTrue(reached.ok(), reached.toString());
                assertEquals("connected", reached.stdout().strip(), "one more hop reaches the backend: " + reached);

                final Map<String, Long> counters = lb.stop();
                assertTrue(counters.getOrDefault("icmp_time_exceeded_sent", 0L) > 0, counters.toString());
                assertTrue(counters.getOrDefault("drop_hop_limit_exceeded", 0L) > 0, counters.toString());
            }
        }
    }

    /** A client port from 50000 whose IPv6 flows the steering gives to {@code worker}. */
    private static int portOfWorker(final String clientIp, final int worker, final int workers)
    {
        final Ipv6Address ip = Ipv6Address.parse(clientIp);
        int port = 50_000;
        while (FanoutProgram.workerOf6(ip.high(), ip.low(), port, workers) != worker)
        {
            port++;
        }
        return port;
    }
}
