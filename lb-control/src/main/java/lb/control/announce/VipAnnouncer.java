package lb.control.announce;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Supplier;
import lb.control.config.BgpConfig;
import lb.control.config.Ipv4;

/**
 * Announces lb's VIPs through a BIRD that lb runs as its own child, and keeps BIRD in step with
 * what lb wants: callers say per VIP whether it should be announced ({@link #desired}), and the
 * announcer's own thread makes BIRD agree, by {@code enable}/{@code disable} of the VIP's static
 * protocol, and by rewriting the config and {@code configure} when the set of VIPs changes.
 * <p>
 * Failures never reach the caller: a BIRD that does not answer, answers with an error or dies
 * is logged, counted ({@link #errors}, {@link #birdRestarts}) and retried, BIRD restarted with a
 * backoff of up to {@link #MAX_BACKOFF_NANOS}. Forwarding does not depend on any of it.
 * <p>
 * BIRD runs under {@code setpriv --pdeathsig KILL}: when lb dies, even by SIGKILL, the kernel
 * kills its BIRD, the TCP session closes, and the router drops lb's routes within milliseconds.
 * The signal fires when the thread that started BIRD ends, so BIRD is started, and stopped, by the
 * announcer's thread only, which lives until {@link #close}.
 */
public final class VipAnnouncer implements AutoCloseable
{
    /** How often the wanted state is asked for and carried out. */
    public static final long STEP_NANOS = 50_000_000L;
    /** How often BIRD's protocol states are read back. */
    static final long POLL_NANOS = 200_000_000L;
    /** Longest wait before BIRD is started again after it died or would not start. */
    static final long MAX_BACKOFF_NANOS = 10_000_000_000L;
    /** Longest wait for one reply of BIRD's. */
    static final long REPLY_TIMEOUT_MILLIS = 2_000;
    /** Longest wait for a fresh BIRD's control socket. */
    static final long START_TIMEOUT_NANOS = 5_000_000_000L;
    /** How long {@link #close} waits for the withdrawals before stopping BIRD. */
    static final long CLOSE_WITHDRAW_NANOS = 1_000_000_000L;

    private final BgpConfig bgp;
    private final Consumer<String> log;
    private final Path configFile;
    private final Path controlSocket;
    private final Path logFile;
    private final Path outputFile;
    private final Thread thread;
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong birdRestarts = new AtomicLong();

    private final Supplier<Map<Integer, Boolean>> wanted;
    /** What was last wanted, every VIP withdrawn once closing. */
    private volatile Map<Integer, Boolean> desired;
    private volatile boolean closing;
    /** What BIRD last said: the VIPs whose static protocol is up, and the session's state. */
    private volatile Set<Integer> upStatics = Set.of();
    private volatile boolean established;

    // The announcer thread's own state.
    private Process bird;
    private BirdControl control;
    private Set<Integer> configuredVips = Set.of();
    private final Map<Integer, Boolean> applied = new HashMap<>();
    private long nextStartNanos;
    private long backoffNanos = 1_000_000_000L;
    private long nextPollNanos;
    private long lastErrorLogNanos;

    /**
     * @param bgp    the session and where BIRD's files go.
     * @param wanted every VIP lb has, and for each whether it should be announced now; asked on
     *               the announcer's thread every {@link #STEP_NANOS} (and at once after
     *               {@link #wake}), so it must be safe to call from any thread. A VIP missing from
     *               it leaves BIRD's config.
     * @param log    one line per event (never per poll).
     */
    public VipAnnouncer(final BgpConfig bgp, final Supplier<Map<Integer, Boolean>> wanted, final Consumer<String> log)
    {
        this.bgp = bgp;
        this.wanted = wanted;
        this.log = log;
        this.configFile = bgp.runDir().resolve("bird.conf");
        this.controlSocket = bgp.runDir().resolve("bird.ctl");
        this.logFile = bgp.runDir().resolve("bird.log");
        this.outputFile = bgp.runDir().resolve("bird.out");
        this.desired = Map.copyOf(wanted.get());
        this.thread = new Thread(this::run, "lb-announce");
        this.thread.setDaemon(true);
    }

    /** The config BIRD runs with for the VIPs as they are now. */
    public String configText()
    {
        return BirdConfig.render(bgp, desired.keySet(), logFile.toString());
    }


    /** Starts the announcer's thread, which starts BIRD. */
    public void start()
    {
        thread.start();
    }

    /** Asks for the wanted state again now, not at the next step (after a drain or an undrain). */
    public void wake()
    {
        LockSupport.unpark(thread);
    }

    /** @return BIRD last said the VIP's static protocol is up and the session is established. */
    public boolean announced(final int vip)
    {
        return established && upStatics.contains(vip);
    }

    /** @return BIRD last said the BGP session to the router is established. */
    public boolean sessionEstablished()
    {
        return established;
    }


    /** @return failures to talk to BIRD or to start it. */
    public long errors()
    {
        return errors.get();
    }

