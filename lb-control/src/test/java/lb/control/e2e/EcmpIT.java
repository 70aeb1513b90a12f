package lb.control.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import lb.control.testbed.Testbed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three lb instances behind one router, each announcing the VIP over BGP through its own BIRD;
 * the router spreads flows over them by ECMP on an L4 hash; three backends in dsr mode. 50 long
 * downloads run over the instances while one is killed (SIGKILL) and started again: none breaks,
 * and none stalls for much longer than the router takes to drop the dead next hop. Then every
 * backend stops answering ARP, and every instance withdraws the VIP within one probe cycle plus
 * two probe timeouts (the probe and its retry) plus BGP's propagation. Last, draining by lbctl, the death of one instance's
 * BIRD (lb starts it again, forwarding throughout) and a clean stop each withdraw that instance.
 */
class EcmpIT
{
    static final int INSTANCES = 3;
    static final int FILE_BYTES = 10 << 20;
    /** Paced by the server: each download takes about 20 s, so the kill and the restart fall in the middle of all. */
    static final int RATE = 512 << 10;
    static final Map<String, Integer> DOWNLOADS = Map.of("c1", 17, "c2", 17, "c3", 16);
    static final List<String> CLIENTS_AND_SERVERS = List.of("c1", "c2", "c3", "s1", "s2", "s3");
    static final long PROBE_INTERVAL_MS = 1_000;
    static final long PROBE_TIMEOUT_MS = 500;
    /** On top of a measured detection time or probe deadline: scheduling on 2 shared cores, polling. */
    static final long MARGIN_MS = 1_000;

    @TempDir
    Path dir;

    private String config(final int instance)
    {
        final StringBuilder servers = new StringBuilder();
        for (int s = 1; s <= 3; s++)
        {
            servers.append("  backend ").append(Testbed.serverIp(s)).append('\n');
        }
        return "client-interface " + Testbed.CLIENT_IF + "\nserver-interface " + Testbed.SERVER_IF +
            "\nclient-ip " + Testbed.lbClientIp(instance) + "\ngateway-ip " + Testbed.lbGatewayIp(instance) +
            "\ncontrol-socket " + socket(instance) + "\nserver-network " + Testbed.SERVER_NETWORK +
            "\nprobe-interval " + PROBE_INTERVAL_MS + "ms\nprobe-timeout " + PROBE_TIMEOUT_MS + "ms" +
            "\nbgp-local " + Testbed.lbMgmtIp(instance) + " " + Testbed.LB_AS +
            "\nbgp-neighbor " + Testbed.ROUTER_MGMT_IP + " " + Testbed.ROUTER_AS +
            "\nbird-dir " + dir.resolve("bird" + instance) + "\n\n" +
            "service web " + Testbed.VIP + ":" + Testbed.HTTP_PORT + "/tcp\n  scheduler maglev\n  mode dsr\n" + servers;
    }

    private Path socket(final int instance)
    {
        return dir.resolve("lb" + instance + ".sock");
    }

    private LbRun startInstance(final Testbed testbed, final int instance) throws Exception
    {
        final Path file = dir.resolve("lb" + instance + ".conf");
        Files.writeString(file, config(instance));
        return LbRun.start(testbed, "lb" + instance, dir, List.of("--config", file.toString()), 3);
    }

    /** The next hops rt's kernel has for the VIP, as lb client-ips. */
    private static List<String> nextHops(final Testbed testbed)
    {
        final List<String> hops = new ArrayList<>();
        for (final String word : testbed.routerRoutes(Testbed.VIP + "/32").split("\\s+"))
        {
            if (word.startsWith("198.18.0.") && !word.equals(Testbed.VIP))
            {
                hops.add(word);
            }
        }
        return hops;
    }

    /** Polls rt's route until the condition holds; returns the milliseconds it took, or fails after the limit. */
    private static long awaitNextHops(final Testbed testbed, final Predicate<List<String>> condition, final long startNanos,
        final Duration limit, final String what)
    {
        while (true)
        {
            final List<String> hops = nextHops(testbed);
            final long elapsed = System.nanoTime() - startNanos;
            if (condition.test(hops))
            {
                return TimeUnit.NANOSECONDS.toMillis(elapsed);
            }
            if (elapsed > limit.toNanos())
            {
                throw new AssertionError(what + ": not within " + limit + "; rt's next hops for the VIP: " + hops +
                    "\n" + testbed.birdc("show protocols").stdout());
            }
            LbRun.sleep(5);
        }
    }

    private static Predicate<List<String>> allInstances()
    {
        return hops -> hops.size() == INSTANCES;
    }

