package lb.control.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import lb.control.testbed.Testbed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPv6 in IPv6 end to end (mode ipip for an IPv6 service, issue 13), on the dual-stack testbed in mode
 * ipip: the servers hold the VIP6s locally, unwrap lb's tunnel in user space ({@code docker/ipip_decap.py},
 * the kernel has no ip6_tunnel) and answer the clients directly through the router. Round robin spreads
 * exactly, a UDP datagram comes back from the VIP6, a 64 MiB download keeps its sha256, a service added by lbctl
 * serves too (and refuses lb's own address as a backend), and a client whose
 * full-size packets would not fit the tunnel hears packet too big from lb, lowers its path MTU and
 * completes an upload.
 */
class Ipip6IT
{
    /** The echo's own port: the tunnel delivers the client's packet unchanged, so the service port is the server's. */
    static final int ECHO_PORT = Testbed.UDP_ECHO_PORT;
    static final String TUN6 = "service tun6 " + Ipv6IT.VIP6_HTTP + "/tcp\n  mode ipip\n  scheduler rr\n" + backends6();
    static final String ECHO_TUN6 = "service echo6 " + Testbed.hostPort(Testbed.VIP6, ECHO_PORT) + "/udp\n  mode ipip\n" +
        "  scheduler rr\n" + backends6();
    static final int UPLOAD_BYTES = 8 << 20;
    static final Path STATE_DIR = Path.of("/run/lb-testbed");
    /** The second VIP6, for the service lbctl adds. */
    static final String VIP6B = "2001:2::101";

    @TempDir
    Path dir;

    /**
     * Offloads on: through the tunnel go the requests and the client's ACKs only (the download comes back
     * directly), none of which a sender's GSO makes into super-frames, so nothing meets TUNNEL_GSO.
     */
    @Test
    void roundRobinThroughTheIpv6TunnelSpreadsExactlyUdpComesBackAndA64MibDownloadKeepsItsSha256() throws Exception
    {
        final Path files = Files.createDirectories(dir.resolve("files"));
        final String expected = IntegrityIT.writeBigFile(files);
        try (Testbed testbed = Testbed.upDualStack(true, 3, "ipip"))
        {
            testbed.startServers(files);
            final Path socket = dir.resolve("lb6.sock");
            try (LbRun lb = LbRun.startWithConfig(testbed, dir, "control-socket " + socket + "\n" + Ipv6IT.BASE6 + TUN6 +
                ECHO_TUN6, 3))
            {
                final Map<String, Integer> answers = Ipv6IT.requests(testbed, "c1", Testbed.VIP6, 300);
                assertNull(answers.get("FAIL"), answers.toString());
                for (final String backend : testbed.serverIps6())
                {
                    assertEquals(100, answers.getOrDefault(backend, 0), "round robin over three: " + answers);
                }

                final Map<String, Integer> echoes = new TreeMap<>();
                for (final String[] reply : udp(testbed, "c3", 6))
                {
                    assertEquals(Testbed.VIP6 + " " + ECHO_PORT, reply[1] + " " + reply[2],
                        "the reply comes from the VIP6, directly: " + String.join(" ", reply));
                    assertEquals("hello " + reply[0], reply[4] + " " + reply[5], "the datagram comes back whole");
                    echoes.merge(reply[3], 1, Integer::sum);
                }
                assertEquals(Map.of(Testbed.serverIp6(1), 2, Testbed.serverIp6(2), 2, Testbed.serverIp6(3), 2), echoes);

                final Testbed.ExecResult download = testbed.exec("c2", Duration.ofSeconds(120), "bash", "-c",
                    "curl -g -s --max-time 100 " + Testbed.httpUrl(Testbed.VIP6, Testbed.HTTP_PORT, "/file/big.bin") +
                    " | sha256sum");
                assertTrue(download.ok(), download.toString());
                assertEquals(expected, download.stdout().split("\\s+")[0], "sha256 of 64 MiB through the IPv6 tunnel");

                // The same at run time through lbctl: an ipip service on the next VIP6, refused at lb's own address.
                lbctlOk(testbed, socket, "add", "service", "tun6b", Testbed.hostPort(VIP6B, Testbed.HTTP_PORT) + "/tcp", "rr",
                    "ipip");
                final Testbed.ExecResult own = LbRun.lbctl(testbed, socket, "add", "backend", "tun6b", Testbed.GATEWAY_IP6);
                assertTrue(own.exitCode() != 0 && (own.stdout() + own.stderr()).contains(
                    "backend " + Testbed.GATEWAY_IP6 + " is lb's own address, the gateway-ip6"), own.toString());
                for (final String backend : testbed.serverIps6())
                {
                    lbctlOk(testbed, socket, "add", "backend", "tun6b", backend);
                }
                final Map<String, Integer> added = Ipv6IT.requests(testbed, "c1", VIP6B, 30);
                for (final String backend : testbed.serverIps6())
                {
                    assertEquals(10, added.getOrDefault(backend, 0), "the service added by lbctl: " + added);
                }

                final Map<String, Long> counters = lb.stop();
                assertEquals(337L, counters.get("flows_created"), counters.toString());
                assertEquals(0L, counters.get("tx_client_frames"), "replies go around lb: " + counters);
                assertTrue(counters.get("tx_server_bytes") < IntegrityIT.FILE_BYTES / 4, "the file did not cross lb: " + counters);
                assertEquals(0L, counters.getOrDefault("drop_tunnel_gso", 0L), counters.toString());
                assertEquals(0L, counters.getOrDefault("drop_tunnel_too_big", 0L), counters.toString());
            }
            // Each server unwrapped its third of the requests (and more: ACKs, the echoes); the decapsulator writes its
            // final counters when it stops.
            testbed.stopServers();
            for (int i = 1; i <= 3; i++)
            {
                final Map<String, Long> decap = decapCounters(testbed, i);
                assertTrue(decap.get("decapsulated6") >= 100 + 2, "s" + i + ": " + decap);
                assertEquals(decap.get("received6"), decap.get("decapsulated6"), "nothing refused: s" + i + " " + decap);
                assertEquals(0L, decap.get("received"), "no IPv4 tunnel packet: s" + i + " " + decap);
            }
        }
    }

    /**
     * The client c1 sends full-size segments (1500-byte IPv6 packets: the server's SYN-ACK says MSS 1440), which with
     * the 40-byte outer header exceed the server side's MTU 1500: lb answers packet too big with MTU 1460, c1's kernel
     * caches that path MTU for the VIP6 and TCP resends smaller segments, so the upload arrives whole. Offloads off:
     * with TSO and GSO on, c1 would hand lb 64 KiB super-frames, which lb does not segment for a tunnel
     * (drop_tunnel_gso, as for IPv4) and which therefore get no packet too big.
     */
    @Test
    void aClientsFullSizePacketsGetPacketTooBigAndItsUploadCompletesAtTheLowerPathMtu() throws Exception
    {
        final byte[] upload = DirectReturnIT.randomFile(dir, "upload.bin", UPLOAD_BYTES, 13);
        final Path file = dir.resolve("files").resolve("upload.bin");
        try (Testbed testbed = Testbed.upDualStack(false, 3, "ipip"))
        {
            testbed.startServers();
            try (LbRun lb = LbRun.startWithConfig(testbed, dir, Ipv6IT.BASE6 + TUN6, 3))
            {
                final Testbed.ExecResult before = testbed.exec("c1", Duration.ofSeconds(10), "ip", "-6", "route", "get",
                    Testbed.VIP6);
                assertTrue(before.ok() && !before.stdout().contains("mtu"), "no path MTU known yet: " + before);

                final Testbed.ExecResult post = testbed.exec("c1", Duration.ofSeconds(90), "curl", "-g", "-s", "--max-time",
                    "60", "--data-binary", "@" + file, "-H", "Content-Type: application/octet-stream",
                    Testbed.httpUrl(Testbed.VIP6, Testbed.HTTP_PORT, "/sink"));
                assertTrue(post.ok(), post.toString());
                assertEquals(DirectReturnIT.sha256(upload) + " " + UPLOAD_BYTES, post.stdout().strip(),
                    "the server got the upload whole");

                final Testbed.ExecResult after = testbed.exec("c1", Duration.ofSeconds(10), "ip", "-6", "route", "get",
                    Testbed.VIP6);
                assertTrue(after.stdout().contains("mtu 1460"), "c1 learned the tunnel's MTU from lb: " + after);

                final Map<String, Long> counters = lb.stop();
                assertTrue(counters.getOrDefault("icmp6_packet_too_big_sent", 0L) >= 1, counters.toString());
                assertTrue(counters.getOrDefault("drop_tunnel_too_big", 0L) >= 1, counters.toString());
                assertEquals(0L, counters.getOrDefault("drop_tunnel_gso", 0L), counters.toString());
                assertTrue(counters.get("tx_server_bytes") > UPLOAD_BYTES, "the upload went through the tunnel: " + counters);
            }
        }
    }

    private static void lbctlOk(final Testbed testbed, final Path socket, final String... args)
    {
        final Testbed.ExecResult result = LbRun.lbctl(testbed, socket, args);
        assertTrue(result.ok(), String.join(" ", args) + ": " + result);
    }

    private static String backends6()
    {
        final StringBuilder lines = new StringBuilder();
        for (int i = 1; i <= 3; i++)
        {
            lines.append("  backend ").append(Testbed.serverIp6(i)).append('\n');
        }
        return lines.toString();
    }

    /** As {@link Ipv6IT#udp}, to the echo's own port on the VIP6 (a tunnel cannot map ports). */
    private static List<String[]> udp(final Testbed testbed, final String role, final int count)
    {
        final Testbed.ExecResult result = testbed.exec(role, Duration.ofSeconds(10L + 3L * count), "/usr/bin/python3",
            testbed.repoRoot().resolve("docker/udp_ask.py").toString(), Testbed.VIP6, Integer.toString(ECHO_PORT),
            Integer.toString(count));
        assertTrue(result.ok(), result.toString());
        final List<String[]> replies = new ArrayList<>(result.stdout().lines().map(l -> l.trim().split(" ")).toList());
        assertEquals(count, replies.size(), result.toString());
        return replies;
    }

    /** The decapsulator's counters in server {@code n}, from the stats file it rewrites. */
    private static Map<String, Long> decapCounters(final Testbed testbed, final int n) throws Exception
    {
        final Map<String, Long> counters = new TreeMap<>();
        for (final String line : Files.readAllLines(STATE_DIR.resolve(testbed.prefix() + ".s" + n + ".decap.stats")))
        {
            final String[] words = line.split(" ");
            counters.put(words[0], Long.parseLong(words[1]));
        }
        return counters;
    }
}
