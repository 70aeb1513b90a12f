package lb.control.e2e;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lb.control.socket.Json;
import lb.control.testbed.Testbed;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every frame lb reads is accounted for, per worker, after a million fuzzed frames on real
 * sockets: lb with two workers on the dual-stack testbed, an IPv4 and an IPv6 service,
 * {@code docker/fuzz_frames.py --ipv6} injecting from a client namespace (four fifths) and from a
 * backend's namespace (one fifth) at once: frames of real flows, mutated, cut short, random bytes,
 * ARP, ICMP, VLAN-tagged, for the VIP, lb's addresses and other hosts, and a third of them IPv6 (NAT66
 * flows, extension headers, fragments, ICMPv6 echo, neighbour discovery, answers to TCP checks); plus
 * whatever the namespaces' kernels send on their own (router solicitations, MLD reports, ARP, the
 * backends' and clients' answers to what lb forwarded). Once lb's rx counters stop moving, each
 * worker's {@code rx = tx + answered + drops + to_control} holds exactly in {@code lbctl --json
 * show stat}, and again in the counters lb prints at exit; lb still serves and logged no exception.
 */
class FuzzAccountingIT extends ControlSocketTestbed
{
    static final int WORKERS = 2;
    static final int CLIENT_FRAMES = 800_000;
    static final int SERVER_FRAMES = 200_000;
    /** Generous: the injection took about INJECTION_SECONDS on this 2-core machine (see README). */
    static final Duration INJECTION_LIMIT = Duration.ofSeconds(240);
    static final Duration SETTLE_LIMIT = Duration.ofSeconds(60);
    private static final Pattern MACS = Pattern.compile("client side cli0 (\\S+) .*server side srv0 (\\S+) ");
    private static final Pattern SENT = Pattern.compile("^sent (\\d+)$", Pattern.MULTILINE);

    @Override
    Testbed bringUp()
    {
        return Testbed.upDualStack(true, 3, "nat");
    }

    @Test
    void everyFrameOfAMillionFuzzedOnesIsAccountedForInEachWorker()
    {
        final String config = Ipv6IT.BASE6 + "workers " + WORKERS + "\ncontrol-socket " + socket + "\n" + Ipv6IT.WEB4 +
            Ipv6IT.WEB6;
        // Six backends: each server once per family, found by ARP and by NDP.
        try (LbRun lb = LbRun.startWithConfig(testbed, dir, config, 6))
        {
            final Matcher macs = MACS.matcher(lb.log());
            assertTrue(macs.find(), lb.log());
            final CompletableFuture<Testbed.ExecResult> client = CompletableFuture.supplyAsync(
                () -> inject("c1", macs.group(1), "client", CLIENT_FRAMES, 1));
            final CompletableFuture<Testbed.ExecResult> server = CompletableFuture.supplyAsync(
                () -> inject("s1", macs.group(2), "server", SERVER_FRAMES, 2));
            final Testbed.ExecResult clientSide = client.join();
            final Testbed.ExecResult serverSide = server.join();
            final long sent = sent(clientSide, CLIENT_FRAMES) + sent(serverSide, SERVER_FRAMES);
            System.out.println("FuzzAccountingIT client side:\n" + clientSide.stdout() + "server side:\n" + serverSide.stdout());

            final List<Map<String, Object>> workers = settledWorkers();
            long read = 0;
            for (final Map<String, Object> w : workers)
            {
                assertEquals(0L, number(w, "unaccounted"), "rx = tx + answered + drops + to_control in " + workers);
                read += number(w, "rx_frames") + number(w, "rx_ring_overflow");
                assertTrue(number(w, "rx_frames") > 0, "worker " + w.get("worker") + " read frames: " + workers);
            }
            System.out.println("FuzzAccountingIT settled workers: " + workers);
            // Frames a queue on the way refused are lost before lb; all others were read or overflowed lb's ring.
            assertTrue(read >= sent * 9 / 10, "lb saw " + read + " of " + sent + " frames sent: " + workers);

            final Map<String, Integer> answers = LbRun.requests(testbed, "c2", 6);
            assertNull(answers.get("FAIL"), "lb serves after the fuzzing: " + answers);
            assertEquals(6, LbRun.total(answers), answers.toString());
            final Map<String, Integer> answers6 = Ipv6IT.requests(testbed, "c2", Testbed.VIP6, 6);
            assertNull(answers6.get("FAIL"), "lb serves IPv6 after the fuzzing: " + answers6);
            assertEquals(6, LbRun.total(answers6), answers6.toString());

            lb.stop();
            final Map<Integer, Map<String, Long>> perWorker = lb.workerCounters();
            assertEquals(WORKERS, perWorker.size(), perWorker.toString());
            for (final Map.Entry<Integer, Map<String, Long>> w : perWorker.entrySet())
            {
                final Map<String, Long> c = w.getValue();
                final long rx = c.getOrDefault("rx_client_frames", 0L) + c.getOrDefault("rx_server_frames", 0L);
                final long tx = c.getOrDefault("tx_client_frames", 0L) + c.getOrDefault("tx_server_frames", 0L);
                final long answered = c.getOrDefault("arp_replies", 0L) + c.getOrDefault("ndp_advertisements", 0L) +
                    c.getOrDefault("icmp_echo_replies", 0L);
                final long toControl = c.getOrDefault("arp_to_control", 0L) + c.getOrDefault("ndp_to_control", 0L) +
                    c.getOrDefault("health_check_replies_to_control", 0L);
                long drops = 0;
                for (final Map.Entry<String, Long> counter : c.entrySet())
                {
                    if (counter.getKey().startsWith("drop_") && !counter.getKey().equals("drop_rx_ring_overflow"))
                    {
                        drops += counter.getValue();
                    }
                }
                assertEquals(rx, tx + answered + drops + toControl,
                    "worker " + w.getKey() + " at exit: rx = tx + answered + drops + to control: " + c);
            }
            System.out.println("FuzzAccountingIT workers at exit: " + perWorker);
            final String log = lb.log();
            assertFalse(log.contains("Exception") || log.contains("\tat "), "lb logged an exception:\n" + log);
        }
    }