    /** {@code lbctl show info} of one instance, as its "name: value" lines. */
    private Map<String, String> info(final Testbed testbed, final int instance)
    {
        final Testbed.ExecResult result = LbRun.lbctl(testbed, socket(instance), "show", "info");
        assertTrue(result.ok(), result.toString());
        final Map<String, String> info = new TreeMap<>();
        for (final String line : result.stdout().lines().toList())
        {
            final int colon = line.indexOf(": ");
            if (colon > 0)
            {
                info.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        }
        return info;
    }

    @Test
    void killingAndRestartingAnInstanceCostsNoDownloadAndDeadPoolsAreWithdrawn() throws Exception
    {
        final byte[] content = DirectReturnIT.randomFile(dir, "slow.bin", FILE_BYTES, 13);
        final Path files = dir.resolve("files");
        final String expected = DirectReturnIT.sha256(content);
        final Path out = Files.createDirectories(dir.resolve("out"));

        try (Testbed testbed = Testbed.upEcmp(INSTANCES))
        {
            testbed.startServers(files);
            final List<LbRun> lbs = new ArrayList<>();
            try
            {
                final long startNanos = System.nanoTime();
                for (int i = 1; i <= INSTANCES; i++)
                {
                    lbs.add(startInstance(testbed, i));
                }
                final long announcedMs = awaitNextHops(testbed, allInstances(), startNanos, Duration.ofSeconds(30),
                    "every instance announced");
                for (int i = 1; i <= INSTANCES; i++)
                {
                    final Map<String, String> info = info(testbed, i);
                    assertEquals("established", info.get("bgp_session"), "instance " + i + ": " + info);
                    assertEquals("announced", info.get("vip " + Testbed.VIP), "instance " + i + ": " + info);
                }

                // 50 downloads from the three clients behind rt.
                final long resetsBefore = DirectReturnIT.resets(testbed, CLIENTS_AND_SERVERS);
                final List<Process> clients = new ArrayList<>();
                for (final Map.Entry<String, Integer> client : DOWNLOADS.entrySet())
                {
                    clients.add(testbed.start(client.getKey(), List.of("bash", "-c",
                        testbed.repoRoot().resolve("docker/testbed_fetch.py") + " --count " + client.getValue() +
                            " --timeout 90 'http://" + Testbed.VIP + "/file/slow.bin?rate=" + RATE + "' > " +
                            out.resolve(client.getKey() + ".out")), dir.resolve(client.getKey() + ".log")));
                }
                LbRun.sleep(3_000);
                final long[] flowsBefore = new long[INSTANCES + 1];
                for (int i = 1; i <= INSTANCES; i++)
                {
                    flowsBefore[i] = Long.parseLong(info(testbed, i).get("flows"));
                    assertTrue(flowsBefore[i] > 0, "ECMP gives instance " + i + " some of the 50 downloads: " +
                        Arrays.toString(flowsBefore));
                }

                // SIGKILL instance 1: its BIRD dies with it (pdeathsig), the session closes.
                final int victim = 1;
                final long killNanos = System.nanoTime();
                lbs.get(victim - 1).kill();
                final long detectionMs = awaitNextHops(testbed, hops -> !hops.contains(Testbed.lbClientIp(victim)),
                    killNanos, Duration.ofSeconds(10), "rt drops the killed instance's next hop");
                assertEquals(INSTANCES - 1, nextHops(testbed).size(), "the other instances stay announced");

                LbRun.sleep(3_000);
                final long restartNanos = System.nanoTime();
                lbs.set(victim - 1, startInstance(testbed, victim));
                final long reannouncedMs = awaitNextHops(testbed, allInstances(), restartNanos, Duration.ofSeconds(30),
                    "the restarted instance is announced again");

                for (final Process client : clients)
                {
                    assertTrue(client.waitFor(100, TimeUnit.SECONDS), "downloads finished");
                }
                long maxStallMs = 0;
                int done = 0;
                for (final String client : DOWNLOADS.keySet())
                {
                    for (final String line : Files.readAllLines(out.resolve(client + ".out")))
                    {
                        // <i> <status> <sha256> <bytes> <max gap ms> <local port>
                        final String[] f = line.trim().split("\\s+");
                        assertEquals("ok", f[1], client + " download: " + line);
                        assertEquals(expected, f[2], client + " download sha256: " + line);
                        maxStallMs = Math.max(maxStallMs, Long.parseLong(f[4]));
                        done++;
                    }
                }
                assertEquals(50, done, "every download reported");
                assertEquals(0, DirectReturnIT.resets(testbed, CLIENTS_AND_SERVERS) - resetsBefore, "TCP resets sent or received by clients and servers");
                assertTrue(maxStallMs <= detectionMs + MARGIN_MS, "longest stall " + maxStallMs + " ms, detection " +
                    detectionMs + " ms + margin " + MARGIN_MS + " ms");

                long recoveredBySurvivors = 0;
                for (int i = 2; i <= INSTANCES; i++)
                {
                    recoveredBySurvivors += Long.parseLong(info(testbed, i).get("flows_recovered"));
                }
                assertTrue(recoveredBySurvivors > 0, "the survivors took the killed instance's downloads over");
                final Map<String, String> restarted = info(testbed, victim);
                assertTrue(Long.parseLong(restarted.get("flows_recovered")) > 0,
                    "the restarted instance takes downloads again (ECMP moved some back to it): " + restarted);

                // Every backend stops answering ARP: every instance's pool is dead, the VIP goes.
                final long deadNanos = System.nanoTime();
                setServersArp(testbed, false);
                final long withdrawnMs = awaitNextHops(testbed, List::isEmpty, deadNanos,
                    Duration.ofMillis(PROBE_INTERVAL_MS + 2 * PROBE_TIMEOUT_MS + MARGIN_MS), "no healthy backend: VIP withdrawn");
                for (int i = 1; i <= INSTANCES; i++)
                {
                    assertEquals("withdrawn", info(testbed, i).get("vip " + Testbed.VIP), "instance " + i);
                }
                final long aliveNanos = System.nanoTime();
                setServersArp(testbed, true);
                final long backMs = awaitNextHops(testbed, allInstances(), aliveNanos,
                    Duration.ofMillis(PROBE_INTERVAL_MS + PROBE_TIMEOUT_MS + MARGIN_MS), "backends back: VIP announced again");

                // Drain one instance by lbctl, then put it back.
                final long drainNanos = System.nanoTime();
                assertTrue(LbRun.lbctl(testbed, socket(2), "set", "announce", "off").ok());
                final long drainMs = awaitNextHops(testbed, hops -> hops.size() == INSTANCES - 1 &&
                    !hops.contains(Testbed.lbClientIp(2)), drainNanos, Duration.ofMillis(MARGIN_MS), "drained instance withdrawn");
                assertEquals("withdrawn", info(testbed, 2).get("vip " + Testbed.VIP));
                assertTrue(LbRun.lbctl(testbed, socket(2), "set", "announce", "on").ok());
                awaitNextHops(testbed, allInstances(), System.nanoTime(), Duration.ofMillis(MARGIN_MS), "undrained instance back");

                // BIRD itself dies under instance 3: lb counts it, starts it again, forwards throughout.
                final Testbed.ExecResult bird = testbed.exec("lb3", Duration.ofSeconds(5), "pgrep", "-P",
                    Long.toString(lbs.get(2).pid()), "-x", "bird");
                assertTrue(bird.ok(), "instance 3's BIRD is its child: " + bird);
                final long birdKillNanos = System.nanoTime();
                assertTrue(testbed.exec("lb3", Duration.ofSeconds(5), "kill", "-KILL", bird.stdout().trim()).ok());
                awaitNextHops(testbed, hops -> !hops.contains(Testbed.lbClientIp(3)), birdKillNanos, Duration.ofSeconds(5),
                    "rt drops the next hop of the instance whose BIRD died");
                final Map<String, Integer> during = LbRun.requests(testbed, "c1", 60);
                final long birdBackMs = awaitNextHops(testbed, allInstances(), birdKillNanos, Duration.ofSeconds(20),
                    "lb starts BIRD again and is announced again");
                assertEquals(60, LbRun.total(during), during.toString());
                assertEquals(null, during.get("FAIL"), "requests while BIRD restarts: " + during);
                final Map<String, String> third = info(testbed, 3);
                assertTrue(Long.parseLong(third.get("bird_restarts")) >= 1, third.toString());
                assertTrue(Long.parseLong(third.get("bird_errors")) >= 1, third.toString());

                // A clean stop withdraws before lb goes.
                lbs.get(1).stop();
                assertTrue(lbs.get(1).log().matches("(?s).*lb: stopping.*announce: " + Testbed.VIP.replace(".", "\\.") +
                    " withdrawn.*"), "withdrawn at stop:\n" + lbs.get(1).log());
                assertEquals(List.of(Testbed.lbClientIp(1), Testbed.lbClientIp(3)), nextHops(testbed).stream().sorted().toList());

                System.out.println("EcmpIT: all announced " + announcedMs + " ms after start; flows per instance " +
                    Arrays.toString(flowsBefore) + "; SIGKILL -> next hop removed in " + detectionMs +
                    " ms; longest download stall " + maxStallMs + " ms; restart -> announced in " + reannouncedMs +
                    " ms; survivors recovered " + recoveredBySurvivors + ", restarted instance recovered " +
                    restarted.get("flows_recovered") + "; no healthy backend -> withdrawn in " + withdrawnMs +
                    " ms, back in " + backMs + " ms; drain -> withdrawn in " + drainMs + " ms; BIRD killed -> announced again in " +
                    birdBackMs + " ms");
            }
            finally
            {
                for (final LbRun lb : lbs)
                {
                    lb.close();
                }
            }
        }
    }

    private static void setServersArp(final Testbed testbed, final boolean on)
    {
        for (int s = 1; s <= 3; s++)
        {
            final Testbed.ExecResult result = testbed.exec("s" + s, Duration.ofSeconds(10), "ip", "link", "set", "dev", "eth0",
                "arp", on ? "on" : "off");
            assertTrue(result.ok(), result.toString());
        }
    }
}
