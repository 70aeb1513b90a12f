package lb.dataplane.pipeline;

import lb.dataplane.packet.DropReason;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

/**
 * The counters of one dataplane worker, allocated in an Agrona {@link CountersManager} so the
 * control side can read them at any time without stopping the worker (Aeron's model). The worker
 * is the only writer and bumps them with release stores: no locks, no allocation.
 */
public final class DataplaneCounters
{
    /** Counter type ids, so readers can tell the kinds apart by type instead of parsing labels. */
    public static final int TYPE_TRAFFIC = 1;
    public static final int TYPE_DROP = 2;
    public static final int TYPE_FLOW = 3;
    /** How the worker spends its time: busy nanoseconds, batches, sleeps. */
    public static final int TYPE_WORK = 4;

    public final AtomicCounter rxClientFrames;
    public final AtomicCounter rxClientBytes;
    public final AtomicCounter rxServerFrames;
    public final AtomicCounter rxServerBytes;
    public final AtomicCounter txClientFrames;
    public final AtomicCounter txClientBytes;
    public final AtomicCounter txServerFrames;
    public final AtomicCounter txServerBytes;
    /** ARP requests from the client side for lb's addresses, answered (the request ends here). */
    public final AtomicCounter arpReplies;
    /**
     * ARP requests from the server side for the gateway address, answered. The request itself is
     * counted in {@link #arpToControl} (the control thread learns the sender's MAC from it), so a
     * reply here is a frame lb adds, like its ICMP errors, not one more place a frame went.
     */
    public final AtomicCounter gatewayArpReplies;
    /** Gateway ARP replies (and IPv6 advertisements) the server-side TX ring refused (the request still reached the control thread). */
    public final AtomicCounter gatewayRepliesRefused;
    public final AtomicCounter arpToControl;
    /** Neighbour solicitations from the client side for lb's IPv6 addresses, answered (the ARP replies' counterpart). */
    public final AtomicCounter ndpAdvertisements;
    /** Advertisements for the IPv6 gateway address; the solicitation is counted in {@link #ndpToControl}, as ARP. */
    public final AtomicCounter gatewayNdpAdvertisements;
    /** Server-side neighbour advertisements (and solicitations for the gateway) handed to the control thread. */
    public final AtomicCounter ndpToControl;
    /** Backends' SYN-ACKs and RSTs to lb's TCP health checks, handed to the control thread (the frame ends here). */
    public final AtomicCounter healthCheckRepliesToControl;
    public final AtomicCounter icmpEchoReplies;
    public final AtomicCounter flowsCreated;
    public final AtomicCounter flowsExpired;
    public final AtomicCounter flowsRepicked;
    public final AtomicCounter flowsClosed;
    /**
     * One-way (DSR, IP-in-IP) flows started from a TCP segment that was not a SYN: another lb
     * instance had carried the flow, or this one before a restart; Maglev named its backend again.
     */
    public final AtomicCounter flowsRecovered;
    /**
     * Flows that were not established (half-open, closing, or a single UDP datagram) evicted to make room for a new
     * flow in a full table (the flow package's FullPolicy.EVICT_UNESTABLISHED): under a SYN flood, the
     * flood's own entries making room for each other and for real clients.
     */
    public final AtomicCounter flowsEvicted;
    /**
     * Evicted half-open flows taken back to their backend by the client's ACK (see
     * the flow package's HalfOpenCache): handshakes slower than a half-open entry's life under a flood.
     */
    public final AtomicCounter flowsRestored;
    /** ICMP "fragmentation needed" errors lb sent to clients whose packet would not fit the tunnel. */
    public final AtomicCounter icmpFragNeededSent;
    /** ICMPv6 "packet too big" errors lb sent to clients whose IPv6 packet would not fit the IPv6-in-IPv6 tunnel. */
    public final AtomicCounter icmp6PacketTooBigSent;
    /** ICMP "time exceeded" errors lb sent, as a router, about routed packets whose TTL ran out. */
    public final AtomicCounter icmpTimeExceededSent;
    /**
     * ICMP errors from the client side about a flow's packets (fragmentation needed from a router
     * toward a client, say) relayed to the flow's backend; also counted in {@link #txServerFrames}.
     */
    public final AtomicCounter icmpErrorsForwardedToServer;
    /** ICMP errors from the server side about a NAT flow's packets relayed to its client; also in {@link #txClientFrames}. */
    public final AtomicCounter icmpErrorsForwardedToClient;
    public final AtomicCounter commandsApplied;
    public final AtomicCounter commandsRejected;
    /**
     * Nanoseconds (wall clock) spent in duty cycles that moved frames, from the first RX read to
     * the TX kick: frames divided by this is what one worker can do when it never waits.
     */
    public final AtomicCounter busyNanos;
    /**
     * The part of {@link #busyNanos} spent in the TX kicks (sendto): the kernel's transmit path,
     * and whatever softirq work the kernel runs on the way out of it.
     */
    public final AtomicCounter txKickNanos;
    /** Duty cycles that moved frames: frames divided by this is the mean batch. */
    public final AtomicCounter busyCycles;
    /** Times the worker blocked in poll() for want of frames (each one costs a wake-up). */
    public final AtomicCounter sleeps;
    private final AtomicCounter[] drops;

