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
import java.util.concurrent.TimeUnit;
import lb.control.testbed.Testbed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one-way modes end to end: in {@code dsr} and {@code ipip} the backends hold the VIP and
 * answer the clients directly through the router, so lb sends nothing toward the clients; and a
 * restart of lb in the middle of 20 downloads through a Maglev DSR service costs none of them.
 */
class DirectReturnIT
{
    static final int FILE_BYTES = 64 << 20;
    static final int SLOW_FILE_BYTES = 12 << 20;
    static final int DOWNLOADS = 20;

    @TempDir
    Path dir;

    static List<String> lbArgs(final Testbed testbed, final String mode)
    {
        final List<String> args = new ArrayList<>(testbed.lbArgs());
        final int scheduler = args.indexOf("--scheduler");
        args.set(scheduler + 1, "maglev");
        args.addAll(List.of("--mode", mode, "--server-network", "198.18.1.0/24"));
        return args;
    }

    static String sha256(final byte[] content) throws Exception
    {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    }

    /** A counter from the namespace's /proc/net/snmp "Tcp:" lines, e.g. OutRsts or EstabResets. */
    static long tcpCounter(final Testbed testbed, final String role, final String name)
    {
        final Testbed.ExecResult snmp = testbed.exec(role, Duration.ofSeconds(10), "cat", "/proc/net/snmp");
        assertTrue(snmp.ok(), snmp.toString());
        final List<String> tcp = snmp.stdout().lines().filter(l -> l.startsWith("Tcp:")).toList();
        final List<String> names = List.of(tcp.get(0).split("\\s+"));
        return Long.parseLong(tcp.get(1).split("\\s+")[names.indexOf(name)]);
    }

    /** TCP resets sent or received by the clients and the servers. */
    static long resets(final Testbed testbed)
    {
        return resets(testbed, List.of("c1", "c2", "s1", "s2", "s3"));
    }

    /** TCP resets sent or received in these roles' namespaces. */
    static long resets(final Testbed testbed, final List<String> roles)
    {
        long total = 0;
        for (final String role : roles)
        {
            total += tcpCounter(testbed, role, "OutRsts") + tcpCounter(testbed, role, "EstabResets");
        }
        return total;
    }

    /** Writes {@code bytes} random bytes (from the seed) to {@code dir/files/name}; returns them. */
    static byte[] randomFile(final Path dir, final String name, final int bytes, final long seed) throws Exception
    {
        final Path files = Files.createDirectories(dir.resolve("files"));
        final byte[] content = new byte[bytes];
        new Random(seed).nextBytes(content);
        Files.write(files.resolve(name), content);
        return content;
    }

    @ParameterizedTest(name = "mode {0}")
    @ValueSource(strings = {"dsr", "ipip"})
    void repliesBypassLbAndEveryBackendServes(final String mode) throws Exception
    {
        final byte[] content = randomFile(dir, "big.bin", FILE_BYTES, 9);
        final Path files = dir.resolve("files");

        try (Testbed testbed = Testbed.up(true, 3, mode))
        {
            testbed.startServers(files);
            try (LbRun lb = LbRun.start(testbed, dir, lbArgs(testbed, mode), 3))
            {
                // c1 on the client LAN, c3 behind the router.
                final Map<String, Integer> answers = merge(LbRun.requests(testbed, "c1", 150), LbRun.requests(testbed, "c3", 150));
                assertEquals(300, LbRun.total(answers), answers.toString());
                assertEquals(null, answers.get("FAIL"), answers.toString());
                for (final String server : testbed.serverIps())
                {
                    assertTrue(answers.getOrDefault(server, 0) > 30, "Maglev spreads: " + answers);
                }

                final Testbed.ExecResult download = testbed.exec("c2", Duration.ofSeconds(120), "bash", "-c",
                    "curl -s --max-time 100 http://" + Testbed.VIP + "/file/big.bin | sha256sum");
                assertTrue(download.ok(), download.toString());
                assertEquals(sha256(content), download.stdout().split("\\s+")[0], "sha256 of 64 MiB through " + mode);

                final Map<String, Long> counters = lb.stop();
                assertEquals(0L, counters.get("tx_client_frames"), "lb sends nothing toward the clients: " + counters);
                // The client's ACKs of the download went through lb. With offloads on (TSO at the
                // server, GRO-less veths all the way), the client gets the file in GSO super-frames of
                // up to 64 KiB and ACKs about one or two of them at a time: count at least one ACK per
                // two such super-frames on top of the 300 requests' >= 5 frames each, not bytes.
                assertTrue(counters.get("tx_server_frames") > 300 * 5 + FILE_BYTES / (2 * 65536),
                    "client ACKs went through lb: " + counters);
                assertTrue(counters.get("tx_server_bytes") < FILE_BYTES / 4, "the file did not: " + counters);
                // The one kind of drop here: rt now delivers the backends' replies to c1 and c2
                // itself, so it broadcasts ARP requests for them on the client LAN, and lb counts
                // each foreign ARP request it sees as drop_not_for_us (2 in every run: c1 and c2).
                assertEquals(counters.getOrDefault("drop_not_for_us", 0L), counters.get("drops_total"), counters.toString());
                assertTrue(counters.getOrDefault("drop_not_for_us", 0L) <= 4, counters.toString());
            }
        }
    }

