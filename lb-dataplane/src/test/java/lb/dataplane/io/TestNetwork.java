package lb.dataplane.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Test network namespaces joined by veth pairs, created with {@code ip} under a unique per-run
 * prefix and deleted (exactly those) on {@link #close()}, also after a failure. Needs root and
 * iproute2: without them it fails with a message saying so, it never skips.
 */
final class TestNetwork implements AutoCloseable
{
    static final String IP = "/usr/sbin/ip";
    static final String PYTHON = "/usr/bin/python3";
    private static final long COMMAND_TIMEOUT_MS = 10_000;

    final String prefix;
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    private TestNetwork()
    {
        prefix = "lbio" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xFFFFFFL);
    }

    /**
     * @return a new, empty test network.
     * @throws IllegalStateException if not root or {@code ip} is missing (a failure, not a skip).
     */
    static TestNetwork create()
    {
        requireRootAndIp();
        return new TestNetwork();
    }

    static void requireRootAndIp()
    {
        if (0 != uid())
        {
            throw new IllegalStateException("these tests open AF_PACKET sockets in network namespaces and need " +
                "root (uid 0); running as uid " + uid());
        }
        if (!Files.isExecutable(Path.of(IP)))
        {
            throw new IllegalStateException("these tests need iproute2: " + IP + " is missing");
        }
    }

    private static int uid()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status")))
            {
                if (line.startsWith("Uid:"))
                {
                    return Integer.parseInt(line.split("\\s+")[2]);
                }
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot read /proc/self/status", ex);
        }
        throw new IllegalStateException("no Uid line in /proc/self/status");
    }

    /**
     * Create a namespace named prefix-suffix with loopback up and IPv6 off (no router solicitations
     * or DAD frames on the test links).
     */
    String namespace(final String suffix)
    {
        final String name = prefix + "-" + suffix;
        run(IP, "netns", "add", name);
        namespaces.add(name);
        exec(name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
        exec(name, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
        exec(name, IP, "link", "set", "lo", "up");
        return name;
    }

    /** Create a veth pair with fixed MACs, one end in each namespace, both up. */
    void veth(final String nsA, final String ifA, final String macA, final String nsB, final String ifB, final String macB)
    {
        run(IP, "link", "add", ifA, "address", macA, "netns", nsA, "type", "veth",
            "peer", "name", ifB, "address", macB, "netns", nsB);
        exec(nsA, IP, "link", "set", ifA, "up");
        exec(nsB, IP, "link", "set", ifB, "up");
    }

    /** Run a command inside a namespace, bounded in time; fail with its output if it fails. */
    String exec(final String ns, final String... command)
    {
        final String[] full = new String[command.length + 4];
        full[0] = IP;
        full[1] = "netns";
        full[2] = "exec";
        full[3] = ns;
        System.arraycopy(command, 0, full, 4, command.length);
        return run(full);
    }

    /** Run a command, bounded in time; fail with its output if it exits non-zero. */
    static String run(final String... command)
    {
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        final Process process;
        try
        {
            process = builder.start();
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot start " + String.join(" ", command) + ": " + ex.getMessage(), ex);
        }
        try
        {
            final byte[] output = readAll(process.getInputStream());
            if (!process.waitFor(COMMAND_TIMEOUT_MS, TimeUnit.MILLISECONDS))
            {
                process.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", command));
            }
            final String text = new String(output, StandardCharsets.UTF_8);
            if (0 != process.exitValue())
            {
                throw new IllegalStateException("failed (" + process.exitValue() + "): " +
                    String.join(" ", command) + ": " + text.trim());
            }
            return text;
        }
        catch (final InterruptedException ex)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + Arrays.toString(command), ex);
        }
    }

    private static byte[] readAll(final InputStream in)
    {
        try
        {
            final ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        }
        catch (final IOException ex)
        {
            return new byte[0];
        }
    }

    /** Start a long-running command inside a namespace; it is killed (by its own handle) on close. */
    Process start(final String ns, final String... command)
    {
        final String[] full = new String[command.length + 4];
        full[0] = IP;
        full[1] = "netns";
        full[2] = "exec";
        full[3] = ns;
        System.arraycopy(command, 0, full, 4, command.length);
        try
        {
            final Process process = new ProcessBuilder(full).start();
            processes.add(process);
            return process;
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot start " + String.join(" ", full) + ": " + ex.getMessage(), ex);
        }
    }

    /** Kill the processes this network started and delete the namespaces it created. */
    @Override
    public void close()
    {
        for (final Process process : processes)
        {
            if (process.isAlive())
            {
                process.destroyForcibly();
                try
                {
                    process.waitFor(2, TimeUnit.SECONDS);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }
        }
        processes.clear();

        IllegalStateException failure = null;
        for (final String ns : namespaces)
        {
            try
            {
                run(IP, "netns", "del", ns);
            }
            catch (final IllegalStateException ex)
            {
                failure = ex;
            }
        }
        namespaces.clear();
        if (null != failure)
        {
            throw failure;
        }
    }
}
