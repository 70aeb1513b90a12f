package lb.control.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import lb.control.testbed.Testbed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TCP health checks: a backend whose host still answers ARP but whose HTTP server is dead is
 * taken out of the service by its check, and comes back when the server does. With two workers
 * the backends' answers reach the control thread from either worker (the steering hash spreads
 * the checks' ports over both).
 */
class TcpCheckIT extends FreshTestbed
{
    private static final long INTERVAL_MS = 500;
    private static final long TIMEOUT_MS = 500;
    private static final int RISE = 2;
    private static final int FALL = 2;
    private static final String S2 = "198.18.1.12";

    @ParameterizedTest(name = "workers {0}")
    @ValueSource(ints = {1, 2})
    void aBackendWhoseServiceDiesIsOutWithinFallChecksAndBackAfterRise(final int workers) throws Exception
    {
        // Our own server processes, so one of them can be stopped while its host stays up.
        testbed.stopServers();
        final Process[] servers = new Process[3];
        for (int i = 1; i <= 3; i++)
        {
            servers[i - 1] = startServer(i);
        }
        final Path socket = dir.resolve("lb.sock");
        final String config = LbRun.baseConfig() + "workers " + workers + "\nprobe-interval 1s\nprobe-timeout 500ms\n" +
            "control-socket " + socket + "\n" +
            "service web 198.18.0.100:80/tcp\n  scheduler rr\n  check tcp\n  check-interval " + INTERVAL_MS + "ms\n" +
            "  check-timeout " + TIMEOUT_MS + "ms\n  check-rise " + RISE + "\n  check-fall " + FALL + "\n" +
            "  backend 198.18.1.11\n  backend 198.18.1.12\n  backend 198.18.1.13\n";
        try (LbRun lb = LbRun.startWithConfig(testbed, dir, config, 3))
        {
            LbRun.sleep(3 * INTERVAL_MS); // a few checks of every backend
            assertFalse(lb.log().contains("check down"), lb.log());
            assertSpreadOverAllThree(LbRun.requests(testbed, "c1", 30), workers, "all three pass their checks and serve");
            assertNoHalfOpenCheckConnections(testbed);

            final long stoppedAt = System.nanoTime();
            testbed.stop(servers[1]);
            lb.awaitLog("backend " + S2 + ":80 of service web check down: rst", 1, Duration.ofSeconds(10));
            final long detectMillis = (System.nanoTime() - stoppedAt) / 1_000_000;
            // fall checks one interval apart, then the timeout at most, with margin for a loaded machine.
            assertTrue(detectMillis <= INTERVAL_MS * FALL + TIMEOUT_MS + 1500, "check down after " + detectMillis + " ms");

            final String stat = lbctlOk(socket, "show", "stat");
            final String row = stat.lines().filter(l -> l.contains(S2 + ":80")).findFirst().orElseThrow();
            assertTrue(row.matches(".*\\bready\\s+up\\s+down \\(rst.*"), "ARP still says up, the check says down: " + row);
            assertFalse(lb.log().contains("backend " + S2 + " down"), "ARP never lost the host");
            final Map<String, Integer> whileDown = LbRun.requests(testbed, "c1", 30);
            assertEquals(30, whileDown.getOrDefault("198.18.1.11", 0) + whileDown.getOrDefault("198.18.1.13", 0),
                "every new connection goes to the others, none fails: " + whileDown);

            final long restartedAt = System.nanoTime();
            servers[1] = startServer(2);
            lb.awaitLog("backend " + S2 + ":80 of service web check up: syn-ack", 1, Duration.ofSeconds(10));
            final long backMillis = (System.nanoTime() - restartedAt) / 1_000_000;
            assertTrue(backMillis <= INTERVAL_MS * RISE + 1500, "check up after " + backMillis + " ms");
            assertSpreadOverAllThree(LbRun.requests(testbed, "c1", 30), workers, "it gets new connections again");

            final Map<String, Long> counters = lb.stop();
            assertEveryAnswerCounted(lb, counters, RISE, FALL, workers);
            assertEquals(0, counters.get("drops_total"), "no check's answer (nor anything else) dropped: " + counters);
            System.out.println("TcpCheckIT: workers " + workers + ": check down " + detectMillis + " ms after the server stopped, up " +
                backMillis + " ms after it started; " + checkCounters(counters));
        }
    }

