package lb.control.health;

import lb.control.config.IpAddresses;
import lb.dataplane.io.InterfaceInfo;
import java.util.function.Consumer;

/**
 * ARP health probes, the way POX's ip_loadbalancer does them (and their IPv6 counterpart, neighbour
 * solicitations answered by advertisements, for IPv6 backends: {@link NeighborProbes} writes and
 * reads the frames, the timing here is the same for both): one probe cycle spreads the
 * backends evenly over the probe interval, and a backend whose reply is later than the timeout is
 * probed again at once, up to {@code retries} times, and marked down when the last one goes
 * unanswered too. A reply (or any ARP frame the backend sends) marks it up and tells lb its MAC, so
 * no MAC is ever configured. The retries are there because marking a backend down moves its
 * established flows: one ARP reply lost in a full RX ring under overload (a SYN flood filled it in
 * SynFloodIT) must not cost every connection on that backend.
 *
 * <p>At start every backend is probed at once, so the appliance serves within milliseconds
 * instead of waiting a cycle. Then backend {@code i} of {@code n} is probed at
 * {@code start + k * interval + i * interval / n}. Detection of a dead backend therefore takes at
 * most one interval plus {@code (1 + retries)} timeouts.
 *
 * <p>The set of addresses can change at run time ({@link #setBackends}); addresses that stay keep
 * their state, and every address that is up is announced again so a backend just added on a known
 * address is usable at once.
 *
 * <p>Runs on the control thread only; time is passed in, so tests drive it without sleeping.
 */
public final class HealthProber
{
    /** Sends one probe for the address: an ARP request, or a neighbour solicitation for an IPv6 backend. */
    @FunctionalInterface
    public interface ProbeSender
    {
        void sendProbe(int targetIp);
    }

    /** Hears about state changes (and MAC changes of a backend that is up). */
    @FunctionalInterface
    public interface Listener
    {
        void onChange(int ip, boolean up, long mac, long rttNanos);
    }

    /** Hears every answered probe's round-trip time. */
    @FunctionalInterface
    public interface RttListener
    {
        void onRtt(int ip, long rttNanos);
    }

    /** One probed address. */
    private static final class Probe
    {
        final int ip;
        boolean up;
        long mac;
        long sentAt;
        boolean awaiting;
        int retriesLeft;
        long lastRttNanos = -1;

        Probe(final int ip)
        {
            this.ip = ip;
        }
    }

    private final long intervalNanos;
    private final long timeoutNanos;
    private final int retries;
    private final ProbeSender sender;
    private final Listener listener;
    private final RttListener rttListener;
    private final Consumer<String> log;
    private Probe[] probes;
    private long cycleStart = Long.MIN_VALUE;
    private int nextIndex;

    public HealthProber(final int[] backendIps, final long intervalNanos, final long timeoutNanos, final int retries,
        final ProbeSender sender, final Listener listener, final Consumer<String> log)
    {
        this(backendIps, intervalNanos, timeoutNanos, retries, sender, listener, (ip, rtt) -> { }, log);
    }

    public HealthProber(final int[] backendIps, final long intervalNanos, final long timeoutNanos, final int retries,
        final ProbeSender sender, final Listener listener, final RttListener rttListener, final Consumer<String> log)
    {
        this.intervalNanos = intervalNanos;
        this.timeoutNanos = timeoutNanos;
        this.retries = retries;
        this.sender = sender;
        this.listener = listener;
        this.rttListener = rttListener;
        this.log = log;
        this.probes = new Probe[0];
        setBackends(backendIps, Long.MIN_VALUE);
    }

    /**
     * Probes exactly these addresses from now on. New ones are probed at once; those that stay
     * keep their state and, when up, are announced to the listener again.
     */
    public void setBackends(final int[] backendIps, final long now)
    {
        final Probe[] next = new Probe[backendIps.length];
        for (int i = 0; i < backendIps.length; i++)
        {
            Probe kept = null;
            for (final Probe p : probes)
            {
                if (p.ip == backendIps[i])
                {
                    kept = p;
                }
            }
            next[i] = kept != null ? kept : new Probe(backendIps[i]);
            if (kept == null && cycleStart != Long.MIN_VALUE)
            {
                probe(next[i], now);
            }
            else if (kept != null && kept.up)
            {
                listener.onChange(kept.ip, true, kept.mac, kept.lastRttNanos);
            }
        }
        probes = next;
        nextIndex = 0;
    }

