package lb.control.health;

import java.util.List;
import java.util.function.Consumer;
import lb.control.config.IpAddresses;
import lb.control.config.TcpCheckConfig;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.FrameClassifier;
import lb.dataplane.packet.FrameType;
import lb.dataplane.packet.ParsedFrame;
import lb.dataplane.packet.TcpCheckFrames;
import lb.dataplane.packet.TcpHeader;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * TCP health checks of the backends of the services that have one, beside the ARP probes
 * ({@link HealthProber}), on the control thread. A check is a half-open SYN from lb's gateway
 * address and a port of {@link TcpCheckFrames}' range to {@code backend:checkPort}: a SYN-ACK
 * acknowledging it passes (and lb sends an RST with the SYN-ACK's acknowledgement number as its
 * sequence number, so the backend frees the half-open connection at once), an RST fails, and no
 * answer within the timeout fails. {@code fall} failures in a row take a backend out of its
 * service, {@code rise} passes in a row bring it back; until its first check a backend counts as
 * passing (HAProxy's default), and the first failure takes it out.
 *
 * <p>An IPv6 backend (an alias, see {@link IpAddresses}) is checked the same way from gateway-ip6, with
 * the IPv6 frames of {@link TcpCheckFrames} and the MAC neighbour discovery found; its answers are
 * matched by the full 128-bit addresses, kept with each check so no reply needs an alias lookup.
 *
 * <p>A check needs the backend's MAC, so none is sent before ARP found the host (nor while ARP says
 * it is down: it carries nothing then anyway). Each check takes the next port of the range, so an
 * answer to an earlier check (late, or to a check superseded by a timeout) names a port no check
 * awaits and is only reset, never counted.
 *
 * <p>Runs on the control thread only; time is passed in, so tests drive it without sleeping.
 * Other threads read the state and the counters (single writer, volatile fields).
 */
public final class TcpChecker
{
    /** What the last check of a backend found. */
    public enum Result
    {
        /** Not checked yet. */
        NONE("none"),
        /** Its port accepted: SYN-ACK. */
        SYN_ACK("syn-ack"),
        /** Its port is closed: RST. */
        RST("rst"),
        /** No answer within the timeout. */
        TIMEOUT("timeout");

        private final String label;

        Result(final String label)
        {
            this.label = label;
        }

        /** @return the word {@code lbctl} shows. */
        public String label()
        {
            return label;
        }
    }

    /**
     * One backend of one service to check.
     *
     * @param serviceId the service's id (as the command rings name it).
     * @param service   its name, for the log.
     * @param ip        the backend's address.
     * @param port      the port its flows go to.
     * @param poolPort  the port as its pool holds it (0 for the service port): how commands name it.
     * @param config    the service's check.
     */
    public record Target(int serviceId, String service, int ip, int port, int poolPort, TcpCheckConfig config)
    {
        /** @return the TCP port the check goes to. */
        public int checkPort()
        {
            return config.portFor(port);
        }
    }

    /** Sends one frame on the server side. */
    @FunctionalInterface
    public interface FrameSender
    {
        boolean send(DirectBuffer frame, int offset, int length);
    }

    /** The MAC ARP found for an address that is up, or 0. */
    @FunctionalInterface
    public interface MacLookup
    {
        long macOf(int ip);
    }

    /** Hears a backend go out of its service ({@code passing} false) or come back. */
    @FunctionalInterface
    public interface Listener
    {
        void onChange(Target target, boolean passing);
    }

    /** One target's state. */
    public static final class Check
    {
        private final Target target;
        /** The backend's IPv6 address when it has one ({@link #ipv6}): what its answers come from. */
        private final boolean ipv6;
        private final long ipHigh;
        private final long ipLow;
        private volatile boolean passing = true;
        private volatile int inARow;
        private volatile Result last = Result.NONE;
        private boolean awaiting;
        private long sentAt;
        private long dueAt;
        private int sourcePort;
        private int seq;

        Check(final Target target, final long dueAt)
        {
            this.target = target;
            this.dueAt = dueAt;
            this.ipv6 = IpAddresses.isIpv6(target.ip);
            this.ipHigh = IpAddresses.high(target.ip);
            this.ipLow = IpAddresses.low(target.ip);
        }

        public Target target()
        {
            return target;
        }

        /** @return whether the backend takes new flows as far as this check goes. */
        public boolean passing()
        {
            return passing;
        }

        /**
         * @return the results in a row that agree with {@link #passing()} (passes while passing,
         *     failures while failing), or the other way while it is turning: see {@link #toward()}.
         */
        public int inARow()
        {
            return inARow;
        }

        /** @return the last check's result. */
        public Result last()
        {
            return last;
        }

