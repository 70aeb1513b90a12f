package lb.dataplane.spread;

import java.util.concurrent.atomic.AtomicLong;
import lb.dataplane.flow.FlowExpiry;
import lb.dataplane.flow.FlowTable;
import lb.dataplane.flow.FullPolicy;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.Ipv4Header;
import lb.dataplane.packet.ParsedFrame;
import lb.dataplane.rewrite.RouteRewrite;
import org.agrona.MutableDirectBuffer;

/**
 * A route service: lb as the clients' router for one destination prefix, spreading it over the
 * next hops of a {@link NextHopGroup} by a {@link SpreadPolicy}; no address changes, TTL - 1.
 * <p>
 * A route is of one family: an IPv4 prefix ({@link #RouteForwarder}) or an IPv6 one ({@link #ipv6}), whose flows
 * live in an IPv6 table ({@link FlowTable#ipv6}, keyed by the full addresses) and whose next hops are named by
 * their aliases, as IPv6 backends are; only the key helpers at the end of the class know the family.
 * <p>
 * Flows live in a {@link FlowTable} of their own, two entries per flow as NAT's (client to
 * destination, and the reverse for traffic coming back from any next hop), each holding the
 * flow's {@link FlowPaths} record id and the client's MAC. TCP flows start on SYN (a segment
 * without SYN and no entry starts one too, established: the flow predates lb) and end on RST or
 * FIN both ways, which frees the path record (and may rebalance); the entries stay on the closing
 * timer so the last ACKs pass. UDP and other flows end by idle expiry. ICMP and other protocols
 * are spread by the hash of their addresses, without state; their replies find the client's MAC
 * in a small cache of client addresses seen (direct-mapped, {@link #CLIENT_CACHE} entries).
 * <p>
 * Per packet the next hop is: {@link SpreadPolicy#PACKET} the round robin; {@code flow-hash} the
 * flow's bucket (a flow whose bucket changed hands follows it); {@code flowlet} the pinned hop
 * unless the flow was idle longer than the gap; otherwise the pinned hop. {@link #forward} and
 * {@link #reverse} rewrite the frame in place and return null when it is ready to go (the caller
 * sends it and, once sent, calls {@link #sent}), else the reason to count it as dropped. Single
 * writer, no allocation.
 */
public final class RouteForwarder implements FlowExpiry
{
    static final int PROTO_TCP = 6;
    static final int TCP_FIN = 0x01;
    static final int TCP_SYN = 0x02;
    static final int TCP_RST = 0x04;
    /** Client address to MAC entries for replies without a flow (ICMP); a power of two. */
    static final int CLIENT_CACHE = 4096;

    private final boolean ipv6;
    private final int prefix;
    private final int mask;
    /** IPv6 routes: the prefix and its mask as the two halves the classifier reads an address in. */
    private final long prefixHigh;
    private final long prefixLow;
    private final long maskHigh;
    private final long maskLow;
    private final SpreadPolicy policy;
    private final long flowletGapNanos;
    private final NextHopGroup group;
    private final FlowPaths paths;
    private final FlowTable flows;
    private long now;
    /** Read by other threads: ordered stores by the one writer. */
    private final AtomicLong flowsCreated = new AtomicLong();
    private int lastHop = NextHopGroup.NO_HOP;
    private final int[] clientIps = new int[CLIENT_CACHE];
    private final long[] clientMacs = new long[CLIENT_CACHE];
    /** IPv6 routes: the clients' full addresses in the cache (an IPv6 client is not told apart by a 32-bit fold). */
    private final long[] clientHighs;
    private final long[] clientLows;

    /**
     * An IPv4 route.
     *
     * @param prefix          the destination prefix's address.
     * @param prefixLength    0..32.
     * @param flowletGapNanos the idle gap after which a flowlet may change hop (flowlet only).
     * @param rebalance       seed 002's rebalancing (least-flows only).
     * @param flowCapacity    most flows tracked at once.
     */
    public RouteForwarder(final int prefix, final int prefixLength, final SpreadPolicy policy, final long flowletGapNanos,
        final boolean rebalance, final int flowCapacity, final long seed)
    {
        this(false, prefix, prefixLength, 0, 0, policy, flowletGapNanos, rebalance, flowCapacity, seed);
    }

