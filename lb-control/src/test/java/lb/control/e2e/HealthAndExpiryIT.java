package lb.control.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import lb.control.testbed.Testbed;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ARP health probes take a dead backend out and bring it back; idle flows expire. */
class HealthAndExpiryIT extends FreshTestbed
{
    @Test
    void deadBackendIsMarkedDownWithinCyclePlusTimeoutAndComesBack()
    {
        final String config = LbRun.baseConfig() + "probe-interval 1s\nprobe-timeout 500ms\n" +
            "service web 198.18.0.100:80/tcp\n  scheduler rr\n  backend 198.18.1.11\n  backend 198.18.1.12\n  backend 198.18.1.13\n";
        try (LbRun lb = LbRun.startWithConfig(testbed, dir, config, 3))
        {
            assertEquals(3, LbRun.requests(testbed, "c1", 30).size(), "all three serve at first");

            final long downAt = System.nanoTime();
            assertTrue(testbed.exec("s2", Duration.ofSeconds(5), "ip", "link", "set", "eth0", "down").ok());
            lb.awaitLog("backend 198.18.1.12 down", 1, Duration.ofSeconds(10));
            final long detectMillis = (System.nanoTime() - downAt) / 1_000_000;
            // One probe cycle (1 s) plus the reply timeout (0.5 s) twice (the probe and its one retry), with margin
            // for a loaded machine.
            assertTrue(detectMillis <= 2000 + 1500, "marked down after " + detectMillis + " ms");

            final Map<String, Integer> whileDown = LbRun.requests(testbed, "c1", 30);
            assertEquals(Map.of("198.18.1.11", 15, "198.18.1.13", 15), whileDown, "every request succeeds on the others");

            assertTrue(testbed.exec("s2", Duration.ofSeconds(5), "ip", "link", "set", "eth0", "up").ok());
            // Link down deleted the server's default route: put it back as the server's admin would.
            assertTrue(testbed.exec("s2", Duration.ofSeconds(5), "ip", "route", "replace", "default", "via", Testbed.GATEWAY_IP).ok());
            lb.awaitLog("backend 198.18.1.12 up at", 2, Duration.ofSeconds(10));
            final Map<String, Integer> afterBack = LbRun.requests(testbed, "c1", 30);
            assertEquals(Map.of("198.18.1.11", 10, "198.18.1.12", 10, "198.18.1.13", 10), afterBack, "it gets flows again");
            assertNull(afterBack.get("FAIL"));
        }
    }

    @Test
    void flowCountReturnsToZeroAfterTrafficStops()
    {
        final String config = LbRun.baseConfig() +
            "timeout tcp-syn 1s\ntimeout tcp-established 2s\ntimeout tcp-closing 1s\ntimeout udp 1s\n" +
            "service web 198.18.0.100:80/tcp\n  scheduler rr\n  backend 198.18.1.11\n  backend 198.18.1.12\n  backend 198.18.1.13\n" +
            "service echo 198.18.0.100:53/udp\n  backend 198.18.1.11:5353\n";
        try (LbRun lb = LbRun.startWithConfig(testbed, dir, config, 3))
        {
            assertEquals(20, LbRun.requests(testbed, "c1", 20).values().stream().mapToInt(Integer::intValue).sum());
            final Testbed.ExecResult udp = testbed.exec("c2", Duration.ofSeconds(10), "/usr/bin/python3", "-c",
                "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); " +
                "s.sendto(b'x', ('198.18.0.100', 53)); print(s.recvfrom(100)[0])");
            assertTrue(udp.ok(), udp.toString());
            // Closing and UDP timeouts are 1 s; one expiry pass takes about 1 s more.
            LbRun.sleep(3500);
            final Map<String, Long> counters = lb.stop();
            assertEquals(21, counters.get("flows_created"));
            assertEquals(0, counters.get("flows"), counters.toString());
            assertEquals(21, counters.get("flows_expired"), counters.toString());
        }
    }
}