    /** @return times BIRD was started again after it died or would not start. */
    public long birdRestarts()
    {
        return birdRestarts.get();
    }


    /**
     * Withdraws every VIP, waits up to {@link #CLOSE_WITHDRAW_NANOS} for BIRD to confirm, then
     * stops BIRD (SIGTERM: it closes the session with a Cease, so the router forgets lb at once).
     */
    @Override
    public void close()
    {
        closing = true;
        if (!thread.isAlive())
        {
            return;
        }
        LockSupport.unpark(thread);
        try
        {
            thread.join(CLOSE_WITHDRAW_NANOS / 1_000_000L + REPLY_TIMEOUT_MILLIS + 3_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    // ---- The announcer's thread ----

    private void run()
    {
        long closeDeadline = 0;
        while (true)
        {
            final long now = System.nanoTime();
            if (closing)
            {
                if (closeDeadline == 0)
                {
                    closeDeadline = now + CLOSE_WITHDRAW_NANOS;
                }
                if (bird == null || !bird.isAlive() || allWithdrawn() || now - closeDeadline > 0)
                {
                    stopBird();
                    return;
                }
            }
            try
            {
                step(now);
            }
            catch (final IOException ex)
            {
                failed(ex.getMessage());
                disconnect();
            }
            LockSupport.parkNanos(closing ? 10_000_000L : STEP_NANOS);
        }
    }

    /** What is wanted now: every VIP withdrawn once closing; a failing supplier changes nothing. */
    private Map<Integer, Boolean> want()
    {
        Map<Integer, Boolean> want = desired;
        try
        {
            want = Map.copyOf(wanted.get());
        }
        catch (final RuntimeException ex)
        {
            failed("cannot tell what to announce: " + ex);
        }
        if (closing)
        {
            final Map<Integer, Boolean> none = new HashMap<>();
            want.keySet().forEach(vip -> none.put(vip, false));
            want = Map.copyOf(none);
        }
        desired = want;
        return want;
    }

    private boolean allWithdrawn()
    {
        for (final Map.Entry<Integer, Boolean> vip : applied.entrySet())
        {
            if (vip.getValue())
            {
                return false;
            }
        }
        return true;
    }

    private void step(final long now) throws IOException
    {
        if (bird != null && !bird.isAlive())
        {
            failed("BIRD exited with status " + bird.exitValue() + lastOutput());
            disconnect();
            bird = null;
            established = false;
            upStatics = Set.of();
            nextStartNanos = now + backoffNanos;
            backoffNanos = Math.min(MAX_BACKOFF_NANOS, backoffNanos * 2);
        }
        if (bird == null)
        {
            if (now - nextStartNanos < 0 || closing)
            {
                return;
            }
            startBird(now);
            return;
        }
        if (control == null)
        {
            control = BirdControl.connect(controlSocket, REPLY_TIMEOUT_MILLIS);
        }
        final Map<Integer, Boolean> want = want();
        if (!want.keySet().equals(configuredVips))
        {
            reconfigure(want);
        }
        for (final Map.Entry<Integer, Boolean> vip : want.entrySet())
        {
            final Boolean has = applied.get(vip.getKey());
            if (has == null || has.booleanValue() != vip.getValue())
            {
                apply(vip.getKey(), vip.getValue());
            }
        }
        if (now - nextPollNanos >= 0)
        {
            nextPollNanos = now + POLL_NANOS;
            readStates();
        }
    }

    private void startBird(final long now)
    {
        try
        {
            Files.createDirectories(bgp.runDir());
            final Map<Integer, Boolean> want = want();
            writeConfig(want);
            Files.deleteIfExists(controlSocket);
            final ProcessBuilder builder = new ProcessBuilder("setpriv", "--pdeathsig", "KILL", "--",
                bgp.bird().toString(), "-f", "-c", configFile.toString(), "-s", controlSocket.toString())
                .redirectErrorStream(true)
                .redirectOutput(outputFile.toFile());
            final boolean restart = birdRestarts.get() > 0 || errors.get() > 0;
            bird = builder.start();
            applied.clear();
            want.keySet().forEach(vip -> applied.put(vip, false));
            configuredVips = Set.copyOf(want.keySet());
            final long deadline = now + START_TIMEOUT_NANOS;
            while (control == null)
            {
                try
                {
                    control = BirdControl.connect(controlSocket, REPLY_TIMEOUT_MILLIS);
                }
                catch (final IOException ex)
                {
                    if (!bird.isAlive() || System.nanoTime() - deadline > 0)
                    {
                        throw new IOException("BIRD did not open " + controlSocket + lastOutput(), ex);
                    }
                    LockSupport.parkNanos(20_000_000L);
                }
            }
            if (restart)
            {
                birdRestarts.incrementAndGet();
            }
            backoffNanos = 1_000_000_000L;
            log.accept("announce: BIRD " + bird.pid() + " runs " + configFile + " (control socket " + controlSocket +
                "), session " + Ipv4.format(bgp.localIp()) + " AS " + bgp.localAs() + " -> " +
                Ipv4.format(bgp.neighborIp()) + " AS " + bgp.neighborAs() + ", next hop " + Ipv4.format(bgp.nextHop()));
        }
        catch (final IOException ex)
        {
            failed("cannot start BIRD: " + ex.getMessage());
            stopBird();
            nextStartNanos = now + backoffNanos;
            backoffNanos = Math.min(MAX_BACKOFF_NANOS, backoffNanos * 2);
        }
    }

    /** Writes the config by rename, so BIRD never reads half a file. */
    private void writeConfig(final Map<Integer, Boolean> want) throws IOException
    {
        final Path temp = configFile.resolveSibling(configFile.getFileName() + ".new");
        Files.writeString(temp, BirdConfig.render(bgp, want.keySet(), logFile.toString()), StandardCharsets.US_ASCII);
        Files.move(temp, configFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void reconfigure(final Map<Integer, Boolean> want) throws IOException
    {
        writeConfig(want);
        final BirdControl.Reply reply = control.command("configure");
        if (reply.failed())
        {
            throw new IOException("BIRD rejects its new config: " + reply.text());
        }
        final Set<Integer> added = new HashSet<>(want.keySet());
        added.removeAll(configuredVips);
        final Set<Integer> removed = new HashSet<>(configuredVips);
        removed.removeAll(want.keySet());
        log.accept("announce: BIRD reconfigured, VIPs added " + formatted(added) + ", removed " + formatted(removed));
        configuredVips = Set.copyOf(want.keySet());
        // Statics already there keep their state (their lines did not change); new ones start disabled.
        applied.keySet().retainAll(configuredVips);
        for (final Integer vip : added)
        {
            applied.put(vip, false);
        }
    }

    private void apply(final int vip, final boolean announce) throws IOException
    {
        final String name = BirdConfig.staticName(vip);
        final BirdControl.Reply reply = control.command((announce ? "enable " : "disable ") + name);
        if (reply.failed())
        {
            throw new IOException("BIRD: " + (announce ? "enable " : "disable ") + name + ": " + reply.text());
        }
        final Boolean before = applied.put(vip, announce);
        if (before == null || before.booleanValue() != announce)
        {
            log.accept("announce: " + Ipv4.format(vip) + (announce ? " announced" : " withdrawn"));
        }
    }

    /** Reads {@code show protocols}: which statics are up, and the session's state. */
    private void readStates() throws IOException
    {
        final BirdControl.Reply reply = control.command("show protocols");
        if (reply.failed())
        {
            throw new IOException("BIRD: show protocols: " + reply.text());
        }
        final Set<Integer> up = new HashSet<>();
        boolean sessionUp = false;
        String info = "no session";
        final Map<String, Integer> byName = new HashMap<>();
        for (final Integer vip : configuredVips)
        {
            byName.put(BirdConfig.staticName(vip), vip);
        }
        for (final String row : reply.lines())
        {
            final String[] words = row.trim().split("\\s+", 6);
            if (words.length < 4)
            {
                continue;
            }
            if (words[0].equals(BirdConfig.SESSION))
            {
                info = words.length > 5 ? words[5].trim() : words[3];
                sessionUp = words[3].equals("up") && info.startsWith("Established");
            }
            else if (words[3].equals("up") && byName.containsKey(words[0]))
            {
                up.add(byName.get(words[0]));
            }
        }
        upStatics = Set.copyOf(up);
        if (sessionUp != established)
        {
            log.accept("announce: BGP session to " + Ipv4.format(bgp.neighborIp()) + (sessionUp ? " established" : " down: " + info));
        }
        established = sessionUp;
    }

    private void stopBird()
    {
        disconnect();
        if (bird == null)
        {
            return;
        }
        bird.destroy();
        try
        {
            if (!bird.waitFor(2, TimeUnit.SECONDS))
            {
                bird.destroyForcibly().waitFor(2, TimeUnit.SECONDS);
            }
        }
        catch (final InterruptedException ex)
        {
            bird.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        established = false;
        upStatics = Set.of();
        bird = null;
    }

    private void disconnect()
    {
        if (control != null)
        {
            control.close();
            control = null;
        }
    }

    /** Counts a failure; logs it, at most once a second. */
    private void failed(final String message)
    {
        errors.incrementAndGet();
        final long now = System.nanoTime();
        if (now - lastErrorLogNanos > 1_000_000_000L || lastErrorLogNanos == 0)
        {
            lastErrorLogNanos = now;
            log.accept("announce: " + message + " (errors " + errors.get() + ", retrying)");
        }
    }

    private String lastOutput()
    {
        try
        {
            final List<String> lines = Files.readAllLines(outputFile, StandardCharsets.UTF_8);
            return lines.isEmpty() ? "" : ": " + String.join(" / ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        }
        catch (final IOException | RuntimeException ex)
        {
            return "";
        }
    }

    private static String formatted(final Set<Integer> vips)
    {
        return vips.stream().sorted(Integer::compareUnsigned).map(Ipv4::format).toList().toString();
    }

}