    /** Sends the probes that are due and marks down the backends whose reply is overdue. Returns work done. */
    public int doWork(final long now)
    {
        final Probe[] probes = this.probes;
        if (cycleStart == Long.MIN_VALUE)
        {
            for (final Probe p : probes)
            {
                probe(p, now);
            }
            cycleStart = now;
            nextIndex = 0;
            return probes.length;
        }
        int work = 0;
        for (final Probe p : probes)
        {
            if (p.awaiting && now - p.sentAt > timeoutNanos)
            {
                if (p.up && p.retriesLeft > 0)
                {
                    p.retriesLeft--;
                    p.sentAt = now;
                    sender.sendProbe(p.ip);
                    work++;
                    continue;
                }
                p.awaiting = false;
                if (p.up)
                {
                    p.up = false;
                    log.accept("backend " + IpAddresses.format(p.ip) + " down: no " +
                        (IpAddresses.isIpv6(p.ip) ? "neighbour advertisement" : "ARP reply") + " within " + timeoutNanos / 1_000_000 +
                        " ms" + (retries > 0 ? ", " + (1 + retries) + " times" : ""));
                    listener.onChange(p.ip, false, 0, -1);
                }
                work++;
            }
        }
        while (probes.length > 0 && now - dueAt(nextIndex, probes.length) >= 0)
        {
            probe(probes[nextIndex], now);
            work++;
            if (++nextIndex == probes.length)
            {
                nextIndex = 0;
                cycleStart += intervalNanos;
                if (now - cycleStart > intervalNanos)
                {
                    cycleStart = now; // after a stall, start afresh instead of firing a burst
                }
            }
        }
        return work;
    }

    private long dueAt(final int index, final int count)
    {
        return cycleStart + intervalNanos + index * (intervalNanos / count);
    }

    private void probe(final Probe p, final long now)
    {
        if (!p.awaiting)
        {
            p.sentAt = now;
            p.awaiting = true;
        }
        sender.sendProbe(p.ip);
    }

    /**
     * An ARP frame (reply or request) from {@code senderIp}, or for an IPv6 backend a neighbour
     * advertisement for it or a solicitation from it ({@link NeighborProbes}): the backend is alive at that MAC.
     */
    public void onArp(final int senderIp, final long senderMac, final long now)
    {
        for (final Probe p : probes)
        {
            if (p.ip != senderIp || senderMac == 0)
            {
                continue;
            }
            long rtt = -1;
            p.retriesLeft = retries;
            if (p.awaiting)
            {
                rtt = now - p.sentAt;
                p.lastRttNanos = rtt;
                p.awaiting = false;
                rttListener.onRtt(p.ip, rtt);
            }
            if (!p.up || p.mac != senderMac)
            {
                final boolean wasUp = p.up;
                p.up = true;
                p.mac = senderMac;
                log.accept("backend " + IpAddresses.format(p.ip) + (wasUp ? " moved to " : " up at ") + InterfaceInfo.formatMac(senderMac));
                listener.onChange(p.ip, true, senderMac, rtt);
            }
        }
    }

    /** @return the MAC of an address ARP says is up, or 0 (unknown, down or not probed). */
    public long macIfUp(final int ip)
    {
        for (final Probe p : probes)
        {
            if (p.ip == ip && p.up)
            {
                return p.mac;
            }
        }
        return 0;
    }

    public int backendCount()
    {
        return probes.length;
    }

    public int ip(final int i)
    {
        return probes[i].ip;
    }

    public boolean isUp(final int i)
    {
        return probes[i].up;
    }

    public long mac(final int i)
    {
        return probes[i].mac;
    }

    /** Round-trip time of the last answered probe, or -1. */
    public long lastRttNanos(final int i)
    {
        return probes[i].lastRttNanos;
    }
}
