package lb.control.health;

import java.util.Arrays;
import lb.control.config.Ipv4;
import lb.dataplane.io.InterfaceInfo;
import java.util.function.Consumer;

/**
 * ARP health probes, the way POX's ip_loadbalancer does them: one probe cycle spreads the
 * backends evenly over the probe interval, and a backend whose reply is later than the timeout is
 * marked down. A reply (or any ARP frame the backend sends) marks it up and tells lb its MAC, so
 * no MAC is ever configured.
 *
 * <p>At start every backend is probed at once, so the appliance serves within milliseconds
 * instead of waiting a cycle. Then backend {@code i} of {@code n} is probed at
 * {@code start + k * interval + i * interval / n}. Detection of a dead backend therefore takes at
 * most one interval plus the timeout.
 *
 * <p>Runs on the control thread only; time is passed in, so tests drive it without sleeping.
 */
public final class HealthProber
{
    /** Sends one ARP request for the address. */
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

    private final int[] ips;
    private final boolean[] up;
    private final long[] mac;
    private final long[] probeSentAt;
    private final boolean[] awaiting;
    private final long[] lastRttNanos;
    private final long intervalNanos;
    private final long timeoutNanos;
    private final ProbeSender sender;
    private final Listener listener;
    private final Consumer<String> log;
    private long cycleStart = Long.MIN_VALUE;
    private int nextIndex;

    public HealthProber(final int[] backendIps, final long intervalNanos, final long timeoutNanos,
        final ProbeSender sender, final Listener listener, final Consumer<String> log)
    {
        this.ips = backendIps.clone();
        this.up = new boolean[ips.length];
        this.mac = new long[ips.length];
        this.probeSentAt = new long[ips.length];
        this.awaiting = new boolean[ips.length];
        this.lastRttNanos = new long[ips.length];
        Arrays.fill(lastRttNanos, -1);
        this.intervalNanos = intervalNanos;
        this.timeoutNanos = timeoutNanos;
        this.sender = sender;
        this.listener = listener;
        this.log = log;
    }

    /** Sends the probes that are due and marks down the backends whose reply is overdue. Returns work done. */
    public int doWork(final long now)
    {
        int work = 0;
        if (cycleStart == Long.MIN_VALUE)
        {
            for (int i = 0; i < ips.length; i++)
            {
                probe(i, now);
            }
            cycleStart = now;
            nextIndex = 0;
            return ips.length;
        }
        for (int i = 0; i < ips.length; i++)
        {
            if (awaiting[i] && now - probeSentAt[i] > timeoutNanos)
            {
                awaiting[i] = false;
                if (up[i])
                {
                    up[i] = false;
                    log.accept("backend " + Ipv4.format(ips[i]) + " down: no ARP reply within " + timeoutNanos / 1_000_000 + " ms");
                    listener.onChange(ips[i], false, 0, -1);
                }
                work++;
            }
        }
        while (ips.length > 0 && now - dueAt(nextIndex) >= 0)
        {
            probe(nextIndex, now);
            work++;
            if (++nextIndex == ips.length)
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

    private long dueAt(final int index)
    {
        return cycleStart + intervalNanos + index * (intervalNanos / ips.length);
    }

    private void probe(final int i, final long now)
    {
        if (!awaiting[i])
        {
            probeSentAt[i] = now;
            awaiting[i] = true;
        }
        sender.sendProbe(ips[i]);
    }

    /** An ARP frame (reply or request) from {@code senderIp}: the backend is alive at that MAC. */
    public void onArp(final int senderIp, final long senderMac, final long now)
    {
        for (int i = 0; i < ips.length; i++)
        {
            if (ips[i] != senderIp || senderMac == 0)
            {
                continue;
            }
            long rtt = -1;
            if (awaiting[i])
            {
                rtt = now - probeSentAt[i];
                lastRttNanos[i] = rtt;
                awaiting[i] = false;
            }
            if (!up[i] || mac[i] != senderMac)
            {
                final boolean wasUp = up[i];
                up[i] = true;
                mac[i] = senderMac;
                log.accept("backend " + Ipv4.format(ips[i]) + (wasUp ? " moved to " : " up at ") + InterfaceInfo.formatMac(senderMac));
                listener.onChange(ips[i], true, senderMac, rtt);
            }
        }
    }

    public int backendCount()
    {
        return ips.length;
    }

    public int ip(final int i)
    {
        return ips[i];
    }

    public boolean isUp(final int i)
    {
        return up[i];
    }

    public long mac(final int i)
    {
        return mac[i];
    }

    /** Round-trip time of the last answered probe, or -1. */
    public long lastRttNanos(final int i)
    {
        return lastRttNanos[i];
    }
}
