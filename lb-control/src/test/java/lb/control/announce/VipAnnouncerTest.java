package lb.control.announce;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import lb.control.config.BgpConfig;
import lb.control.config.Ipv4;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The BIRD config lb writes (checked by BIRD's own parser) and what the announcer does when BIRD
 * cannot run. Announcing to a real router is EcmpIT's job.
 */
class VipAnnouncerTest
{
    static final Path BIRD = Path.of("/usr/sbin/bird");

    @TempDir
    Path dir;

    private BgpConfig bgp(final Path bird, final boolean bfd)
    {
        return new BgpConfig(Ipv4.parse("198.18.3.11"), 65001, Ipv4.parse("198.18.3.1"), 65000, Ipv4.parse("198.18.0.11"),
            bfd, Duration.ofSeconds(3), bird, dir.resolve("run"));
    }

    @Test
    void birdAcceptsTheConfigLbWrites() throws Exception
    {
        assertTrue(Files.isExecutable(BIRD), BIRD + " missing: run docker/deps.sh (Debian's bird2)");
        for (final boolean bfd : List.of(true, false))
        {
            final String text = BirdConfig.render(bgp(BIRD, bfd),
                List.of(Ipv4.parse("198.18.0.101"), Ipv4.parse("198.18.0.100")), dir.resolve("bird.log").toString());
            final Path file = dir.resolve("bird-" + bfd + ".conf");
            Files.writeString(file, text);
            final Process parse = new ProcessBuilder(BIRD.toString(), "-p", "-c", file.toString()).redirectErrorStream(true).start();
            final String output = new String(parse.getInputStream().readAllBytes());
            assertTrue(parse.waitFor(10, TimeUnit.SECONDS));
            assertEquals(0, parse.exitValue(), "bird -p rejects:\n" + text + "\n" + output);

            // Every VIP its own static, written disabled (lb enables what it announces), in address order.
            assertTrue(text.indexOf("protocol static vip_198_18_0_100 {\n  disabled;") <
                text.indexOf("protocol static vip_198_18_0_101 {\n  disabled;"), text);
            assertTrue(text.contains("bgp_next_hop = 198.18.0.11;"), text);
            assertEquals(bfd, text.contains("bfd on;"), text);
            assertFalse(text.contains("protocol kernel"), "the blackholes never reach lb's kernel: " + text);
        }
    }

    @Test
    void aBirdThatCannotStartIsCountedAndRetriedAndCloseStillReturns() throws Exception
    {
        final List<String> log = new ArrayList<>();
        final int vip = Ipv4.parse("198.18.0.100");
        final VipAnnouncer announcer = new VipAnnouncer(bgp(dir.resolve("no-such-bird"), true), () -> Map.of(vip, true),
            line -> { synchronized (log) { log.add(line); } });
        announcer.start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (announcer.errors() < 2 && System.nanoTime() < deadline)
        {
            Thread.sleep(20);
        }
        assertTrue(announcer.errors() >= 2, "start failures counted and retried (backoff 1 s): " + announcer.errors());
        assertFalse(announcer.announced(vip));
        assertFalse(announcer.sessionEstablished());
        final long start = System.nanoTime();
        announcer.close();
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "close is bounded");
        synchronized (log)
        {
            assertTrue(log.stream().anyMatch(l -> l.contains("cannot start BIRD")), log.toString());
        }
    }
}
