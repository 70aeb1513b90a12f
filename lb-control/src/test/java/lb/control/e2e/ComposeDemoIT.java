package lb.control.e2e;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lb.control.testbed.Testbed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The README's third command, {@code docker/compose-demo.sh}: the lb image (built here with no
 * registry, the base image cached between runs), lb's HEALTHCHECK through lbctl reports healthy,
 * and 300 requests from the client container to the VIP all succeed, spread over the three server
 * containers. Fails, never skips, when Docker cannot run: the script then exits non-zero.
 */
class ComposeDemoIT
{
    static final int REQUESTS = 300;
    static final List<String> BACKENDS = List.of("198.19.11.11", "198.19.11.12", "198.19.11.13");
    /** A first run debootstraps the base image (the whole test took 59 s here); later ones take 16-18 s. */
    static final Duration DEADLINE = Duration.ofMinutes(10);
    /** After SIGTERM, the script's trap removes the containers and networks and stops its dockerd. */
    static final Duration TEARDOWN_GRACE = Duration.ofSeconds(90);
    static final Pattern BACKEND_LINE = Pattern.compile("^backend (\\S+) (\\d+)$", Pattern.MULTILINE);

    @TempDir
    Path dir;

    @Test
    void demoThroughContainersIsHealthyAndAnswersEveryRequestFromEveryBackend() throws Exception
    {
        final Path repoRoot = Testbed.checkPreconditions();
        final Path out = dir.resolve("demo.out");
        final Path err = dir.resolve("demo.err");
        final Process demo = new ProcessBuilder("bash", repoRoot.resolve("docker/compose-demo.sh").toString(),
            "--requests", Integer.toString(REQUESTS))
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
        if (!demo.waitFor(DEADLINE.toMillis(), TimeUnit.MILLISECONDS))
        {
            demo.destroy();
            if (!demo.waitFor(TEARDOWN_GRACE.toMillis(), TimeUnit.MILLISECONDS))
            {
                demo.destroyForcibly();
            }
            fail("compose-demo.sh did not finish within " + DEADLINE + "\n" + output(out, err));
        }
        final String stdout = Files.readString(out, StandardCharsets.UTF_8);
        final String report = output(out, err);
        assertEquals(0, demo.exitValue(), "compose-demo.sh failed\n" + report);
        assertTrue(stdout.lines().anyMatch("health: lb healthy"::equals), "lb's HEALTHCHECK not healthy\n" + report);

        final Matcher line = BACKEND_LINE.matcher(stdout);
        int answered = 0;
        int backends = 0;
        while (line.find())
        {
            assertTrue(BACKENDS.contains(line.group(1)), "unknown backend " + line.group(1) + "\n" + report);
            final int requests = Integer.parseInt(line.group(2));
            assertTrue(requests > 0, "backend " + line.group(1) + " got no request\n" + report);
            answered += requests;
            backends++;
        }
        assertEquals(BACKENDS.size(), backends, "one line per backend\n" + report);
        assertEquals(REQUESTS, answered, "every request answered by a backend\n" + report);
        assertTrue(stdout.lines().anyMatch(("demo: " + REQUESTS + " requests, 0 failed")::equals), report);
    }

    private static String output(final Path out, final Path err) throws Exception
    {
        return "stdout:\n" + Files.readString(out, StandardCharsets.UTF_8) +
            "stderr:\n" + Files.readString(err, StandardCharsets.UTF_8);
    }
}
