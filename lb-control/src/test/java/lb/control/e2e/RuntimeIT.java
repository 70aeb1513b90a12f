package lb.control.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import lb.control.socket.Json;
import lb.control.testbed.Testbed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runtime API of a running appliance, through {@code bin/lbctl} and its control socket, while
 * a bounded client loop keeps sending requests: drain, weight, add/del backend, maint, and who
 * may use the socket.
 */
class RuntimeIT extends FreshTestbed
{
    Path socketDir;
    Path socket;

    @BeforeEach
    void socketPath() throws Exception
    {
        // World-traversable, so the permission test reaches the socket's own mode.
        socketDir = Files.createDirectories(Path.of("/run/lb-it-" + UUID.randomUUID().toString().substring(0, 8)));
        Files.setPosixFilePermissions(socketDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        socket = socketDir.resolve("lb.sock");
    }

    @AfterEach
    void removeSocketDir() throws Exception
    {
        Files.deleteIfExists(socket);
        Files.deleteIfExists(socketDir);
    }

    LbRun start(final String scheduler, final int backends)
    {
        final List<String> servers = testbed.serverIps().subList(0, backends);
        return LbRun.start(testbed, dir, List.of("--client-if", Testbed.CLIENT_IF, "--server-if", Testbed.SERVER_IF,
            "--client-ip", Testbed.LB_CLIENT_IP, "--gateway-ip", Testbed.GATEWAY_IP, "--vip", Testbed.VIP + ":80/tcp",
            "--backends", String.join(",", servers), "--scheduler", scheduler, "--control-socket", socket.toString()), backends);
    }

    String ok(final String... args)
    {
        final Testbed.ExecResult r = LbRun.lbctl(testbed, socket, args);
        assertEquals(0, r.exitCode(), "lbctl " + String.join(" ", args) + ": " + r);
        return r.stdout();
    }

    /** A backend's counter from {@code show stat json}. */
    @SuppressWarnings("unchecked")
    long backendStat(final String ip, final String field)
    {
        final Map<String, Object> stat = (Map<String, Object>)Json.parse(ok("--json", "show", "stat"));
        for (final Object s : (List<Object>)stat.get("services"))
        {
            for (final Object b : (List<Object>)((Map<String, Object>)s).get("backends"))
            {
                final Map<String, Object> backend = (Map<String, Object>)b;
                if (ip.equals(backend.get("ip")))
                {
                    return ((Number)backend.get(field)).longValue();
                }
            }
        }
        throw new AssertionError("no backend " + ip + " in " + stat);
    }

    static CompletableFuture<Map<String, Integer>> load(final Testbed testbed, final int requests)
    {
        return CompletableFuture.supplyAsync(() -> LbRun.requests(testbed, "c2", requests));
    }

    @Test
    void drainUnderLoadLosesNothingAndTakesNoNewFlowsWhileOpenConnectionsComplete() throws Exception
    {
        try (LbRun lb = start("rr", 3); ConnectionHolder held = new ConnectionHolder(testbed, "c1", 3))
        {
            final Map<Integer, String> serverOf = held.serverOfPort(testbed, "c1");
            final int onS2 = serverOf.entrySet().stream().filter(e -> e.getValue().equals("198.18.1.12")).findFirst()
                .orElseThrow(() -> new AssertionError("no held connection on s2: " + serverOf)).getKey();

            final CompletableFuture<Map<String, Integer>> load = load(testbed, 150);
            LbRun.sleep(700);
            ok("set", "state", "vip0", "198.18.1.12", "drain");
            final long newFlowsAtDrain = backendStat("198.18.1.12", "new_flows");
            final Map<String, Integer> answers = load.join();

            assertEquals(150, LbRun.total(answers));
            assertNull(answers.get("FAIL"), "zero failed requests: " + answers);
            assertEquals(newFlowsAtDrain, backendStat("198.18.1.12", "new_flows"), "no new flow to the drained backend");
            assertTrue(answers.getOrDefault("198.18.1.11", 0) > 0 && answers.getOrDefault("198.18.1.13", 0) > 0, answers.toString());
            assertEquals("got " + onS2 + " 200 198.18.1.12", held.command("get " + onS2), "its open connection completes");
            assertTrue(ok("show", "stat").contains("drain"));
        }
    }

    @Test
    void setWeightChangesTheSplit()
    {
        try (LbRun lb = start("wrr", 2))
        {
            assertEquals(Map.of("198.18.1.11", 20, "198.18.1.12", 20), LbRun.requests(testbed, "c1", 40));
            ok("set", "weight", "vip0", "198.18.1.11", "3");
            final Map<String, Integer> answers = LbRun.requests(testbed, "c1", 400);
            // Smooth wrr repeats exactly every 4 picks, so 3:1 over 400 is exact; the stated
            // tolerance is +-2% of 400 for schedulers that only approach the ratio.
            assertEquals(400, LbRun.total(answers), answers.toString());
            assertTrue(Math.abs(answers.getOrDefault("198.18.1.11", 0) - 300) <= 8, answers.toString());
            assertTrue(Math.abs(answers.getOrDefault("198.18.1.12", 0) - 100) <= 8, answers.toString());
            assertEquals(3, backendStat("198.18.1.11", "weight"));
            assertBusyTimeAccounted();
        }
    }

    /** The workers' own accounting after real traffic: consistent, and not made up. */
    @SuppressWarnings("unchecked")
    void assertBusyTimeAccounted()
    {
        final Map<String, Object> info = (Map<String, Object>)Json.parse(ok("--json", "show", "info"));
        final long rx = ((Number)info.get("rx_packets")).longValue();
        final long busy = ((Number)info.get("worker_busy_ns")).longValue();
        final long kick = ((Number)info.get("worker_tx_kick_ns")).longValue();
        final long cycles = ((Number)info.get("worker_busy_cycles")).longValue();
        final long uptime = ((Number)info.get("uptime_ns")).longValue();
        assertTrue(rx > 0 && busy > 0 && kick > 0, info.toString());
        assertTrue(kick <= busy && busy < uptime, "kicks within busy time within uptime: " + info);
        assertTrue(cycles > 0 && cycles <= rx, "a busy cycle moves at least one frame: " + info);
        assertTrue(((Number)info.get("worker_sleeps")).longValue() > 0, "an idle worker sleeps (idle spin 0): " + info);
        assertEquals(Math.round(rx * 1e9 / busy), ((Number)info.get("capacity_pps")).longValue(), info.toString());
    }

    @Test
    void addedBackendGetsNewFlowsAndDeletedOneGetsNoMore()
    {
        try (LbRun lb = start("rr", 2))
        {
            final CompletableFuture<Map<String, Integer>> background = load(testbed, 200);
            LbRun.sleep(500);
            ok("add", "backend", "vip0", "198.18.1.13");
            final Map<String, Integer> withThree = LbRun.requests(testbed, "c1", 30);
            // Another client's loop shares the rotation, so this client's split is not exact.
            assertTrue(withThree.getOrDefault("198.18.1.13", 0) >= 5, "added at run time: " + withThree);

            ok("del", "backend", "vip0", "198.18.1.13");
            final Map<String, Integer> withTwo = LbRun.requests(testbed, "c1", 30);
            assertEquals(30, withTwo.getOrDefault("198.18.1.11", 0) + withTwo.getOrDefault("198.18.1.12", 0),
                "deleted: no more flows to it: " + withTwo);
            final Map<String, Integer> all = background.join();
            assertNull(all.get("FAIL"), "the continuous load never failed, not even across the delete: " + all);
            assertTrue(all.getOrDefault("198.18.1.13", 0) > 0, all.toString());
            assertTrue(!ok("show", "stat").contains("198.18.1.13"));
        }
    }

    @Test
    void maintTakesABackendOutAtOnce() throws Exception
    {
        try (LbRun lb = start("rr", 3); ConnectionHolder held = new ConnectionHolder(testbed, "c1", 3))
        {
            final Map<Integer, String> serverOf = held.serverOfPort(testbed, "c1");
            final List<Integer> s1 = new ArrayList<>();
            final List<Integer> s2 = new ArrayList<>();
            serverOf.forEach((port, ip) -> (ip.equals("198.18.1.12") ? s2 : ip.equals("198.18.1.11") ? s1 : new ArrayList<Integer>()).add(port));
            assertEquals(1, s2.size(), serverOf.toString());

            ok("set", "state", "vip0", "198.18.1.12", "maint");
            assertTrue(held.command("get " + s2.get(0)).startsWith("failed "), "maint: no traffic at all, at once");
            assertEquals("got " + s1.get(0) + " 200 198.18.1.11", held.command("get " + s1.get(0)));
            final Map<String, Integer> answers = LbRun.requests(testbed, "c2", 30);
            assertEquals(Map.of("198.18.1.11", 15, "198.18.1.13", 15), answers);
        }
    }

    @Test
    void socketIsForRootOnlyAndBadCommandsGetOneLine() throws Exception
    {
        try (LbRun lb = start("rr", 1))
        {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            assertEquals("root", Files.getOwner(socket).getName());

            final Testbed.ExecResult nobody = testbed.exec("lb", java.time.Duration.ofSeconds(30), "runuser", "-u", "nobody", "--",
                testbed.repoRoot().resolve("bin/lbctl").toString(), "-s", socket.toString(), "show", "info");
            assertEquals(3, nobody.exitCode(), "a user who may not connect: " + nobody);
            assertTrue(nobody.stderr().contains("Permission denied"), nobody.toString());

            final Testbed.ExecResult bad = LbRun.lbctl(testbed, socket, "set", "weight", "vip0", "198.18.1.11", "lots");
            assertEquals(1, bad.exitCode(), bad.toString());
            assertEquals(1, bad.stderr().trim().lines().count(), "one line: " + bad.stderr());
            assertTrue(ok("show", "info").contains("flow_capacity"));
        }
    }
}
