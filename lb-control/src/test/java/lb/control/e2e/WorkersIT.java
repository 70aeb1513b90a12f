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
import lb.control.socket.Json;
import lb.control.testbed.Testbed;
import lb.dataplane.io.CpuAffinity;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * lb with {@code --workers 2}: the fanout programs steer each connection, both directions, to one
 * worker, both workers forward, the control side's reads add up over them and its changes reach
 * both, and a big download keeps its bytes.
 */
class WorkersIT extends ControlSocketTestbed
{
    static final int WORKERS = 2;
    static final int REQUESTS = 300;
    /**
     * Round robin runs in each worker on its own: worker w's n_w connections split evenly to
     * within one per backend, so with 2 workers a backend's total is within 100 +- 1 of 300 (and
     * never further than the number of workers). The bound asserted is the worker count.
     */
    static final int RR_TOLERANCE = WORKERS;

    private List<String> args()
    {
        final List<String> args = new ArrayList<>(testbed.lbArgs());
        // Pinned the other way round from their numbers, so the test sees the mapping, not a default.
        args.addAll(List.of("--workers", Integer.toString(WORKERS), "--worker-cpus", "1,0",
            "--control-socket", socket.toString()));
        return args;
    }

    private String lbctl(final String... args)
    {
        final Testbed.ExecResult r = LbRun.lbctl(testbed, socket, args);
        assertEquals(0, r.exitCode(), "lbctl " + String.join(" ", args) + ": " + r);
        return r.stdout();
    }

    @Test
    @SuppressWarnings("unchecked")
    void connectionsSpreadOverBothWorkersAndEveryChangeReachesBoth()
    {
        try (LbRun lb = LbRun.start(testbed, dir, args(), 3))
        {
            final Map<String, String> cpus = lb.threadCpus();
            assertEquals("1", cpus.get("lb-dataplane-0"), "--worker-cpus 1,0: " + cpus);
            assertEquals("0", cpus.get("lb-dataplane-1"), "--worker-cpus 1,0: " + cpus);
            assertEquals(CpuAffinity.format(CpuAffinity.currentThreadCpus()), cpus.get("lb-control"),
                "only the workers are pinned: " + cpus);
            final Map<String, Integer> answers = LbRun.requests(testbed, "c1", REQUESTS);
            assertNull(answers.get("FAIL"), answers.toString());
            assertEquals(REQUESTS, LbRun.total(answers), answers.toString());
            for (final String server : testbed.serverIps())
            {
                final int count = answers.getOrDefault(server, 0);
                assertTrue(Math.abs(count - REQUESTS / 3) <= RR_TOLERANCE,
                    server + " got " + count + " of " + REQUESTS + ", more than " + RR_TOLERANCE + " from even: " + answers);
            }
            assertTrue(testbed.exec("c1", Duration.ofSeconds(10), "ping", "-c", "2", "-W", "2", Testbed.VIP).ok(), "ping the VIP");

            // The control socket's reads add up over the workers.
            final Map<String, Object> info = (Map<String, Object>)Json.parse(lbctl("--json", "show", "info"));
            assertEquals(2L, ((Number)info.get("workers")).longValue(), info.toString());
            final Map<String, Object> stat = (Map<String, Object>)Json.parse(lbctl("--json", "show", "stat"));
            final Map<String, Object> service = (Map<String, Object>)((List<Object>)stat.get("services")).get(0);
            assertEquals(REQUESTS, ((Number)service.get("new_flows")).longValue(), stat.toString());
            for (final Object b : (List<Object>)service.get("backends"))
            {
                final Map<String, Object> backend = (Map<String, Object>)b;
                assertEquals((long)answers.get((String)backend.get("ip")), ((Number)backend.get("new_flows")).longValue(),
                    "show stat new_flows of " + backend.get("ip"));
            }

            // A change goes to every worker: with .13 in maint no worker sends it a new connection.
            lbctl("set", "state", "vip0", testbed.serverIps().get(2), "maint");
            final Map<String, Integer> after = LbRun.requests(testbed, "c2", 40);
            assertNull(after.get("FAIL"), after.toString());
            assertNull(after.get(testbed.serverIps().get(2)), "a backend in maint got connections: " + after);
            assertEquals(40, LbRun.total(after), after.toString());

            final Map<String, Long> counters = lb.stop();
            assertEquals(REQUESTS + 40, counters.get("flows_created"), counters.toString());
            assertEquals(0, counters.getOrDefault("drop_no_flow", 0L), counters.toString());
            assertEquals(0, counters.get("drops_total"), counters.toString());

            final Map<Integer, Map<String, Long>> perWorker = lb.workerCounters();
            long created = 0;
            for (int w = 0; w < WORKERS; w++)
            {
                final Map<String, Long> c = perWorker.getOrDefault(w, Map.of());
                assertTrue(c.getOrDefault("flows_created", 0L) > 0, "worker " + w + " created no flow: " + perWorker);
                assertTrue(c.getOrDefault("tx_server_frames", 0L) > 0 && c.getOrDefault("tx_client_frames", 0L) > 0,
                    "worker " + w + " forwarded both ways: " + perWorker);
                // Both copies of each command were applied (initial health, then maint).
                assertEquals(counters.get("commands_applied") / WORKERS, c.get("commands_applied"), perWorker.toString());
                created += c.getOrDefault("flows_created", 0L);
            }
            assertEquals(REQUESTS + 40, created, perWorker.toString());
            // ARP and ICMP are steered to worker 0 only.
            assertTrue(perWorker.get(0).getOrDefault("arp_to_control", 0L) > 0, perWorker.toString());
            assertEquals(2L, perWorker.get(0).getOrDefault("icmp_echo_replies", 0L), perWorker.toString());
            for (final String name : List.of("arp_to_control", "arp_replies", "icmp_echo_replies"))
            {
                assertNull(perWorker.get(1).get(name), "worker 1 saw " + name + ": " + perWorker);
            }
        }
    }

    @Test
    void bigFileThroughTwoWorkersKeepsItsSha256() throws Exception
    {
        final Path files = Files.createDirectories(dir.resolve("files"));
        final byte[] content = new byte[IntegrityIT.FILE_BYTES];
        new Random(7).nextBytes(content);
        Files.write(files.resolve("big.bin"), content);
        final String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        testbed.stopServers();
        testbed.startServers(files);

        try (LbRun lb = LbRun.start(testbed, dir, args(), 3))
        {
            final Testbed.ExecResult download = testbed.exec("c1", Duration.ofSeconds(120), "bash", "-c",
                "curl -s --max-time 100 http://" + Testbed.VIP + "/file/big.bin | sha256sum");
            assertTrue(download.ok(), download.toString());
            assertEquals(expected, download.stdout().split("\\s+")[0], "sha256 of the file through the VIP");

            final Map<String, Long> counters = lb.stop();
            // As in IntegrityIT: a bulk sender may overflow an RX ring (counted, TCP resends); nothing else drops.
            assertEquals(counters.getOrDefault("drop_rx_ring_overflow", 0L), counters.get("drops_total"), counters.toString());
            assertTrue(counters.get("tx_client_bytes") >= IntegrityIT.FILE_BYTES, counters.toString());
            // The whole download was one flow, in one worker: that worker carried the bytes both ways.
            final Map<Integer, Map<String, Long>> perWorker = lb.workerCounters();
            final long carriers = perWorker.values().stream()
                .filter(c -> c.getOrDefault("tx_client_bytes", 0L) >= IntegrityIT.FILE_BYTES).count();
            assertEquals(1, carriers, perWorker.toString());
        }
    }
}