        /** @return rise while failing (passes counted toward coming back), fall while passing. */
        public int toward()
        {
            return passing ? target.config.fall() : target.config.rise();
        }
    }

    private final long serverMac;
    private final int gatewayIp;
    /** gateway-ip6's alias (0: none) and its address, the IPv6 checks' source. */
    private final int gatewayIp6;
    private final long gatewayHigh6;
    private final long gatewayLow6;
    private final FrameSender sender;
    private final MacLookup macs;
    private final Listener listener;
    private final Consumer<String> log;
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[Math.max(TcpCheckFrames.FRAME_LENGTH, TcpCheckFrames.FRAME_LENGTH6)]);
    private final ParsedFrame parsed = new ParsedFrame();
    private volatile Check[] checks = new Check[0];
    private int nextPort;
    private int nextSeq;

    private volatile long synsSent;
    private volatile long synAcks;
    private volatile long rsts;
    private volatile long timeouts;
    private volatile long resetsSent;
    private volatile long staleReplies;
    private volatile long sendFailures;

    /**
     * @param serverMac the server-side interface's MAC (the frames' source)
     * @param gatewayIp  lb's server-side address (the checks' source)
     * @param gatewayIp6 the alias of lb's server-side IPv6 address (the IPv6 checks' source), or 0: none
     * @param seed       where the source ports and sequence numbers start
     */
    public TcpChecker(final long serverMac, final int gatewayIp, final int gatewayIp6, final FrameSender sender,
        final MacLookup macs, final Listener listener, final Consumer<String> log, final int seed)
    {
        this.serverMac = serverMac;
        this.gatewayIp = gatewayIp;
        this.gatewayIp6 = gatewayIp6;
        this.gatewayHigh6 = IpAddresses.high(gatewayIp6);
        this.gatewayLow6 = IpAddresses.low(gatewayIp6);
        this.sender = sender;
        this.macs = macs;
        this.listener = listener;
        this.log = log;
        this.nextPort = Math.floorMod(seed, TcpCheckFrames.SOURCE_PORT_COUNT);
        this.nextSeq = seed * 0x9E3779B1;
    }

    /**
     * Checks exactly these targets from now on. One that stays (same service, backend and check)
     * keeps its state; a new one is checked at once.
     */
    public void setTargets(final List<Target> targets, final long now)
    {
        final Check[] old = checks;
        final Check[] next = new Check[targets.size()];
        for (int i = 0; i < next.length; i++)
        {
            final Target t = targets.get(i);
            Check kept = null;
            for (final Check c : old)
            {
                if (c.target.equals(t))
                {
                    kept = c;
                }
            }
            next[i] = kept != null ? kept : new Check(t, now);
        }
        checks = next;
    }

    /** Sends the checks that are due and fails those whose answer is overdue. Returns work done. */
    public int doWork(final long now)
    {
        int work = 0;
        for (final Check c : checks)
        {
            final TcpCheckConfig config = c.target.config;
            if (c.awaiting && now - c.sentAt > config.timeout().toNanos())
            {
                c.awaiting = false;
                timeouts++;
                result(c, false, Result.TIMEOUT);
                work++;
            }
            if (!c.awaiting && now - c.dueAt >= 0)
            {
                c.dueAt = now + config.interval().toNanos();
                final long mac = macs.macOf(c.target.ip);
                if (mac != 0 && (!c.ipv6 || gatewayIp6 != 0))
                {
                    send(c, mac, now);
                    work++;
                }
            }
        }
        return work;
    }

    private void send(final Check c, final long mac, final long now)
    {
        c.sourcePort = TcpCheckFrames.FIRST_SOURCE_PORT + nextPort;
        nextPort = (nextPort + 1) % TcpCheckFrames.SOURCE_PORT_COUNT;
        c.seq = nextSeq;
        nextSeq += 0x3C6EF35F; // an odd step: every check of a run gets another sequence number
        c.sentAt = now;
        c.awaiting = true;
        final int length = c.ipv6 ?
            TcpCheckFrames.writeSyn6(frame, 0, serverMac, mac, gatewayHigh6, gatewayLow6, c.ipHigh, c.ipLow, c.sourcePort,
                c.target.checkPort(), c.seq) :
            TcpCheckFrames.writeSyn(frame, 0, serverMac, mac, gatewayIp, c.target.ip, c.sourcePort, c.target.checkPort(), c.seq);
        if (sender.send(frame, 0, length))
        {
            synsSent++;
        }
        else if (sendFailures++ == 0)
        {
            log.accept("cannot send TCP checks on the server side");
        }
    }

    /**
     * A TCP frame from the server side to the gateway address (or gateway-ip6) and a check port: a
     * backend's SYN-ACK or RST. Anything else is ignored.
     */
    public void onFrame(final DirectBuffer buffer, final int offset, final int length, final long now)
    {
        final FrameType type = FrameClassifier.classify(buffer, offset, length, parsed);
        final boolean ipv6 = type == FrameType.IPV6_TCP;
        final boolean toGateway = ipv6 ?
            gatewayIp6 != 0 && parsed.dstHigh == gatewayHigh6 && parsed.dstLow == gatewayLow6 :
            type == FrameType.IPV4_TCP && parsed.dstIp == gatewayIp;
        if (!toGateway || !TcpCheckFrames.isCheckPort(parsed.dstPort))
        {
            return;
        }
        final int flags = parsed.tcpFlags;
        final boolean synAck = (flags & (TcpHeader.SYN | TcpHeader.ACK | TcpHeader.RST)) == (TcpHeader.SYN | TcpHeader.ACK);
        final boolean rst = (flags & TcpHeader.RST) != 0;
        final int ack = buffer.getInt(parsed.l4Offset + TcpHeader.ACKNOWLEDGEMENT_OFFSET, BIG_ENDIAN);
        final Check c = awaiting(ipv6, parsed.srcPort, parsed.dstPort);
        final boolean answersIt = c != null && (flags & TcpHeader.ACK) != 0 && ack == c.seq + 1;
        if (synAck)
        {
            // Whoever it answers, the backend holds a half-open connection: free it.
            final long mac = EthernetHeader.getMac(buffer, offset + EthernetHeader.SOURCE_OFFSET);
            final int rstLength = ipv6 ?
                TcpCheckFrames.writeRst6(frame, 0, serverMac, mac, gatewayHigh6, gatewayLow6, parsed.srcHigh, parsed.srcLow,
                    parsed.dstPort, parsed.srcPort, ack) :
                TcpCheckFrames.writeRst(frame, 0, serverMac, mac, gatewayIp, parsed.srcIp, parsed.dstPort, parsed.srcPort, ack);
            if (sender.send(frame, 0, rstLength))
            {
                resetsSent++;
            }
        }
        if (!answersIt)
        {
            if (synAck || rst)
            {
                staleReplies++;
            }
            return;
        }
        if (synAck)
        {
            c.awaiting = false;
            synAcks++;
            result(c, true, Result.SYN_ACK);
        }
        else if (rst)
        {
            c.awaiting = false;
            rsts++;
            result(c, false, Result.RST);
        }
    }

    /** The check awaiting an answer from the parsed frame's source address and {@code port} to {@code sourcePort}. */
    private Check awaiting(final boolean ipv6, final int port, final int sourcePort)
    {
        for (final Check c : checks)
        {
            final boolean fromIt = ipv6 ? c.ipv6 && c.ipHigh == parsed.srcHigh && c.ipLow == parsed.srcLow :
                !c.ipv6 && c.target.ip == parsed.srcIp;
            if (c.awaiting && fromIt && c.target.checkPort() == port && c.sourcePort == sourcePort)
            {
                return c;
            }
        }
        return null;
    }

    /**
     * Counts one result. Passing, a pass resets the failures and a failure counts toward fall
     * (the first result of all decides at once); failing, the other way round with rise.
     */
    private void result(final Check c, final boolean passed, final Result what)
    {
        final boolean first = c.last == Result.NONE;
        c.last = what;
        if (passed == c.passing)
        {
            c.inARow = 0;
            return;
        }
        final int needed = first ? 1 : passed ? c.target.config.rise() : c.target.config.fall();
        c.inARow = c.inARow + 1;
        if (c.inARow >= needed)
        {
            c.passing = passed;
            c.inARow = 0;
            log.accept("backend " + IpAddresses.endpoint(c.target.ip, c.target.port) + " of service " + c.target.service +
                (passed ? " check up: " : " check down: ") + what.label() + " from port " + c.target.checkPort() +
                (first ? " (first check)" : ", " + needed + " in a row"));
            listener.onChange(c.target, passed);
        }
    }

    /** @return the checks now, in target order (a snapshot of the array; each check's fields are live). */
    public Check[] checks()
    {
        return checks;
    }

    /** @return the check of a service's backend, or null if it has none. */
    public Check check(final int serviceId, final int ip, final int port)
    {
        for (final Check c : checks)
        {
            if (c.target.serviceId == serviceId && c.target.ip == ip && c.target.port == port)
            {
                return c;
            }
        }
        return null;
    }

    public long synsSent()
    {
        return synsSent;
    }

    public long synAcks()
    {
        return synAcks;
    }

    public long rsts()
    {
        return rsts;
    }

    public long timeouts()
    {
        return timeouts;
    }

    public long resetsSent()
    {
        return resetsSent;
    }

    /** Answers (SYN-ACK or RST) that matched no awaited check: late, or for a check already timed out. */
    public long staleReplies()
    {
        return staleReplies;
    }
}