    @Test
    void aServiceAddedAtRunTimeChecksEveryBackendAddedToIt()
    {
        final Path socket = dir.resolve("lb.sock");
        final String config = LbRun.baseConfig() + "control-socket " + socket + "\n" +
            "service web 198.18.0.100:80/tcp\n  backend 198.18.1.11\n  backend 198.18.1.12\n  backend 198.18.1.13\n";
        try (LbRun lb = LbRun.startWithConfig(testbed, dir, config, 3))
        {
            final String added = lbctlOk(socket, "add", "service", "chk", "198.18.0.101:80/tcp", "rr", "nat", "check=tcp",
                "check-interval=300ms", "check-timeout=300ms");
            assertTrue(added.contains("check tcp port backend interval 300ms timeout 300ms rise 2 fall 2"), added);
            lbctlOk(socket, "add", "backend", "chk", "198.18.1.11");
            lbctlOk(socket, "add", "backend", "chk", S2 + ":81"); // nothing listens there
            lb.awaitLog("backend " + S2 + ":81 of service chk check down: rst from port 81 \\(first check\\)", 1,
                Duration.ofSeconds(5));
            for (int i = 0; i < 10; i++)
            {
                final Testbed.ExecResult r = testbed.exec("c1", Duration.ofSeconds(5), "curl", "-s", "--max-time", "2",
                    "http://198.18.0.101/whoami");
                assertEquals("198.18.1.11", r.stdout().trim(), "only the backend that passes: " + r);
            }
            final String stat = lbctlOk(socket, "show", "stat");
            assertTrue(stat.lines().anyMatch(l -> l.matches("chk +198\\.18\\.1\\.12:81 +ready +up +down \\(rst\\) .*")), stat);
            assertTrue(stat.lines().anyMatch(l -> l.matches("chk +198\\.18\\.1\\.11:80 +ready +up +up .*")), stat);
            assertTrue(stat.lines().anyMatch(l -> l.matches("web +198\\.18\\.1\\.11:80 +\\w+ +up +- .*")),
                "no check on web: " + stat);
            final String metrics = lbctlOk(socket, "show", "metrics");
            assertTrue(metrics.contains("lb_backend_check_up{service=\"chk\",backend=\"198.18.1.12:81\"} 0"), metrics);
            assertTrue(metrics.contains("lb_backend_check_up{service=\"chk\",backend=\"198.18.1.11:80\"} 1"), metrics);
            final String info = lbctlOk(socket, "show", "info");
            assertTrue(info.lines().anyMatch(l -> l.matches("tcp_checked_backends: +2")), info);
            final Map<String, Long> counters = lb.stop();
            assertTrue(counters.get("tcp_check_rsts") >= 1, counters.toString());
        }
    }

    /**
     * Round robin over three backends: exactly a third each with one worker; with several, each
     * worker schedules its own share, so a third within one connection per worker.
     */
    private static void assertSpreadOverAllThree(final Map<String, Integer> answers, final int workers, final String what)
    {
        assertEquals(30, answers.getOrDefault("198.18.1.11", 0) + answers.getOrDefault("198.18.1.12", 0) +
            answers.getOrDefault("198.18.1.13", 0), what + ": " + answers);
        for (final String backend : List.of("198.18.1.11", "198.18.1.12", "198.18.1.13"))
        {
            assertTrue(Math.abs(answers.getOrDefault(backend, 0) - 10) <= (workers == 1 ? 0 : workers), what + ": " + answers);
        }
    }

