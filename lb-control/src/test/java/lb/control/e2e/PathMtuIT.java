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
import java.util.TreeMap;
import lb.control.config.Ipv4;
import lb.control.testbed.Testbed;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import lb.dataplane.io.FanoutProgram;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Path MTU discovery through the VIP: client c3 sits behind router rt, whose link toward c3 has
 * MTU 1400 while c3's own interface keeps 1500 (so its SYN asks for MSS 1460 and the backend sends
 * 1500-byte segments, don't-fragment set as Linux does). rt answers each with ICMP fragmentation
 * needed (MTU 1400) to the VIP, their source. lb must relay it to the flow's backend, translated,
 * or the download stalls for good (a PMTU blackhole: Linux does no blackhole probing by default).
 *
 * <p>Both halves in one run: first rt's fragmentation-needed errors are dropped on their way out
 * of rt (what lb did before it relayed them), and the download stalls with the backend's route to
 * c3 still at MTU 1500; then they pass, and the download completes with the right sha256, the
 * backend's route cache says MTU 1400 (only the relayed error can have told it), and lb counted
 * the errors it relayed. With offloads on, the backend sends TSO super-frames, lb forwards them
 * as GSO frames and rt judges them by their segment size (what {@code ip_exceeds_mtu} does):
 * the same outcome, which the test checks both ways. With two workers, the download uses a client
 * port the steering sends to worker 1, so its errors must be steered by their quote to reach it.
 */
class PathMtuIT
{
    static final int FILE_BYTES = 8 << 20;
    static final String CLIENT = "c3";
    static final String ROUTER_TOWARD_CLIENT = "eth1";
    static final String DROP_FRAG_NEEDED = "OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP";

    @TempDir
    Path dir;

    @ParameterizedTest(name = "offloads {0}, {1} workers")
    @CsvSource({"true, 1", "false, 2"})
    void aDownloadThroughARouterWithASmallerMtuCompletesOnceLbRelaysFragmentationNeeded(final boolean offloads,
        final int workers) throws Exception
    {
        final String clientIp = Testbed.clientIp(CLIENT);
        try (Testbed testbed = Testbed.up(offloads, 1))
        {
            stallsThenCompletes(dir, testbed, testbed.lbArgs(), workers, clientIp,
                portOfWorker(clientIp, workers - 1, workers), "http://" + Testbed.VIP + "/file/big.bin", "iptables",
                DROP_FRAG_NEEDED);
        }
    }

    /**
     * Both halves of the test on a testbed just brought up, for either family: rt's MTU toward c3
     * lowered, the servers started with an 8 MiB file, lb started with {@code lbArgs}; with
     * {@code dropRule} in rt's {@code firewall} a download stalls, without it one from
     * {@code clientPort} completes, the backend's route to {@code clientIp} shows MTU 1400, and
     * lb counted the errors it relayed (by the last worker, which the client port is steered to).
     */
    static void stallsThenCompletes(final Path dir, final Testbed testbed, final List<String> lbArgs, final int workers,
        final String clientIp, final int clientPort, final String url, final String firewall, final String dropRule)
        throws Exception
    {
        final Path files = Files.createDirectories(dir.resolve("files"));
        final byte[] content = new byte[FILE_BYTES];
        new Random(7).nextBytes(content);
        Files.write(files.resolve("big.bin"), content);
        final String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        final int lastWorker = workers - 1;

        ok(testbed.exec("rt", Duration.ofSeconds(10), "ip", "link", "set", ROUTER_TOWARD_CLIENT, "mtu", "1400"));
        testbed.startServers(files);
        final Path socket = dir.resolve("lb.sock");
        final List<String> args = new ArrayList<>(lbArgs);
        args.addAll(List.of("--control-socket", socket.toString(), "--workers", Integer.toString(workers)));
        try (LbRun lb = LbRun.start(testbed, dir, args, 1))
        {
            // Without the errors reaching the backend: a blackhole.
            ok(testbed.exec("rt", Duration.ofSeconds(10), firewall(firewall, "-I", dropRule)));
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
            ok(testbed.exec("rt", Duration.ofSeconds(10), firewall(firewall, "-D", dropRule)));
            final Testbed.ExecResult download = testbed.exec(CLIENT, Duration.ofSeconds(60), "bash", "-c",
                "curl -g -s --max-time 45 --local-port " + clientPort + " " + url + " | sha256sum");
            ok(download);
            assertEquals(expected, download.stdout().split("\\s+")[0], "sha256 of the file through the VIP");
            final String route = backendRouteToClient(testbed, clientIp);
            assertTrue(route.contains("mtu 1400"), "the backend learned the path MTU from the relayed error: " + route);

            final Map<String, Long> live = info(testbed, socket);
            assertTrue(live.get("icmp_errors_forwarded_to_server") > 0, "show info: " + live);
            final Map<String, Long> counters = lb.stop();
            assertTrue(counters.get("icmp_errors_forwarded_to_server") > 0, counters.toString());
            if (workers > 1)
            {
                // Each worker's non-zero counters are printed at exit when there are several.
                assertTrue(lb.workerCounters().getOrDefault(lastWorker, Map.of())
                    .getOrDefault("icmp_errors_forwarded_to_server", 0L) > 0,
                    "relayed by worker " + lastWorker + ", which holds the flow: " + lb.workerCounters());
            }
            assertEquals(0L, counters.getOrDefault("drop_icmp_error_no_flow", 0L), counters.toString());
            assertEquals(0L, counters.getOrDefault("drop_icmp_error_bad_quote", 0L), counters.toString());
            assertEquals(0L, counters.getOrDefault("drop_bad_icmp_checksum", 0L) +
                counters.getOrDefault("drop_bad_icmpv6_checksum", 0L), counters.toString());
            assertNotEquals(0L, counters.get("tx_client_bytes"));
        }
    }

    /** A client port from 50000 whose flows the steering gives to {@code worker}. */
    private static int portOfWorker(final String clientIp, final int worker, final int workers)
    {
        final int ip = Ipv4.parse(clientIp);
        int port = 50_000;
        while (FanoutProgram.workerOf(ip, port, workers) != worker)
        {
            port++;
        }
        return port;
    }

    /** An iptables or ip6tables command that inserts ({@code -I}) or deletes ({@code -D}) a rule. */
    static List<String> firewall(final String tool, final String action, final String rule)
    {
        final List<String> cmd = new ArrayList<>(List.of(tool, "-w", "5", action));
        cmd.addAll(List.of(rule.split(" ")));
        return cmd;
    }

    /** The backend's route to the client, with any cached path MTU (an exception learned from ICMP or ICMPv6). */
    static String backendRouteToClient(final Testbed testbed, final String clientIp)
    {
        final Testbed.ExecResult route = testbed.exec("s1", Duration.ofSeconds(10), "ip", "route", "get", clientIp);
        ok(route);
        return route.stdout().replaceAll("\\s+", " ").trim();
    }

    static Map<String, Long> info(final Testbed testbed, final Path socket)
    {
        final Testbed.ExecResult result = LbRun.lbctl(testbed, socket, "show", "info");
        ok(result);
        final Map<String, Long> info = new TreeMap<>();
        for (final String line : result.stdout().lines().toList())
        {
            final int colon = line.indexOf(": ");
            if (colon > 0 && line.substring(colon + 2).trim().matches("\\d+"))
            {
                info.put(line.substring(0, colon).trim(), Long.parseLong(line.substring(colon + 2).trim()));
            }
        }
        return info;
    }

    static void ok(final Testbed.ExecResult result)
    {
        assertTrue(result.ok(), result.toString());
    }
}
