package lb.control.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lb.control.testbed.Testbed;

/**
 * One lb process running in a testbed's lb namespace, for the end-to-end tests: started from the
 * packaged jar with real arguments, watched through its log, and stopped with SIGTERM, after
 * which it prints its counters, which {@link #stop()} returns.
 */
final class LbRun implements AutoCloseable
{
    private static final Pattern COUNTER = Pattern.compile("^counter (\\S+) (\\d+)$", Pattern.MULTILINE);
    private static final Pattern FLOWS = Pattern.compile("^flows (\\d+)$", Pattern.MULTILINE);
    private static final Pattern WORKER_COUNTER = Pattern.compile("^worker (\\d+) (\\S+) (\\d+)$", Pattern.MULTILINE);

    private final Testbed testbed;
    private final Path log;
    private final Process process;
    private Map<String, Long> counters;
    private final Map<Integer, Map<String, Long>> workerCounters = new TreeMap<>();

    private LbRun(final Testbed testbed, final Path log, final Process process)
    {
        this.testbed = testbed;
        this.log = log;
        this.process = process;
    }

    /** Starts lb with these arguments and waits until it runs and all {@code backends} answered its ARP probes. */
    static LbRun start(final Testbed testbed, final Path dir, final List<String> args, final int backends)
    {
        return start(testbed, "lb", dir, args, backends);
    }

