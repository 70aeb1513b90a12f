package lb.control.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import lb.control.testbed.Testbed;

/**
 * Long-lived TCP connections to the VIP from a client namespace ({@code docker/tcp_hold.py}),
 * for the tests of least connections, drain and maint. The script ends itself after a bounded
 * time; {@link #close()} ends it at once, by PID.
 */
final class ConnectionHolder implements AutoCloseable
{
    private final Process process;
    private final BufferedReader out;
    private final Writer in;
    final List<Integer> ports = new ArrayList<>();

    ConnectionHolder(final Testbed testbed, final String role, final int count)
    {
        this(testbed, role, Testbed.VIP, count);
    }

    /** Connections to port 80 of {@code host}. */
    ConnectionHolder(final Testbed testbed, final String role, final String host, final int count)
    {
        try
        {
            process = new ProcessBuilder("ip", "netns", "exec", testbed.ns(role), "/usr/bin/python3",
                testbed.repoRoot().resolve("docker/tcp_hold.py").toString(), host, "80", String.valueOf(count), "60")
                .redirectErrorStream(true).start();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            for (int i = 0; i < count; i++)
            {
                final String line = out.readLine();
                if (line == null || !line.startsWith("open "))
                {
                    throw new AssertionError("holder: " + line);
                }
                ports.add(Integer.parseInt(line.substring(5)));
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** Which server holds each connection, from the servers' own sockets. */
    Map<Integer, String> serverOfPort(final Testbed testbed, final String clientRole)
    {
        final Map<Integer, String> serverOf = new HashMap<>();
        for (int s = 1; s <= testbed.servers(); s++)
        {
            final String ss = testbed.exec("s" + s, Duration.ofSeconds(5), "ss", "-Htn", "state", "established",
                "( sport = :80 )").stdout();
            for (final int port : ports)
            {
                if (java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(Testbed.clientIp(clientRole) + ":" + port) + "(\\s|$)",
                    java.util.regex.Pattern.MULTILINE).matcher(ss).find())
                {
                    serverOf.put(port, Testbed.serverIp(s));
                }
            }
        }
        return serverOf;
    }

    /** Sends a command and returns the holder's one-line answer. */
    String command(final String command)
    {
        try
        {
            in.write(command + "\n");
            in.flush();
            final String line = out.readLine();
            if (line == null)
            {
                throw new AssertionError("holder ended before answering '" + command + "'");
            }
            return line;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    @Override
    public void close() throws InterruptedException
    {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
        }
    }
}