    public DataplaneCounters(final CountersManager manager, final int workerId)
    {
        final String w = " worker=" + workerId;
        rxClientFrames = manager.newCounter("rx_client_frames" + w, TYPE_TRAFFIC);
        rxClientBytes = manager.newCounter("rx_client_bytes" + w, TYPE_TRAFFIC);
        rxServerFrames = manager.newCounter("rx_server_frames" + w, TYPE_TRAFFIC);
        rxServerBytes = manager.newCounter("rx_server_bytes" + w, TYPE_TRAFFIC);
        txClientFrames = manager.newCounter("tx_client_frames" + w, TYPE_TRAFFIC);
        txClientBytes = manager.newCounter("tx_client_bytes" + w, TYPE_TRAFFIC);
        txServerFrames = manager.newCounter("tx_server_frames" + w, TYPE_TRAFFIC);
        txServerBytes = manager.newCounter("tx_server_bytes" + w, TYPE_TRAFFIC);
        arpReplies = manager.newCounter("arp_replies" + w, TYPE_TRAFFIC);
        gatewayArpReplies = manager.newCounter("gateway_arp_replies" + w, TYPE_TRAFFIC);
        gatewayRepliesRefused = manager.newCounter("gateway_replies_refused" + w, TYPE_TRAFFIC);
        arpToControl = manager.newCounter("arp_to_control" + w, TYPE_TRAFFIC);
        ndpAdvertisements = manager.newCounter("ndp_advertisements" + w, TYPE_TRAFFIC);
        gatewayNdpAdvertisements = manager.newCounter("gateway_ndp_advertisements" + w, TYPE_TRAFFIC);
        ndpToControl = manager.newCounter("ndp_to_control" + w, TYPE_TRAFFIC);
        healthCheckRepliesToControl = manager.newCounter("health_check_replies_to_control" + w, TYPE_TRAFFIC);
        icmpEchoReplies = manager.newCounter("icmp_echo_replies" + w, TYPE_TRAFFIC);
        flowsCreated = manager.newCounter("flows_created" + w, TYPE_FLOW);
        flowsExpired = manager.newCounter("flows_expired" + w, TYPE_FLOW);
        flowsRepicked = manager.newCounter("flows_repicked" + w, TYPE_FLOW);
        flowsClosed = manager.newCounter("flows_closed" + w, TYPE_FLOW);
        flowsRecovered = manager.newCounter("flows_recovered" + w, TYPE_FLOW);
        flowsEvicted = manager.newCounter("flows_evicted" + w, TYPE_FLOW);
        flowsRestored = manager.newCounter("flows_restored" + w, TYPE_FLOW);
        icmpFragNeededSent = manager.newCounter("icmp_frag_needed_sent" + w, TYPE_TRAFFIC);
        icmp6PacketTooBigSent = manager.newCounter("icmp6_packet_too_big_sent" + w, TYPE_TRAFFIC);
        icmpTimeExceededSent = manager.newCounter("icmp_time_exceeded_sent" + w, TYPE_TRAFFIC);
        icmpErrorsForwardedToServer = manager.newCounter("icmp_errors_forwarded_to_server" + w, TYPE_TRAFFIC);
        icmpErrorsForwardedToClient = manager.newCounter("icmp_errors_forwarded_to_client" + w, TYPE_TRAFFIC);
        commandsApplied = manager.newCounter("commands_applied" + w, TYPE_TRAFFIC);
        commandsRejected = manager.newCounter("commands_rejected" + w, TYPE_TRAFFIC);
        busyNanos = manager.newCounter("worker_busy_ns" + w, TYPE_WORK);
        txKickNanos = manager.newCounter("worker_tx_kick_ns" + w, TYPE_WORK);
        busyCycles = manager.newCounter("worker_busy_cycles" + w, TYPE_WORK);
        sleeps = manager.newCounter("worker_sleeps" + w, TYPE_WORK);
        final DropReason[] reasons = DropReason.values();
        drops = new AtomicCounter[reasons.length];
        for (final DropReason reason : reasons)
        {
            drops[reason.ordinal()] = manager.newCounter("drop_" + reason.metricName() + w, TYPE_DROP);
        }
    }