    /**
     * An IPv6 route: its next hops are aliases ({@link NextHopGroup#add} takes them as it takes IPv4 addresses).
     *
     * @param prefixHigh   the prefix's first 64 bits, as {@code Ipv6Header.getAddressHigh} reads them.
     * @param prefixLow    its last 64 bits.
     * @param prefixLength 0..128.
     * @return the route, its flow table an IPv6 one.
     */
    public static RouteForwarder ipv6(final long prefixHigh, final long prefixLow, final int prefixLength,
        final SpreadPolicy policy, final long flowletGapNanos, final boolean rebalance, final int flowCapacity, final long seed)
    {
        return new RouteForwarder(true, 0, prefixLength, prefixHigh, prefixLow, policy, flowletGapNanos, rebalance,
            flowCapacity, seed);
    }

    private RouteForwarder(final boolean ipv6, final int prefix, final int prefixLength, final long prefixHigh,
        final long prefixLow, final SpreadPolicy policy, final long flowletGapNanos, final boolean rebalance,
        final int flowCapacity, final long seed)
    {
        if (prefixLength < 0 || prefixLength > (ipv6 ? 128 : 32))
        {
            throw new IllegalArgumentException("prefix length " + prefixLength + " is not 0.." + (ipv6 ? 128 : 32));
        }
        this.ipv6 = ipv6;
        this.mask = ipv6 || prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
        this.prefix = prefix & mask;
        this.maskHigh = ipv6 ? halfMask(prefixLength) : 0;
        this.maskLow = ipv6 ? halfMask(prefixLength - Long.SIZE) : 0;
        this.prefixHigh = prefixHigh & maskHigh;
        this.prefixLow = prefixLow & maskLow;
        this.policy = policy;
        this.flowletGapNanos = flowletGapNanos;
        this.group = new NextHopGroup(seed);
        this.paths = new FlowPaths(group, flowCapacity).rebalance(rebalance && policy == SpreadPolicy.LEAST_FLOWS);
        this.flows = ipv6 ? FlowTable.ipv6(2 * flowCapacity, FullPolicy.REFUSE, null) : new FlowTable(2 * flowCapacity);
        this.clientHighs = ipv6 ? new long[CLIENT_CACHE] : null;
        this.clientLows = ipv6 ? new long[CLIENT_CACHE] : null;
    }

    /** The mask of the first {@code bits} bits of a 64-bit half: none at 0 or less, all at 64 or more. */
    private static long halfMask(final int bits)
    {
        return bits <= 0 ? 0 : bits >= Long.SIZE ? -1L : -1L << (Long.SIZE - bits);
    }

    public NextHopGroup group()
    {
        return group;
    }

    public FlowPaths paths()
    {
        return paths;
    }

    public FlowTable flows()
    {
        return flows;
    }

    /** @return flows started (SYN, first datagram, or a TCP flow found already running). */
    public long flowsCreated()
    {
        return flowsCreated.get();
    }

    /** @return whether the route is an IPv6 one. */
    public boolean isIpv6()
    {
        return ipv6;
    }

    /** @return the IPv4 address is in the route's prefix (never for an IPv6 route). */
    public boolean matches(final int dstIp)
    {
        return !ipv6 && (dstIp & mask) == prefix;
    }

    /** @return the IPv6 address is in the route's prefix (never for an IPv4 route): two masked compares. */
    public boolean matches6(final long high, final long low)
    {
        return ipv6 && (high & maskHigh) == prefixHigh && (low & maskLow) == prefixLow;
    }

    /** A probe result for a next hop: a hop that leaves takes its flows with it to the others. */
    public void nextHopHealth(final int hop, final boolean up, final long mac)
    {
        usabilityChanged(hop, group.setUsable(hop, up, mac));
    }

    /** The operator removed a next hop: its flows move as if it had died. */
    public void retireNextHop(final int hop)
    {
        usabilityChanged(hop, group.retire(hop));
    }

    private void usabilityChanged(final int hop, final boolean changed)
    {
        if (changed && !group.usable(hop) && policy != SpreadPolicy.PACKET && policy != SpreadPolicy.FLOW_HASH)
        {
            paths.evacuate(hop, policy);
        }
    }

