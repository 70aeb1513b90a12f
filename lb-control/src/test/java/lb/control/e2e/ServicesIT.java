package lb.control.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lb.control.testbed.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A UDP service, ping to the VIP, frames for no service, and malformed frames while serving. */
class ServicesIT
{
    static final String CONFIG = LbRun.baseConfig() +
        "service web 198.18.0.100:80/tcp\n  scheduler rr\n  backend 198.18.1.11\n  backend 198.18.1.12\n  backend 198.18.1.13\n" +
        "service echo 198.18.0.100:53/udp\n  scheduler rr\n  backend 198.18.1.11:5353\n  backend 198.18.1.12:5353\n  backend 198.18.1.13:5353\n";

    static Testbed testbed;

    @TempDir
    Path dir;

    @BeforeAll
    static void up()
    {
        testbed = Testbed.up(true, 3);
        testbed.startServers();
    }

    @AfterAll
    static void down()
    {
        if (testbed != null)
        {
            testbed.close();
        }
    }

    @Test
    void udpRequestAndReplyThroughTheVip()
    {
        try (LbRun lb = LbRun.startWithConfig(testbed, dir, CONFIG, 3))
        {
            final Map<String, Integer> perBackend = new HashMap<>();
            for (int i = 0; i < 6; i++)
            {
                // Each client socket is a new source port: a new UDP flow.
                final Testbed.ExecResult r = testbed.exec("c1", Duration.ofSeconds(10), "/usr/bin/python3", "-c",
                    "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); " +
                    "s.sendto(b'hello " + i + "', ('198.18.0.100', 53)); d, a = s.recvfrom(2048); print(a[0], a[1], d.decode())");
                assertTrue(r.ok(), r.toString());
                final String[] words = r.stdout().trim().split(" ");
                assertEquals("198.18.0.100", words[0], "reply comes from the VIP");
                assertEquals("53", words[1], "and from the service port");
                assertEquals("hello", words[3]);
                assertEquals(String.valueOf(i), words[4]);
                perBackend.merge(words[2], 1, Integer::sum);
            }
            assertEquals(Map.of("198.18.1.11", 2, "198.18.1.12", 2, "198.18.1.13", 2), perBackend);
            final Map<String, Long> counters = lb.stop();
            assertEquals(6, counters.get("flows_created"));
        }
    }

    @Test
    void pingToTheVipIsAnsweredAndAFrameForNoServiceIsCounted()
    {
        try (LbRun lb = LbRun.startWithConfig(testbed, dir, CONFIG, 3))
        {
            final Testbed.ExecResult ping = testbed.exec("c3", Duration.ofSeconds(10), "ping", "-n", "-c", "3", "-W", "2", Testbed.VIP);
            assertTrue(ping.ok(), ping.toString());
            assertTrue(ping.stdout().contains("3 received"), ping.stdout());
            final Testbed.ExecResult noService = testbed.exec("c1", Duration.ofSeconds(10), "curl", "-s", "--max-time", "1",
                "http://" + Testbed.VIP + ":81/");
            assertFalse(noService.ok(), "nothing listens on VIP:81");
            final Map<String, Long> counters = lb.stop();
            assertEquals(3, counters.get("icmp_echo_replies"));
            assertTrue(counters.getOrDefault("drop_no_service", 0L) >= 1, counters.toString());
            assertEquals(counters.get("drop_no_service"), counters.get("drops_total"), counters.toString());
        }
    }

    @Test
    void malformedFramesAreCountedByReasonWhileRequestsGoOn()
    {
        try (LbRun lb = LbRun.startWithConfig(testbed, dir, CONFIG, 3))
        {
            final Matcher mac = Pattern.compile("client side cli0 (\\S+)").matcher(lb.log());
            assertTrue(mac.find(), lb.log());
            final CompletableFuture<Map<String, Integer>> load = CompletableFuture.supplyAsync(() -> LbRun.requests(testbed, "c2", 150));
            final int perKind = 200;
            final Testbed.ExecResult inject = testbed.exec("c1", Duration.ofSeconds(30), "/usr/bin/python3",
                testbed.repoRoot().resolve("docker/inject_frames.py").toString(), "eth0", mac.group(1), String.valueOf(perKind));
            assertTrue(inject.ok(), inject.toString());
            final Map<String, Integer> answers = load.join();
            assertEquals(150, LbRun.total(answers));
            assertEquals(null, answers.get("FAIL"), answers.toString());

            final Map<String, Long> counters = lb.stop();
            final String[] lines = inject.stdout().trim().split("\n");
            assertEquals(7, lines.length, inject.stdout());
            for (final String line : lines)
            {
                final String[] kv = line.split(" ");
                assertEquals(perKind, Integer.parseInt(kv[1]), "injector sent " + line);
                assertEquals((long)perKind, counters.get("drop_" + kv[0]), kv[0] + " in " + counters);
            }
            assertEquals(7L * perKind, counters.get("drops_total"), counters.toString());
        }
    }
}