    private Testbed.ExecResult inject(final String role, final String mac, final String side, final int frames, final int seed)
    {
        return testbed.exec(role, INJECTION_LIMIT, "/usr/bin/python3", testbed.repoRoot().resolve("docker/fuzz_frames.py").toString(),
            "eth0", mac, side, Integer.toString(frames), Integer.toString(seed), "--ipv6");
    }

    private static long sent(final Testbed.ExecResult injection, final int frames)
    {
        assertTrue(injection.ok(), injection.toString());
        final Matcher m = SENT.matcher(injection.stdout());
        assertTrue(m.find(), injection.toString());
        final long sent = Long.parseLong(m.group(1));
        assertTrue(sent >= frames * 9L / 10, "sent " + sent + " of " + frames + ": " + injection);
        return sent;
    }

    /**
     * Show stat's workers once their rx counters stopped moving: two samples 300 ms apart with the
     * same rx in every worker, not counting the frames handed to control (six backends' ARP and NDP
     * answers arrive more often than lbctl can take two samples). The namespaces keep sending a frame
     * now and then, so a sample where one arrived is simply taken again.
     */
    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> settledWorkers()
    {
        final long deadline = System.nanoTime() + SETTLE_LIMIT.toNanos();
        List<Map<String, Object>> previous = workers();
        while (true)
        {
            LbRun.sleep(300);
            final List<Map<String, Object>> current = workers();
            boolean settled = current.size() == WORKERS;
            for (int i = 0; settled && i < current.size(); i++)
            {
                settled = notToControl(current.get(i)) == notToControl(previous.get(i));
            }
            if (settled)
            {
                return current;
            }
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("lb's rx counters kept moving for " + SETTLE_LIMIT + ": " + current);
            }
            previous = current;
        }
    }

    /** Frames read that did not go to the control thread: the health probes' answers do, several a second. */
    private static long notToControl(final Map<String, Object> worker)
    {
        return number(worker, "rx_frames") - number(worker, "to_control");
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> workers()
    {
        final Testbed.ExecResult r = LbRun.lbctl(testbed, socket, "--json", "show", "stat");
        assertEquals(0, r.exitCode(), r.toString());
        return (List<Map<String, Object>>)((Map<String, Object>)Json.parse(r.stdout())).get("workers");
    }

    private static long number(final Map<String, Object> json, final String key)
    {
        return ((Number)json.get(key)).longValue();
    }
}