    /**
     * Client to destination: rewritten from {@code ownMac} (lb's server side) to the next hop.
     *
     * @return null when the frame is ready to send toward the next hops, else why not.
     */
    public DropReason forward(final MutableDirectBuffer buffer, final int offset, final int length, final ParsedFrame p,
        final long ownMac, final long nowNanos)
    {
        now = nowNanos;
        lastHop = NextHopGroup.NO_HOP;
        if (group.usableCount() == 0)
        {
            return DropReason.NO_NEXT_HOP;
        }
        final int hop;
        if (p.protocol == Ipv4Header.PROTOCOL_TCP || p.protocol == Ipv4Header.PROTOCOL_UDP)
        {
            int fwd = findOwnKey(p);
            final boolean syn = p.protocol == PROTO_TCP && (p.tcpFlags & TCP_SYN) != 0;
            if (fwd >= 0 && syn && flows.tcpState(fwd) == FlowTable.TCP_CLOSING)
            {
                // A new connection on the port of a finished one.
                removeFlow(fwd, p);
                fwd = -1;
            }
            if (fwd < 0)
            {
                fwd = createFlow(buffer, offset, p, syn);
                if (fwd < 0)
                {
                    return DropReason.FLOW_TABLE_FULL;
                }
            }
            flows.touch(fwd, nowNanos, length);
            // A closed flow's path record is free (and may be another flow's by now); its entries
            // hold the hop it last took instead, so its last segments (the final ACKs) keep it.
            hop = flows.tcpState(fwd) != FlowTable.TCP_CLOSING || policy == SpreadPolicy.PACKET ?
                hopOf(flows.backendId(fwd), p) : closedHop(flows.backendId(fwd), p);
            if (p.protocol == PROTO_TCP)
            {
                track(fwd, p.tcpFlags);
            }
        }
        else
        {
            learnClient(p, EthernetHeader.getMac(buffer, offset + EthernetHeader.SOURCE_OFFSET));
            hop = group.pickHash(addressHash(p));
        }
        if (hop == NextHopGroup.NO_HOP)
        {
            return DropReason.NO_NEXT_HOP;
        }
        if (!RouteRewrite.apply(buffer, p, ownMac, group.mac(hop)))
        {
            return p.dropReason;
        }
        lastHop = hop;
        return null;
    }

    /** The frame {@link #forward} made ready went out: counted on its next hop. */
    public void sent(final int length)
    {
        if (lastHop != NextHopGroup.NO_HOP)
        {
            group.countPacket(lastHop, length);
        }
    }

    /**
     * Destination to client, from any next hop: rewritten from {@code ownMac} (lb's client side)
     * to the client's MAC.
     *
     * @return null when the frame is ready to send toward the client, else why not.
     */
    public DropReason reverse(final MutableDirectBuffer buffer, final int offset, final int length, final ParsedFrame p,
        final long ownMac, final long nowNanos)
    {
        now = nowNanos;
        lastHop = NextHopGroup.NO_HOP;
        if (p.protocol != Ipv4Header.PROTOCOL_TCP && p.protocol != Ipv4Header.PROTOCOL_UDP)
        {
            final long mac = clientMac(p);
            return mac == 0 ? DropReason.NO_FLOW : RouteRewrite.apply(buffer, p, ownMac, mac) ? null : p.dropReason;
        }
        final int ret = findOwnKey(p);
        if (ret < 0 || !flows.isReturnDirection(ret))
        {
            return DropReason.NO_FLOW;
        }
        flows.touch(ret, nowNanos, length);
        if (p.protocol == PROTO_TCP)
        {
            track(ret, p.tcpFlags);
        }
        return RouteRewrite.apply(buffer, p, ownMac, flows.peerMac(ret)) ? null : p.dropReason;
    }

    /** Remembers the MAC of an ICMP sender, for the replies, which have no flow to keep it. */
    private void learnClient(final ParsedFrame p, final long mac)
    {
        final int i = cacheIndex(ipv6 ? fold(p.srcHigh, p.srcLow) : p.srcIp);
        clientIps[i] = p.srcIp;
        clientMacs[i] = mac;
        if (ipv6)
        {
            clientHighs[i] = p.srcHigh;
            clientLows[i] = p.srcLow;
        }
    }

    /** @return the MAC of the client a reply (without a flow) is for, or 0 when the cache does not know it. */
    private long clientMac(final ParsedFrame p)
    {
        final int i = cacheIndex(ipv6 ? fold(p.dstHigh, p.dstLow) : p.dstIp);
        final boolean known = ipv6 ? clientHighs[i] == p.dstHigh && clientLows[i] == p.dstLow : clientIps[i] == p.dstIp;
        return known ? clientMacs[i] : 0;
    }

    private static int cacheIndex(final int ip)
    {
        return (ip * 0x9E3779B1) >>> (Integer.SIZE - Integer.numberOfTrailingZeros(CLIENT_CACHE));
    }