    private static Map<String, Integer> merge(final Map<String, Integer> a, final Map<String, Integer> b)
    {
        final Map<String, Integer> sum = new TreeMap<>(a);
        b.forEach((k, v) -> sum.merge(k, v, Integer::sum));
        return sum;
    }

    @Test
    void aRestartInTheMiddleOfTwentyDownloadsCostsNoneOfThem() throws Exception
    {
        final byte[] content = randomFile(dir, "slow.bin", SLOW_FILE_BYTES, 11);
        final Path files = dir.resolve("files");
        final Path out = Files.createDirectories(dir.resolve("out"));

        try (Testbed testbed = Testbed.up(true, 3, "dsr"))
        {
            testbed.startServers(files);
            final long resetsBefore = resets(testbed);
            final List<Process> clients = new ArrayList<>();
            final LbRun first = LbRun.start(testbed, dir, lbArgs(testbed, "dsr"), 3);
            Map<String, Long> before;
            try (first)
            {
                // 1 MiB/s each, paced by the server: about 12 s per download, so lb restarts in the
                // middle of all of them. (Not curl's --limit-rate: it paces only curl's reads, and
                // the client's receive buffer took a whole 12 MiB download within 4 s at times.)
                for (final String role : List.of("c1", "c2"))
                {
                    final String script = "for i in $(seq " + DOWNLOADS / 2 + "); do (curl -s --max-time 80 " +
                        "'http://" + Testbed.VIP + "/file/slow.bin?rate=1048576' | sha256sum > " + out + "/" + role + "-$i.sum; " +
                        "echo ${PIPESTATUS[0]} > " + out + "/" + role + "-$i.rc) & done; wait";
                    clients.add(testbed.start(role, List.of("bash", "-c", script), dir.resolve(role + ".log")));
                }
                LbRun.sleep(4_000);
                before = first.stop();
            }
            assertTrue(before.get("flows_created") >= DOWNLOADS, "the downloads started through lb: " + before);
            LbRun.sleep(1_000);
            try (LbRun second = LbRun.start(testbed, dir, lbArgs(testbed, "dsr"), 3))
            {
                for (final Process client : clients)
                {
                    assertTrue(client.waitFor(90, TimeUnit.SECONDS), "downloads finished");
                }
                final Map<String, Long> after = second.stop();
                final String expected = sha256(content);
                for (final String role : List.of("c1", "c2"))
                {
                    for (int i = 1; i <= DOWNLOADS / 2; i++)
                    {
                        assertEquals("0", Files.readString(out.resolve(role + "-" + i + ".rc")).trim(), role + " download " + i);
                        assertEquals(expected, Files.readString(out.resolve(role + "-" + i + ".sum")).split("\\s+")[0],
                            role + " download " + i);
                    }
                }
                assertTrue(after.get("flows_recovered") >= DOWNLOADS,
                    "the restarted lb took every download over without a SYN: " + after);
                assertEquals(0, resets(testbed) - resetsBefore, "TCP resets sent or received by clients and servers");
            }
        }
    }
}