    /** Every SYN-ACK was reset at once: no half-open check connection waits on the three backends. */
    static void assertNoHalfOpenCheckConnections(final Testbed testbed)
    {
        for (int i = 1; i <= 3; i++)
        {
            final Testbed.ExecResult halfOpen = testbed.exec("s" + i, Duration.ofSeconds(5), "ss", "-Htan", "state", "syn-recv");
            assertTrue(halfOpen.ok(), halfOpen.toString());
            assertEquals("", halfOpen.stdout().trim(), "s" + i + " holds no half-open check connection");
        }
    }

    /**
     * After a backend failed {@code fall} checks and passed {@code rise} again (beside healthy ones): every answer was
     * counted, every SYN-ACK reset, and with several workers each handed answers to control.
     */
    static void assertEveryAnswerCounted(final LbRun lb, final Map<String, Long> counters, final int rise, final int fall,
        final int workers)
    {
        assertTrue(counters.get("tcp_check_rsts") >= fall, counters.toString());
        assertTrue(counters.get("tcp_check_syn_acks") >= rise + 3, counters.toString());
        assertEquals(counters.get("tcp_check_syn_acks") + counters.get("tcp_check_stale_replies"),
            counters.get("tcp_check_resets_sent"), "every SYN-ACK answered with an RST: " + counters);
        assertTrue(counters.get("health_check_replies_to_control") >= counters.get("tcp_check_syn_acks") +
            counters.get("tcp_check_rsts"), counters.toString());
        for (int w = 0; workers > 1 && w < workers; w++)
        {
            assertTrue(lb.workerCounters().getOrDefault(w, Map.of()).getOrDefault("health_check_replies_to_control", 0L) > 0,
                "worker " + w + " handed answers to control too: " + lb.workerCounters());
        }
    }

    /** The check counters, for the line a test prints. */
    static List<String> checkCounters(final Map<String, Long> counters)
    {
        return counters.entrySet().stream()
            .filter(e -> e.getKey().startsWith("tcp_check") || e.getKey().equals("health_check_replies_to_control"))
            .map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    private Process startServer(final int i) throws IOException
    {
        return startServer(testbed, dir, i, false);
    }

    /**
     * Starts testbed_server.py in server i's namespace (also on its IPv6 address with {@code ipv6}) and waits until it
     * listens (its pidfile).
     */
    static Process startServer(final Testbed testbed, final Path dir, final int i, final boolean ipv6) throws IOException
    {
        final Path pidfile = dir.resolve("s" + i + ".pid");
        Files.deleteIfExists(pidfile);
        final List<String> command = new ArrayList<>(List.of("/usr/bin/python3",
            testbed.repoRoot().resolve("docker/testbed_server.py").toString(), "--ip", Testbed.serverIp(i),
            "--files", dir.toString(), "--pidfile", pidfile.toString()));
        if (ipv6)
        {
            command.addAll(List.of("--ip6", Testbed.serverIp6(i)));
        }
        final Process process = testbed.start("s" + i, command, dir.resolve("s" + i + ".log"));
        final long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!Files.exists(pidfile) || Files.size(pidfile) == 0)
        {
            if (System.nanoTime() - deadline > 0 || !process.isAlive())
            {
                throw new AssertionError("server s" + i + " did not start: " + Files.readString(dir.resolve("s" + i + ".log")));
            }
            LbRun.sleep(50);
        }
        return process;
    }

    static String lbctlOk(final Testbed testbed, final Path socket, final String... args)
    {
        final Testbed.ExecResult result = LbRun.lbctl(testbed, socket, args);
        if (!result.ok())
        {
            throw new UncheckedIOException(new IOException("lbctl " + String.join(" ", args) + ": " + result));
        }
        return result.stdout();
    }

    private String lbctlOk(final Path socket, final String... args)
    {
        return lbctlOk(testbed, socket, args);
    }
}