    private int hopOf(final int id, final ParsedFrame p)
    {
        switch (policy)
        {
            case PACKET:
                return group.pickPacket();
            case FLOW_HASH:
                return paths.followHash(id, flowHash(p));
            case FLOWLET:
                return paths.flowlet(id, now, flowletGapNanos);
            default:
                final int hop = paths.hop(id);
                if (group.usable(hop))
                {
                    return hop;
                }
                final int to = policy == SpreadPolicy.LEAST_FLOWS ? group.pickLeast() : group.pickRandom();
                if (to != NextHopGroup.NO_HOP)
                {
                    paths.move(id, to);
                }
                return to;
        }
    }

    private int firstHop(final ParsedFrame p)
    {
        switch (policy)
        {
            case LEAST_FLOWS:
                return group.pickLeast();
            case FLOW_RANDOM:
            case FLOWLET:
                return group.pickRandom();
            default:
                // flow-hash: the flow's bucket; packet: any hop serves to count the flow (its packets go round robin).
                return group.pickHash(flowHash(p));
        }
    }

    private int createFlow(final MutableDirectBuffer buffer, final int offset, final ParsedFrame p, final boolean syn)
    {
        final int id = paths.open(firstHop(p), now);
        if (id == FlowPaths.NONE)
        {
            return -1;
        }
        final long clientMac = EthernetHeader.getMac(buffer, offset + EthernetHeader.SOURCE_OFFSET);
        final int state = p.protocol != PROTO_TCP ? FlowTable.TCP_NONE : syn ? FlowTable.TCP_SYN_SEEN : FlowTable.TCP_ESTABLISHED;
        // The return entry is filled before the forward one goes in: that insert may move it, values and all.
        final int ret = insert(p, true);
        if (ret < 0)
        {
            paths.close(id);
            return -1;
        }
        fill(ret, id, clientMac, state, true);
        final int fwd = insert(p, false);
        if (fwd < 0)
        {
            remove(p, true);
            paths.close(id);
            return -1;
        }
        fill(fwd, id, clientMac, state, false);
        flowsCreated.lazySet(flowsCreated.get() + 1);
        return fwd;
    }

    private void fill(final int slot, final int id, final long clientMac, final int state, final boolean returnDirection)
    {
        flows.setBackendId(slot, id);
        flows.setPeerMac(slot, clientMac);
        flows.setTcpState(slot, state);
        flows.setReturnDirection(slot, returnDirection);
    }

    /** TCP state from either direction: established on a later packet, closed on RST or FIN both ways. */
    private void track(final int slot, final int tcpFlags)
    {
        // Only a state change needs the other direction's entry: most segments cost no second lookup.
        if ((tcpFlags & TCP_RST) != 0)
        {
            close(slot, pairOf(slot));
            return;
        }
        if ((tcpFlags & TCP_FIN) != 0)
        {
            flows.setFinSeen(slot);
            final int pair = pairOf(slot);
            if (pair >= 0 && flows.isFinSeen(pair))
            {
                close(slot, pair);
            }
            return;
        }
        if (flows.tcpState(slot) == FlowTable.TCP_SYN_SEEN && (tcpFlags & TCP_SYN) == 0)
        {
            flows.setTcpState(slot, FlowTable.TCP_ESTABLISHED);
            final int pair = pairOf(slot);
            if (pair >= 0)
            {
                flows.setTcpState(pair, FlowTable.TCP_ESTABLISHED);
            }
        }
    }

    /** The flow ended: its path record goes (perhaps rebalancing another flow), the entries wait on the closing timer. */
    private void close(final int slot, final int pair)
    {
        if (flows.tcpState(slot) == FlowTable.TCP_CLOSING)
        {
            return;
        }
        final int id = flows.backendId(slot);
        final int lastHop = paths.hop(id);
        paths.close(id);
        flows.setTcpState(slot, FlowTable.TCP_CLOSING);
        flows.setBackendId(slot, lastHop);
        if (pair >= 0)
        {
            flows.setTcpState(pair, FlowTable.TCP_CLOSING);
            flows.setBackendId(pair, lastHop);
        }
    }

    /** A closed flow's hop: the one it last took while usable, else by hash. */
    private int closedHop(final int lastHop, final ParsedFrame p)
    {
        return lastHop >= 0 && lastHop < NextHopGroup.MAX_HOPS && group.usable(lastHop) ? lastHop :
            group.pickHash(flowHash(p));
    }

    /** A new connection on the key of a closed flow: both entries go (its path record unless the close freed it). */
    private void removeFlow(final int fwd, final ParsedFrame p)
    {
        if (flows.tcpState(fwd) != FlowTable.TCP_CLOSING)
        {
            paths.close(flows.backendId(fwd));
        }
        remove(p, true);
        remove(p, false);
    }