    /** Starts lb in the namespace of {@code role} (such as "lb2" of the ECMP topology). */
    static LbRun start(final Testbed testbed, final String role, final Path dir, final List<String> args, final int backends)
    {
        try
        {
            Files.createDirectories(dir);
            final Path log = Files.createTempFile(dir, "lb-", ".log");
            final List<String> full = new ArrayList<>(args);
            if (!full.contains("--control-socket") && !full.contains("--config"))
            {
                // Not the default /run/lb/lb.sock: another lb on this machine (another test run) may hold it.
                final String name = log.getFileName().toString();
                full.addAll(List.of("--control-socket", dir.resolve(name.substring(0, name.length() - 4) + ".sock").toString()));
            }
            final LbRun run = new LbRun(testbed, log, testbed.start(role, testbed.lbCommand(full), log));
            run.awaitLog("lb: running: ", 1, Duration.ofSeconds(20)); // logged once the control socket is up
            run.awaitLog("backend .* up at", backends, Duration.ofSeconds(20));
            return run;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * What the kernel says about lb's threads: thread name (comm) to its Cpus_allowed_list.
     *
     * @return by thread name; threads of the same name keep the last one read.
     */
    Map<String, String> threadCpus()
    {
        final Map<String, String> cpus = new java.util.TreeMap<>();
        final Path tasks = Path.of("/proc", Long.toString(process.pid()), "task");
        try (java.util.stream.Stream<Path> list = Files.list(tasks))
        {
            for (final Path task : (Iterable<Path>)list::iterator)
            {
                try
                {
                    final String name = Files.readString(task.resolve("comm")).trim();
                    for (final String line : Files.readAllLines(task.resolve("status")))
                    {
                        if (line.startsWith("Cpus_allowed_list:"))
                        {
                            cpus.put(name, line.substring("Cpus_allowed_list:".length()).trim());
                        }
                    }
                }
                catch (final IOException ex)
                {
                    // the thread ended while being read
                }
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return cpus;
    }

    /** Writes a config file and starts lb with it. */
    static LbRun startWithConfig(final Testbed testbed, final Path dir, final String config, final int backends)
    {
        try
        {
            Files.createDirectories(dir);
            final Path file = Files.createTempFile(dir, "lb-", ".conf");
            // Not the default /run/lb/lb.sock, as with flags: another lb on this machine may hold it.
            final String name = file.getFileName().toString();
            Files.writeString(file, config.contains("control-socket ") ? config :
                "control-socket " + dir.resolve(name.substring(0, name.length() - 5) + ".sock") + "\n" + config);
            return start(testbed, dir, List.of("--config", file.toString()), backends);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** The testbed's standard interfaces and addresses, as config-file lines. */
    static String baseConfig()
    {
        return "client-interface cli0\nserver-interface srv0\nclient-ip " + Testbed.LB_CLIENT_IP +
            "\ngateway-ip " + Testbed.GATEWAY_IP + "\n";
    }

    String log()
    {
        try
        {
            return Files.readString(log);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** Waits until {@code count} log lines match {@code regex}; fails with the log when lb exits or time runs out. */
    void awaitLog(final String regex, final int count, final Duration timeout)
    {
        final Pattern pattern = Pattern.compile(regex);
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (true)
        {
            final String text = log();
            final long found = text.lines().filter(l -> pattern.matcher(l).find()).count();
            if (found >= count)
            {
                return;
            }
            if (!process.isAlive())
            {
                throw new AssertionError("lb exited (" + process.exitValue() + ") before '" + regex + "' x" + count + ":\n" + text);
            }
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("no '" + regex + "' x" + count + " within " + timeout + ":\n" + text);
            }
            sleep(50);
        }
    }

    /** Stops lb (SIGTERM) and returns the counters it printed. */
    Map<String, Long> stop()
    {
        if (counters == null)
        {
            final int exit = testbed.stop(process);
            final String text = log();
            // SIGTERM ends a JVM with status 143 even after a clean shutdown; anything else is a failure.
            if (exit != 0 && exit != 143)
            {
                throw new AssertionError("lb exited with " + exit + ":\n" + text);
            }
            counters = new TreeMap<>();
            final Matcher m = COUNTER.matcher(text);
            while (m.find())
            {
                counters.put(m.group(1), Long.parseLong(m.group(2)));
            }
            final Matcher w = WORKER_COUNTER.matcher(text);
            while (w.find())
            {
                workerCounters.computeIfAbsent(Integer.parseInt(w.group(1)), k -> new TreeMap<>())
                    .put(w.group(2), Long.parseLong(w.group(3)));
            }
            final Matcher f = FLOWS.matcher(text);
            if (f.find())
            {
                counters.put("flows", Long.parseLong(f.group(1)));
            }
        }
        return counters;
    }

    long pid()
    {
        return process.pid();
    }

    /** SIGKILL, as a crash: lb gets no chance to withdraw anything or print its counters. */
    void kill() throws InterruptedException
    {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS))
        {
            throw new AssertionError("lb " + process.pid() + " survived SIGKILL for 10 s");
        }
        testbed.stop(process);
        counters = Map.of();
    }

    /**
     * The non-zero counters of each worker, printed at exit when lb ran several workers (a counter
     * missing from a worker's map was zero); call after {@link #stop()}.
     */
    Map<Integer, Map<String, Long>> workerCounters()
    {
        if (counters == null)
        {
            throw new IllegalStateException("stop() first");
        }
        return workerCounters;
    }

    @Override
    public void close()
    {
        if (counters == null && process.isAlive())
        {
            testbed.stop(process);
        }
    }

    /**
     * Runs {@code count} HTTP requests for /whoami to the VIP from a client namespace, one new
     * connection each (bounded: 2 s per request), and counts the answers by backend; failures
     * count under "FAIL".
     */
    static Map<String, Integer> requests(final Testbed testbed, final String role, final int count)
    {
        final String loop = "for i in $(seq " + count + "); do " +
            "r=$(curl -s --max-time 2 http://" + Testbed.VIP + "/whoami) && echo \"$r\" || echo FAIL; done";
        final Testbed.ExecResult result = testbed.exec(role, Duration.ofSeconds(10L + 3L * count), "bash", "-c", loop);
        if (result.timedOut())
        {
            throw new AssertionError("request loop timed out: " + result);
        }
        final Map<String, Integer> answers = new TreeMap<>();
        result.stdout().lines().map(String::trim).filter(l -> !l.isEmpty()).forEach(l -> answers.merge(l, 1, Integer::sum));
        return answers;
    }

    /** Runs {@code bin/lbctl} against a control socket (unix sockets are files: no namespace needed). */
    static Testbed.ExecResult lbctl(final Testbed testbed, final Path socket, final String... args)
    {
        final List<String> cmd = new ArrayList<>(List.of(testbed.repoRoot().resolve("bin/lbctl").toString(), "-s", socket.toString()));
        cmd.addAll(List.of(args));
        try
        {
            final Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            final java.util.concurrent.CompletableFuture<String> err =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
            final String out = read(p.getInputStream());
            if (!p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS))
            {
                p.destroyForcibly();
                return new Testbed.ExecResult(-1, out, err.join(), true);
            }
            return new Testbed.ExecResult(p.exitValue(), out, err.join(), false);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new AssertionError(ex);
        }
    }

    private static String read(final java.io.InputStream in)
    {
        try
        {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    static int total(final Map<String, Integer> answers)
    {
        return answers.values().stream().mapToInt(Integer::intValue).sum();
    }

    static List<String> args(final String... more)
    {
        return new ArrayList<>(List.of(more));
    }

    static void sleep(final long millis)
    {
        try
        {
            Thread.sleep(millis);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", ex);
        }
    }
}