    /** Counts one dropped frame. */
    public void drop(final DropReason reason)
    {
        drops[reason.ordinal()].incrementRelease();
    }

    /** Counts several dropped frames at once (drops the kernel reports in bulk). */
    public void drop(final DropReason reason, final long count)
    {
        drops[reason.ordinal()].getAndAddRelease(count);
    }

    /** Current count for one drop reason (any thread). */
    public long drops(final DropReason reason)
    {
        return drops[reason.ordinal()].get();
    }

    // --- Every frame read is accounted for: rx = tx + answered + dropped + to control -------------
    // Read while the worker runs, the outcomes are read before rx, so a frame in flight shows as
    // unaccounted for a moment and never as accounted twice; with the worker idle the sum is exact.

    /** Frames the worker read from both interfaces. */
    public long rxFrames()
    {
        return rxClientFrames.get() + rxServerFrames.get();
    }

    /** Frames the worker forwarded (rewritten received frames) to either side. */
    public long txFrames()
    {
        return txClientFrames.get() + txServerFrames.get();
    }

    /** Frames received that lb itself answered: ARP requests and neighbour solicitations for its addresses, echo requests to them. */
    public long answered()
    {
        return arpReplies.get() + ndpAdvertisements.get() + icmpEchoReplies.get();
    }

    /**
     * Frames lb sent of its own making that answer no frame one for one: ICMP errors (whose cause
     * is counted as a drop) and the gateway's ARP replies (whose request went to the control thread).
     */
    public long madeUp()
    {
        return icmpTimeExceededSent.get() + icmpFragNeededSent.get() + icmp6PacketTooBigSent.get() + gatewayArpReplies.get() +
            gatewayNdpAdvertisements.get();
    }

    /**
     * Drops of frames the worker read: every reason but {@link DropReason#RX_RING_OVERFLOW}, which
     * counts frames the kernel dropped before lb could read them (they are not in {@link #rxFrames}).
     */
    public long framesDropped()
    {
        return totalDrops() - drops(DropReason.RX_RING_OVERFLOW);
    }

    /** Frames received that went to the control thread: ARP and NDP (health probes) and TCP health checks' answers. */
    public long toControl()
    {
        return arpToControl.get() + ndpToControl.get() + healthCheckRepliesToControl.get();
    }

    /** rx - tx - answered - dropped - to control: 0 whenever the worker is idle. */
    public long unaccounted()
    {
        final long accounted = txFrames() + answered() + framesDropped() + toControl();
        return rxFrames() - accounted;
    }

    /** Sum over all drop reasons (any thread). */
    public long totalDrops()
    {
        long sum = 0;
        for (final AtomicCounter c : drops)
        {
            sum += c.get();
        }
        return sum;
    }
}