    // Key helpers: the only code that knows the route's family.

    /** @return the entry keyed by the frame's own tuple (a forward entry from a client, a return one from a hop). */
    private int findOwnKey(final ParsedFrame p)
    {
        return ipv6 ? flows.find6(p.srcHigh, p.srcLow, p.dstHigh, p.dstLow, p.srcPort, p.dstPort, p.protocol) :
            flows.find(p.srcIp, p.dstIp, p.srcPort, p.dstPort, p.protocol);
    }

    /** Inserts the frame's tuple, or its reverse. */
    private int insert(final ParsedFrame p, final boolean reverse)
    {
        if (ipv6)
        {
            return reverse ? flows.insert6(p.dstHigh, p.dstLow, p.srcHigh, p.srcLow, p.dstPort, p.srcPort, p.protocol, now) :
                flows.insert6(p.srcHigh, p.srcLow, p.dstHigh, p.dstLow, p.srcPort, p.dstPort, p.protocol, now);
        }
        return reverse ? flows.insert(p.dstIp, p.srcIp, p.dstPort, p.srcPort, p.protocol, now) :
            flows.insert(p.srcIp, p.dstIp, p.srcPort, p.dstPort, p.protocol, now);
    }

    /** Removes the frame's tuple, or its reverse. */
    private void remove(final ParsedFrame p, final boolean reverse)
    {
        if (ipv6 && reverse)
        {
            flows.remove6(p.dstHigh, p.dstLow, p.srcHigh, p.srcLow, p.dstPort, p.srcPort, p.protocol);
        }
        else if (ipv6)
        {
            flows.remove6(p.srcHigh, p.srcLow, p.dstHigh, p.dstLow, p.srcPort, p.dstPort, p.protocol);
        }
        else if (reverse)
        {
            flows.remove(p.dstIp, p.srcIp, p.dstPort, p.srcPort, p.protocol);
        }
        else
        {
            flows.remove(p.srcIp, p.dstIp, p.srcPort, p.dstPort, p.protocol);
        }
    }

    /** @return the other direction's entry of the slot's flow, or a negative value. */
    private int pairOf(final int slot)
    {
        return ipv6 ?
            flows.find6(flows.dstHigh(slot), flows.dstLow(slot), flows.srcHigh(slot), flows.srcLow(slot), flows.dstPort(slot),
                flows.srcPort(slot), flows.protocol(slot)) :
            flows.find(flows.dstIp(slot), flows.srcIp(slot), flows.dstPort(slot), flows.srcPort(slot), flows.protocol(slot));
    }

    /** The 5-tuple hash flow-hash buckets by: Linux ECMP's L4 hash. */
    private int flowHash(final ParsedFrame p)
    {
        return ipv6 ? FlowTable.hash6(p.srcHigh, p.srcLow, p.dstHigh, p.dstLow, p.srcPort, p.dstPort, p.protocol) :
            FlowTable.hash(p.srcIp, p.dstIp, p.srcPort, p.dstPort, p.protocol);
    }

    /** The addresses' hash that spreads stateless traffic (ICMP), so one conversation keeps one hop. */
    private int addressHash(final ParsedFrame p)
    {
        return ipv6 ? fold(p.srcHigh, p.srcLow) * 31 + fold(p.dstHigh, p.dstLow) : p.srcIp * 31 + p.dstIp;
    }

    private static int fold(final long high, final long low)
    {
        final long folded = high ^ low;
        return (int)(folded >>> 32) ^ (int)folded;
    }

    /** Runs one slice of the expiry walk. */
    public int expire(final long nowNanos, final int maxSlots)
    {
        now = nowNanos;
        return flows.expire(nowNanos, maxSlots, this);
    }

    /** Both entries idle: the flow goes (its path record too, unless closed already). */
    @Override
    public boolean onIdle(final FlowTable table, final int slot)
    {
        final int pair = pairOf(slot);
        if (pair >= 0 && now - table.lastSeen(pair) <= table.timeoutNanos(table.tcpState(pair)))
        {
            table.setLastSeen(slot, table.lastSeen(pair));
            return false;
        }
        if (table.tcpState(slot) != FlowTable.TCP_CLOSING)
        {
            paths.close(table.backendId(slot));
        }
        if (pair >= 0)
        {
            table.removeAt(pair);
        }
        return true;
    }
}
