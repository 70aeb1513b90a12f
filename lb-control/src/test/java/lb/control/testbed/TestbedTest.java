package lb.control.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
