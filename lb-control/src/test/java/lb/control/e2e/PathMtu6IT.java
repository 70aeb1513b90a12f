package lb.control.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import lb.control.config.Ipv6Address;
import lb.control.testbed.Testbed;
import lb.dataplane.io.FanoutProgram;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static lb.control.e2e.PathMtuIT.backendRouteToClient;
import static lb.control.e2e.PathMtuIT.firewall;
import static lb.control.e2e.PathMtuIT.info;
import static lb.control.e2e.PathMtuIT.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
 */
class PathMtu6IT
{
    static final int FILE_BYTES = 8 << 20;
    static final String CLIENT = "c3";
    static final String ROUTER_TOWARD_CLIENT = "eth1";
    static final String DROP_PACKET_TOO_BIG = "OUTPUT -p icmpv6 --icmpv6-type packet-too-big -j DROP";

    @TempDir
    Path dir;

    @ParameterizedTest(name = "offloads {0}, {1} workers")
    @CsvSource({"true, 1", "false, 2"})
    void aDownloadThroughARouterWithASmallerMtuCompletesOnceLbRelaysPacketTooBig(final boolean offloads, final int workers)
        throws Exception
    {
        final Path files = Files.createDirectories(dir.resolve("files"));
        final byte[] content = new byte[FILE_BYTES];
        new Random(7).nextBytes(content);
        Files.write(files.resolve("big.bin"), content);
        final String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        final String clientIp = Testbed.clientIp6(CLIENT);
        final String url = Testbed.httpUrl(Testbed.VIP6, Testbed.HTTP_PORT, "/file/big.bin");
        final int lastWorker = workers - 1;
        final int clientPort = portOfWorker(clientIp, lastWorker, workers);

        try (Testbed testbed = Testbed.upDualStack(offloads, 1, "nat"))
        {
            ok(testbed.exec("rt", Duration.ofSeconds(10), "ip", "link", "set", ROUTER_TOWARD_CLIENT, "mtu", "1400"));
            testbed.startServers(files);
            final Path socket = dir.resolve("lb.sock");
            final List<String> args = new ArrayList<>(testbed.lbArgs6());
            args.addAll(List.of("--control-socket", socket.toString(), "--workers", Integer.toString(workers)));
            try (LbRun lb = LbRun.start(testbed, dir, args, 1))
            {
                // Without the errors reaching the backend: a blackhole.
                ok(testbed.exec("rt", Duration.ofSeconds(10), firewall("ip6tables", "-I", DROP_PACKET_TOO_BIG)));
                final Testbed.ExecResult stalled = testbed.exec(CLIENT, Duration.ofSeconds(30), "bash", "-c",
                    "curl -g -s --max-time 6 --local-port " + (clientPort + 1) + " -o /dev/null -w '%{size_download}' " + url +
                    "; echo \" exit $?\"");
                ok(stalled);
                assertTrue(stalled.stdout().trim().endsWith("exit 28"), "curl timed out: " + stalled);
                assertTrue(Long.parseLong(stalled.stdout().trim().split("\\s+")[0]) < FILE_BYTES / 2,
                    "little of the file arrived without path MTU discovery: " + stalled);
                assertFalse(backendRouteToClient(testbed, clientIp).contains("mtu 1400"),
                    "the backend never heard of the smaller MTU: " + backendRouteToClient(testbed, clientIp));
                assertEquals(0, info(testbed, socket).get("icmp_errors_forwarded_to_server"), "nothing reached lb to relay");

                // The errors reach lb again: it relays them, the backend lowers its path MTU, the download completes.
                ok(testbed.exec("rt", Duration.ofSeconds(10), firewall("ip6tables", "-D", DROP_PACKET_TOO_BIG)));
                final Testbed.ExecResult download = testbed.exec(CLIENT, Duration.ofSeconds(60), "bash", "-c",
                    "curl -g -s --max-time 45 --local-port " + clientPort + " " + url + " | sha256sum");
                ok(download);
                assertEquals(expected, download.stdout().split("\\s+")[0], "sha256 of the file through the VIP6");
                final String route = backendRouteToClient(testbed, clientIp);
                assertTrue(route.contains("mtu 1400"), "the backend learned the path MTU from the relayed error: " + route);

                final Map<String, Long> live = info(testbed, socket);
                assertTrue(live.get("icmp_errors_forwarded_to_server") > 0, "show info: " + live);
                final Map<String, Long> counters = lb.stop();
                assertTrue(counters.get("icmp_errors_forwarded_to_server") > 0, counters.toString());
                if (workers > 1)
                {
                    assertTrue(lb.workerCounters().getOrDefault(lastWorker, Map.of())
                        .getOrDefault("icmp_errors_forwarded_to_server", 0L) > 0,
                        "relayed by worker " + lastWorker + ", which holds the flow: " + lb.workerCounters());
                }
                assertEquals(0L, counters.getOrDefault("drop_icmp_error_no_flow", 0L), counters.toString());
                assertEquals(0L, counters.getOrDefault("drop_icmp_error_bad_quote", 0L), counters.toString());
                assertEquals(0L, counters.getOrDefault("drop_bad_icmpv6_checksum", 0L), counters.toString());
                assertNotEquals(0L, counters.get("tx_client_bytes"));
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
