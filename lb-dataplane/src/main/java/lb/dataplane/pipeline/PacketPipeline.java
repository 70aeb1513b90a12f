package lb.dataplane.pipeline;

import java.nio.ByteOrder;
import lb.dataplane.checksum.Checksums;
import lb.dataplane.flow.FlowExpiry;
import lb.dataplane.flow.FlowTable;
import lb.dataplane.flow.HalfOpenCache;
import lb.dataplane.packet.ArpPacket;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.FrameClassifier;
import lb.dataplane.packet.FrameType;
import lb.dataplane.packet.IcmpHeader;
import lb.dataplane.packet.IcmpQuote;
import lb.dataplane.packet.Icmpv6Header;
import lb.dataplane.packet.Icmpv6Quote;
import lb.dataplane.packet.Ipv6Header;
import lb.dataplane.packet.NeighborDiscovery;
import lb.dataplane.packet.ParsedFrame;
import lb.dataplane.packet.TcpCheckFrames;
import lb.dataplane.rewrite.DsrRewrite;
import lb.dataplane.rewrite.ForwardNat;
import lb.dataplane.rewrite.IcmpErrorNat;
import lb.dataplane.rewrite.IcmpErrorNat66;
import lb.dataplane.rewrite.Ip6Ip6Encap;
import lb.dataplane.rewrite.IpipEncap;
import lb.dataplane.rewrite.Nat66Rewrite;
import lb.dataplane.rewrite.ReturnNat;
import lb.dataplane.sched.BackendPool;
import lb.dataplane.spread.RouteForwarder;
import lb.dataplane.spread.RouteSlots;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * What lb does with one frame, for both arms of a two-armed NAT (like IPVS-NAT).
 *
 * <p>Client side: answer ARP for lb's own address and the VIPs, answer ICMP echo to them, and
 * forward a TCP/UDP frame for a service to a backend: a new flow (TCP SYN or first UDP datagram)
 * asks the service's scheduler, later frames follow the flow table. Server side: answer ARP for
 * the gateway address, hand other ARP frames to the control thread (health probes learn backend
 * MACs from them), and rewrite backend replies to come from VIP:port toward the client's MAC.
 * An ICMP error about a flow's packet, from either side, goes to the side that sent the packet,
 * translated like the flow (as IPVS relays them), so path MTU discovery works through lb.
 *
 * <p>Each flow is two entries in one {@link FlowTable}: the forward key (client -> VIP) and the
 * return key (backend -> client). The forward entry's NAT address is the backend; the return
 * entry's is the VIP and it keeps the client's (or its router's) MAC. The forward entry's TCP
 * state is the one that counts for least-connection scheduling.
 *
 * <p>Single-threaded: one pipeline per worker, called from its duty cycle. Allocation-free.
 */
public final class PacketPipeline implements FlowExpiry
{
    /** RX flag: the L4 checksum is only the pseudo-header sum (TP_STATUS_CSUMNOTREADY). */
    public static final int RX_CHECKSUM_PARTIAL = 1;
    /** RX flag: the ring held only part of the frame; it must never be forwarded. */
    public static final int RX_TRUNCATED = 2;
    /** RX flag: the frame leaves with its virtio-net header, so the kernel completes its checksum. */
    public static final int RX_VNET = 4;
    /** RX flag: a GSO super-frame (the kernel segments it on transmit). */
    public static final int RX_GSO = 8;
    /** RX flag: the frame had a VLAN tag, which the kernel took out (TP_STATUS_VLAN_VALID). */
    public static final int RX_VLAN = 16;

    /** ICMP errors (time exceeded) one worker sends at most per second, and in one burst. */
    static final int ICMP_ERRORS_PER_SECOND = 1000;
    static final int ICMP_ERROR_BURST = 50;
    /** Packet too big has one code (RFC 4443 section 3.2). */
    private static final int CODE_PACKET_TOO_BIG = 0;
    static final int PROTO_ICMP = 1;
    static final int PROTO_TCP = 6;
    static final int PROTO_UDP = 17;
    static final int TCP_FIN = 0x01;
    static final int TCP_SYN = 0x02;
    static final int TCP_RST = 0x04;
    static final int TCP_ACK = 0x10;

    /** TTL of the echo replies lb sends for its own addresses. */
    private static final int REPLY_TTL = 64;
    /** Server-side MTU until {@link #serverMtu(int)} says otherwise. */
    public static final int DEFAULT_MTU = 1500;
    private static final int SCRATCH_LENGTH =
        Ipv6Header.HEADER_LENGTH + 65_535 + EthernetHeader.DOUBLE_TAGGED_HEADER_LENGTH + Ip6Ip6Encap.OVERHEAD;

    private final ServiceTable services;
    private final FlowTable flows;
    private final DataplaneCounters counters;
    private final BackendStatsTable stats;
    private final FrameSink toClient;
    private final FrameSink toServer;
    private final FrameSink toControl;
    private final long clientMac;
    private final long serverMac;
    private final int clientIp;
    private final int gatewayIp;

    private final ParsedFrame parsed = new ParsedFrame();
    /**
     * The table of the frame in hand (or of the expiry walk): {@link #flows} for IPv4, {@link #flows6} for IPv6. The
     * flow logic below is one for both families; only the key helpers ({@link #findOwnKey} and the others) differ.
     */
    private FlowTable table;
    /** IPv6 flows (128-byte slots keyed by the full addresses), or null while lb has no IPv6 (see {@link #ipv6}). */
    private FlowTable flows6;
    /** Names lb's configured IPv6 addresses by aliases; empty until {@link #ipv6}, so no IPv6 frame finds a service. */
    private Ipv6AliasTable aliases = new Ipv6AliasTable();
    private int clientIp6 = Ipv6AliasTable.NONE;
    private int gatewayIp6 = Ipv6AliasTable.NONE;
    private HalfOpenCache evictedHalfOpen6;
    private final NeighborDiscovery neighbor = new NeighborDiscovery();
    /** Half-open flows the full table evicted, so a slow handshake's ACK still finds its backend. */
    private final HalfOpenCache evictedHalfOpen = new HalfOpenCache(HalfOpenCache.DEFAULT_SLOTS);
    private final ForwardNat forwardNat = new ForwardNat();
    private final ReturnNat returnNat = new ReturnNat();
    private final IcmpQuote quote = new IcmpQuote();
    private final Icmpv6Quote quote6 = new Icmpv6Quote();
    /** Where IP-in-IP frames and ICMP errors are built: they are longer than, or unlike, the frame received. */
    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[SCRATCH_LENGTH]);
    /** Route services (lb as the clients' router for a prefix), tried after the VIPs; first match wins. */
    private RouteSlots routes = new RouteSlots();
    private int routeExpiryCursor;
    /** ICMP errors lb may send now, and when the bucket was last topped up (see {@link #timeExceeded}). */
    private int icmpErrorTokens = ICMP_ERROR_BURST;
    private long icmpErrorRefilledAt;
    private int serverMtu = DEFAULT_MTU;
    private boolean rxGso;
    /** Flows with one entry (DSR, IP-in-IP), per family; the others have two. Written only by this worker. */
    private volatile int oneWayFlows;
    private volatile int oneWayFlows6;
    private long now;

    /**
     * @param clientMac MAC of the client-side interface (source of frames toward clients)
     * @param serverMac MAC of the server-side interface (source of frames toward backends)
     * @param clientIp  lb's own client-side address (answers ARP and ping)
     * @param gatewayIp the address the servers route through (answers ARP and ping)
     */
    public PacketPipeline(
        final ServiceTable services,
        final FlowTable flows,
        final DataplaneCounters counters,
        final BackendStatsTable stats,
        final FrameSink toClient,
        final FrameSink toServer,
        final FrameSink toControl,
        final long clientMac,
        final long serverMac,
        final int clientIp,
        final int gatewayIp)
    {
        this.services = services;
        this.flows = flows;
        this.counters = counters;
        this.stats = stats;
        this.toClient = toClient;
        this.toServer = toServer;
        this.toControl = toControl;
        this.clientMac = clientMac;
        this.serverMac = serverMac;
        this.clientIp = clientIp;
        this.gatewayIp = gatewayIp;
        this.table = flows;
        flows.setEvictionListener(this);
    }

    /**
     * Turns the IPv6 path on (before the worker starts): NAT66 and DSR through {@code flows6}, neighbour
     * advertisements and echo replies for lb's IPv6 addresses. Without it IPv6 frames are dropped under IPv6 reasons.
     *
     * @param flows6     the worker's IPv6 flow table ({@link FlowTable#ipv6}).
     * @param aliases    the worker's alias table, filled by its command applier.
     * @param clientIp6  alias of lb's client-side IPv6 address, or 0.
     * @param gatewayIp6 alias of the servers' IPv6 gateway address, or 0.
     */
    public PacketPipeline ipv6(final FlowTable flows6, final Ipv6AliasTable aliases, final int clientIp6, final int gatewayIp6)
    {
        if (!flows6.isIpv6())
        {
            throw new IllegalArgumentException("flows6 must be an IPv6 flow table");
        }
        this.flows6 = flows6;
        this.aliases = aliases;
        this.clientIp6 = clientIp6;
        this.gatewayIp6 = gatewayIp6;
        this.evictedHalfOpen6 = HalfOpenCache.ipv6(HalfOpenCache.DEFAULT_SLOTS);
        flows6.setEvictionListener(this);
        return this;
    }

    /** @return the IPv6 flow table, or null without {@link #ipv6}. */
    public FlowTable flows6()
    {
        return flows6;
    }

    /** Sets the route services, tried in order after the VIPs (before the worker starts). */
    public PacketPipeline routes(final RouteForwarder[] routes)
    {
        return routes(RouteSlots.of(routes));
    }

    /** Sets the worker's route slots, which the command applier changes at runtime (before the worker starts). */
    public PacketPipeline routes(final RouteSlots routes)
    {
        this.routes = routes;
        return this;
    }

    /** @return the first route whose prefix holds the address, or null. */
    private RouteForwarder routeFor(final int address)
    {
        for (final RouteForwarder route : routes.active())
        {
            if (route.matches(address))
            {
                return route;
            }
        }
        return null;
    }

    /**
     * @return the first IPv6 route whose prefix holds the address, or null: a linear scan of at most
     *     {@link RouteSlots#MAX_ROUTES} routes, two masked compares each, no allocation.
     */
    private RouteForwarder routeFor6(final long high, final long low)
    {
        for (final RouteForwarder route : routes.active())
        {
            if (route.matches6(high, low))
            {
                return route;
            }
        }
        return null;
    }

    /**
     * @return the IPv6 route a client's frame goes through: its destination is in a route's prefix and is none of
     *     lb's own addresses or VIP6s (the config keeps them apart; this keeps a runtime change from routing them).
     */
    private RouteForwarder routeOut6(final ParsedFrame p)
    {
        final RouteForwarder route = routeFor6(p.dstHigh, p.dstLow);
        return route == null || isOwnOrVip6(p.dstHigh, p.dstLow) ? null : route;
    }

    /** @return the IPv6 address is one of lb's own or a VIP6: never routed. */
    private boolean isOwnOrVip6(final long high, final long low)
    {
        final int alias = aliases.alias(high, low);
        return alias != Ipv6AliasTable.NONE && (alias == clientIp6 || alias == gatewayIp6 || services.isVip(alias));
    }

    public ServiceTable services()
    {
        return services;
    }

    public FlowTable flows()
    {
        return flows;
    }

    /** Number of flows: a NAT flow holds a forward and a return entry, a one-way flow only its forward entry. */
    public int flowCount()
    {
        return flowCount(flows, oneWayFlows) + flowCount6();
    }

    /** Number of IPv6 flows (counted in {@link #flowCount()} too); 0 without {@link #ipv6}. */
    public int flowCount6()
    {
        return flows6 == null ? 0 : flowCount(flows6, oneWayFlows6);
    }

    private static int flowCount(final FlowTable table, final int oneWay)
    {
        return (table.size() - oneWay) / 2 + oneWay;
    }

    /** One more (+1) or one fewer (-1) one-way flow in {@link #table}'s family. */
    private void countOneWay(final int change)
    {
        if (table.isIpv6())
        {
            oneWayFlows6 = oneWayFlows6 + change;
        }
        else
        {
            oneWayFlows = oneWayFlows + change;
        }
    }

    /**
     * The server-side interface's MTU: an IP-in-IP packet (the client's plus 20 bytes) longer
     * than this is refused, and the client told with ICMP when it set don't-fragment.
     */
    public PacketPipeline serverMtu(final int mtu)
    {
        this.serverMtu = mtu;
        return this;
    }

    // ---------------------------------------------------------------------------------------
    // Batch prefetch
    // ---------------------------------------------------------------------------------------

    private static final int PREFETCH_MIN_LENGTH = 14 + 20 + 4;
    private long prefetchSink;

    /**
     * First pass over a batch: starts loading the flow-table slot of an untagged IPv4 TCP/UDP
     * frame, so that when {@link #onClientFrame}/{@link #onServerFrame} later look it up, the
     * cache miss has already been paid in parallel with the other frames' misses. The key is the
     * frame's own 5-tuple on both sides (forward entries are keyed client to VIP, return entries
     * backend to client). Only reads, and only inside {@code [offset, offset + length)}; any frame
     * it does not understand is simply skipped.
     */
    public void prefetch(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < PREFETCH_MIN_LENGTH ||
            buffer.getShort(offset + EthernetHeader.ETHER_TYPE_OFFSET, ByteOrder.BIG_ENDIAN) != EthernetHeader.ETHER_TYPE_IPV4)
        {
            return;
        }
        final int ip = offset + EthernetHeader.HEADER_LENGTH;
        final int headerLength = (buffer.getByte(ip) & 0x0F) << 2;
        final int protocol = buffer.getByte(ip + 9) & 0xFF;
        if ((protocol != PROTO_TCP && protocol != PROTO_UDP) || headerLength < 20 ||
            EthernetHeader.HEADER_LENGTH + headerLength + 4 > length)
        {
            return;
        }
        final int l4 = ip + headerLength;
        prefetchSink += flows.prefetch(
            buffer.getInt(ip + 12, ByteOrder.BIG_ENDIAN), buffer.getInt(ip + 16, ByteOrder.BIG_ENDIAN),
            buffer.getShort(l4, ByteOrder.BIG_ENDIAN) & 0xFFFF, buffer.getShort(l4 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF,
            protocol);
    }

    /** What the prefetch loads added up to; only so the JIT keeps them. */
    public long prefetchSink()
    {
        return prefetchSink;
    }

    // ---------------------------------------------------------------------------------------
    // Client side
    // ---------------------------------------------------------------------------------------

    /** Handles one frame received on the client-side interface. */
    public void onClientFrame(final MutableDirectBuffer buffer, final int offset, final int length, final int rxFlags,
        final long nowNanos)
    {
        now = nowNanos;
        counters.rxClientFrames.incrementRelease();
        counters.rxClientBytes.getAndAddRelease(length);
        if (!admit(buffer, offset, length, rxFlags))
        {
            return;
        }
        rxGso = (rxFlags & RX_GSO) != 0;
        switch (classify(buffer, offset, length))
        {
            case IPV4_TCP:
            case IPV4_UDP:
                table = flows;
                forward(buffer, offset, length);
                break;
            case ARP:
                answerArp(buffer, offset, length, clientMac, toClient, false);
                break;
            case IPV4_ICMP:
                final RouteForwarder out = routedIcmp(buffer, offset, clientMac, parsed.dstIp);
                if (out != null)
                {
                    routeOut(out, buffer, offset, length);
                    break;
                }
                if (IcmpQuote.isRelayedError(parsed.icmpType) && services.isVip(parsed.dstIp))
                {
                    icmpErrorFromClient(buffer, offset, length);
                    break;
                }
                answerEcho(buffer, offset, length, clientMac, toClient, false);
                break;
            case IPV6_TCP:
            case IPV6_UDP:
                if (useFlows6())
                {
                    forward(buffer, offset, length);
                }
                break;
            case IPV6_ICMP:
                final RouteForwarder out6 = routedEcho6(buffer, offset, clientMac, parsed.dstHigh, parsed.dstLow);
                if (out6 != null)
                {
                    routeOut(out6, buffer, offset, length);
                    break;
                }
                icmp6(buffer, offset, length, clientMac, toClient, false);
                break;
            default:
                counters.drop(parsed.dropReason);
        }
    }

    /** Takes the IPv6 table for the frame in hand; without one (no {@link #ipv6}) the frame is not for lb (counted). */
    private boolean useFlows6()
    {
        if (flows6 == null)
        {
            counters.drop(DropReason.IPV6_NOT_FOR_US);
            return false;
        }
        table = flows6;
        return true;
    }

    private void forward(final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final ParsedFrame p = parsed;
        final boolean ipv6 = table.isIpv6();
        if (dstMac(buffer, offset) != clientMac)
        {
            counters.drop(ipv6 ? DropReason.IPV6_NOT_FOR_US : DropReason.NOT_FOR_US);
            return;
        }
        final Service service = ipv6 ? service6() : services.find(p.dstIp, p.dstPort, p.protocol);
        if (service == null)
        {
            // Not a service: a route's, or lb's own address or a VIP without this port, or not for lb.
            final RouteForwarder route = ipv6 ? routeOut6(p) : services.isVip(p.dstIp) ? null : routeFor(p.dstIp);
            if (route != null)
            {
                routeOut(route, buffer, offset, length);
                return;
            }
            counters.drop(ipv6 ?
                (ownsAddress6(aliases.alias(p.dstHigh, p.dstLow), false) ? DropReason.NO_SERVICE : DropReason.IPV6_NOT_FOR_US) :
                services.isVip(p.dstIp) || p.dstIp == clientIp ? DropReason.NO_SERVICE : DropReason.NOT_FOR_US);
            return;
        }

        final boolean tcp = p.protocol == PROTO_TCP;
        final boolean syn = tcp && (p.tcpFlags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
        boolean recovered = false;
        int slot = findOwnKey();
        if (slot >= 0)
        {
            final BackendPool pool = service.pool();
            final int handle = table.backendId(slot);
            if (!pool.canCarryFlows(handle) || table.serviceId(slot) != service.ref())
            {
                counters.flowsRepicked.incrementRelease();
                slot = replaceFlow(slot, service, buffer, offset);
            }
            else if (syn && table.tcpState(slot) == FlowTable.TCP_CLOSING)
            {
                // The client reuses a port of a finished connection: a new connection, a new pick.
                slot = replaceFlow(slot, service, buffer, offset);
            }
        }
        else if (tcp && !syn)
        {
            final int remembered = takeHalfOpen(service.ref());
            if (remembered != HalfOpenCache.NONE && service.pool().canCarryFlows(remembered))
            {
                // The handshake outlived its evicted entry: the client's ACK goes to the backend that
                // answered its SYN (the SYN-ACK the client acknowledges came from there).
                slot = createFlow(service, remembered, buffer, offset, FlowTable.TCP_SYN_SEEN);
                if (slot >= 0)
                {
                    counters.flowsRestored.incrementRelease();
                }
            }
            else if (!service.recoversFlows())
            {
                counters.drop(DropReason.NO_FLOW);
                return;
            }
            // Another instance carried this connection (or this one, before a restart): the
            // consistent hash names the backend it was on, and the flow carries on there. It
            // counts as established from its second segment only: a flood of lone ACKs from
            // random sources must not fill the table with entries a full table may not evict.
            else
            {
                slot = createFlow(service, buffer, offset, FlowTable.TCP_SYN_SEEN);
                if (slot >= 0)
                {
                    counters.flowsRecovered.incrementRelease();
                    recovered = true;
                }
            }
        }
        else
        {
            if (tcp)
            {
                // A new connection on this key: what an evicted earlier attempt left in the cache no longer holds.
                takeHalfOpen(service.ref());
            }
            slot = createFlow(service, buffer, offset, tcp ? FlowTable.TCP_SYN_SEEN : FlowTable.TCP_NONE);
        }
        if (slot < 0)
        {
            return;
        }

        if (tcp && (!recovered || (p.tcpFlags & (TCP_FIN | TCP_RST)) != 0))
        {
            trackForwardTcp(slot, p.tcpFlags);
        }
        table.touch(slot, now, length);

        final BackendPool pool = service.pool();
        final int backend = table.backendId(slot);
        switch (service.mode())
        {
            case DSR:
                DsrRewrite.apply(buffer, p, serverMac, pool.mac(backend));
                if (send(toServer, buffer, offset, length, counters.txServerFrames, counters.txServerBytes))
                {
                    stats.countFrame(service.id(), backend, length);
                }
                break;
            case IPIP:
                tunnel(buffer, service, pool, backend);
                break;
            default:
                final int backendAddress = ipv6 ? aliases.indexOf(pool.ip(backend)) : -1;
                final boolean rewritten = ipv6 ?
                    Nat66Rewrite.towardBackend(buffer, p, serverMac, pool.mac(backend), aliases.highAt(backendAddress),
                        aliases.lowAt(backendAddress), service.backendPort(backend)) :
                    forwardNat.apply(buffer, p, serverMac, pool.mac(backend), pool.ip(backend), service.backendPort(backend));
                if (!rewritten)
                {
                    counters.drop(p.dropReason);
                    if (p.dropReason == DropReason.TTL_EXCEEDED)
                    {
                        timeExceeded(buffer, clientMac, clientIp, toClient);
                    }
                    else if (p.dropReason == DropReason.HOP_LIMIT_EXCEEDED)
                    {
                        timeExceeded6(buffer, clientMac, clientIp6, toClient);
                    }
                    return;
                }
                if (send(toServer, buffer, offset, length, counters.txServerFrames, counters.txServerBytes))
                {
                    stats.countFrame(service.id(), backend, length);
                }
        }
    }

    /**
     * IP-in-IP (IPv4 in IPv4, or IPv6 in IPv6 for an IPv6 service): the client's packet inside an
     * outer header to the backend. A packet that would not fit the server-side MTU with the extra
     * header (20 or 40 bytes) is refused (lb does not fragment), and the client hears of the MTU
     * it can use, as from any tunnel router, so its path MTU discovery settles on a size that
     * fits: for IPv4 ICMP fragmentation-needed with MTU - 20 when the packet has don't-fragment
     * set; for IPv6, which has no such bit (routers never fragment), always ICMPv6 packet too big
     * with MTU - 40 (rate-limited like time exceeded). lb cannot clamp the MSS instead: the
     * backend's SYN-ACK, which carries the MSS the client will use, goes to the client directly.
     */
    private boolean tunnel(final MutableDirectBuffer buffer, final Service service, final BackendPool pool, final int backend)
    {
        final ParsedFrame p = parsed;
        final boolean ipv6 = p.etherType == Ipv6Header.ETHER_TYPE_IPV6;
        if (rxGso)
        {
            counters.drop(DropReason.TUNNEL_GSO);
            return false;
        }
        if ((ipv6 ? Ip6Ip6Encap.outerLength(p) : IpipEncap.outerLength(p)) > serverMtu)
        {
            counters.drop(DropReason.TUNNEL_TOO_BIG);
            if (ipv6)
            {
                packetTooBig(buffer, serverMtu - Ip6Ip6Encap.OVERHEAD);
            }
            else if (IpipEncap.dontFragment(buffer, p) && IcmpHeader.mayAnswerWithError(p))
            {
                final int errorLength = IcmpHeader.writeFragmentationNeeded(
                    scratch, 0, buffer, p, clientMac, clientIp, serverMtu - IpipEncap.OVERHEAD);
                if (toClient.send(scratch, 0, errorLength))
                {
                    counters.icmpFragNeededSent.incrementRelease();
                }
            }
            return false;
        }
        final int length;
        final int innerOffset;
        if (ipv6)
        {
            final int gateway = aliases.indexOf(gatewayIp6);
            final int backendAddress = aliases.indexOf(pool.ip(backend));
            length = Ip6Ip6Encap.apply(buffer, p, scratch, 0, serverMac, pool.mac(backend), aliases.highAt(gateway),
                aliases.lowAt(gateway), aliases.highAt(backendAddress), aliases.lowAt(backendAddress));
            innerOffset = Ip6Ip6Encap.INNER_OFFSET;
        }
        else
        {
            length = IpipEncap.apply(buffer, p, scratch, 0, serverMac, pool.mac(backend), gatewayIp, pool.ip(backend));
            innerOffset = IpipEncap.INNER_OFFSET;
        }
        if (toServer.forwardShifted(scratch, 0, length, innerOffset - (p.l3Offset - p.frameOffset)))
        {
            counters.txServerFrames.incrementRelease();
            counters.txServerBytes.getAndAddRelease(length);
            stats.countFrame(service.id(), backend, length);
            return true;
        }
        counters.drop(toServer.lastRefusal());
        return false;
    }

    /**
     * ICMPv6 packet too big (RFC 4443 section 3.2) to the source of the IPv6 packet in hand, from
     * lb's client-ip6, with the MTU it may use toward the VIP, quoting the packet up to the 1280-byte
     * minimum MTU. Never about an ICMPv6 error (nor to or from multicast), and within the ICMP error
     * budget of {@link #timeExceeded}, so a flood of big packets cannot turn lb into a reflector.
     */
    private void packetTooBig(final MutableDirectBuffer buffer, final int mtu)
    {
        final ParsedFrame p = parsed;
        if (!Icmpv6Header.mayAnswerWithError6(p) || !takeIcmpErrorToken())
        {
            return;
        }
        final int own = aliases.indexOf(clientIp6);
        final int errorLength = Icmpv6Header.writeErrorFrame(scratch, 0, buffer, p, clientMac, aliases.highAt(own),
            aliases.lowAt(own), Icmpv6Header.TYPE_PACKET_TOO_BIG, CODE_PACKET_TOO_BIG, mtu);
        if (toClient.send(scratch, 0, errorLength))
        {
            counters.icmp6PacketTooBigSent.incrementRelease();
        }
    }

    /**
     * Picks a backend and inserts the entries of a new flow (both for NAT, the forward one alone
     * for a one-way mode); returns the forward slot or -1 (counted).
     *
     * @param state the TCP state the flow starts in (TCP_NONE for UDP)
     */
    private int createFlow(final Service service, final MutableDirectBuffer buffer, final int offset, final int state)
    {
        final ParsedFrame p = parsed;
        final int handle = table.isIpv6() ?
            service.scheduler().pick(clientFold6(p.srcHigh, p.srcLow),
                FlowTable.hash6(p.srcHigh, p.srcLow, p.dstHigh, p.dstLow, p.srcPort, p.dstPort, p.protocol)) :
            service.scheduler().pick(p.srcIp, FlowTable.hash(p.srcIp, p.dstIp, p.srcPort, p.dstPort, p.protocol));
        if (handle < 0)
        {
            counters.drop(DropReason.NO_BACKEND);
            return -1;
        }
        return createFlow(service, handle, buffer, offset, state);
    }

    /** Inserts the entries of a new flow to this backend; returns the forward slot or -1 (counted). */
    private int createFlow(final Service service, final int handle, final MutableDirectBuffer buffer, final int offset,
        final int state)
    {
        final ParsedFrame p = parsed;
        final BackendPool pool = service.pool();
        final int backendIp = pool.ip(handle);
        final int backendPort = service.backendPort(handle);
        final long peerMac = EthernetHeader.getMac(buffer, offset + EthernetHeader.SOURCE_OFFSET);
        if (table.isIpv6() && !aliases.contains(backendIp))
        {
            // An IPv6 service's backend must be an alias this worker knows (ADD_ADDRESS6 comes first): never write ::.
            counters.drop(DropReason.NO_BACKEND);
            return -1;
        }

        if (service.mode().oneWay())
        {
            // The backend answers the client directly: no return key to reserve, nothing to translate back.
            final int fwd = insertOwnKey();
            if (fwd < 0)
            {
                counters.drop(DropReason.FLOW_TABLE_FULL);
                return -1;
            }
            fillForward(fwd, service, handle, backendIp, backendPort, peerMac, state);
            table.setOneWay(fwd);
            countOneWay(1);
            return started(service, handle, fwd);
        }

        if (findReturnKey(backendIp, backendPort) >= 0)
        {
            // The same client endpoint already talks to this backend endpoint through another
            // service: the backend's replies would be indistinguishable. Refuse; a retransmitted
            // SYN gets a new pick.
            counters.drop(DropReason.RETURN_KEY_IN_USE);
            return -1;
        }
        final int ret = insertReturnKey(backendIp, backendPort);
        if (ret < 0)
        {
            counters.drop(DropReason.FLOW_TABLE_FULL);
            return -1;
        }
        table.setServiceId(ret, service.ref());
        table.setBackendId(ret, handle);
        table.setNatIp(ret, service.vip());
        table.setNatPort(ret, service.port());
        table.setPeerMac(ret, peerMac);
        table.setReturnDirection(ret, true);
        table.setTcpState(ret, state);

        final long evictionsBefore = table.evictions();
        final int fwd = insertOwnKey();
        if (fwd < 0)
        {
            removeReturnKey(backendIp, backendPort);
            counters.drop(DropReason.FLOW_TABLE_FULL);
            return -1;
        }
        if (table.evictions() != evictionsBefore && findReturnKey(backendIp, backendPort) < 0)
        {
            // The forward entry's room was the flow's own new return entry (half-open, so evictable, and maybe the
            // only such entry near the key): no room for both.
            removeOwnKey();
            counters.drop(DropReason.FLOW_TABLE_FULL);
            return -1;
        }
        fillForward(fwd, service, handle, backendIp, backendPort, peerMac, state);
        return started(service, handle, fwd);
    }

    private void fillForward(final int fwd, final Service service, final int handle, final int backendIp,
        final int backendPort, final long peerMac, final int state)
    {
        table.setServiceId(fwd, service.ref());
        table.setBackendId(fwd, handle);
        table.setNatIp(fwd, backendIp);
        table.setNatPort(fwd, backendPort);
        table.setPeerMac(fwd, peerMac);
        table.setReturnDirection(fwd, false);
        table.setTcpState(fwd, state);
    }

    /** Counts a new flow on its backend; returns its forward slot. */
    private int started(final Service service, final int handle, final int fwd)
    {
        final BackendPool pool = service.pool();
        pool.incrementActive(handle);
        stats.flowStarted(service.id(), handle, pool.activeFlows(handle));
        counters.flowsCreated.incrementRelease();
        return fwd;
    }

    /** Ends the flow at forward slot {@code fwd} and starts a new one for the same key. */
    private int replaceFlow(final int fwd, final Service service, final MutableDirectBuffer buffer, final int offset)
    {
        final ParsedFrame p = parsed;
        releaseFlow(fwd);
        if (table.isOneWay(fwd))
        {
            countOneWay(-1);
        }
        else
        {
            // Removing by key: each removal may shift entries, so slots are not reused across it.
            removeReturnKey(table.natIp(fwd), table.natPort(fwd));
        }
        removeOwnKey();
        return createFlow(service, buffer, offset, p.protocol == PROTO_TCP ? FlowTable.TCP_SYN_SEEN : FlowTable.TCP_NONE);
    }

    /** Gives back the backend's active-flow count of a forward entry, once per flow. */
    private void releaseFlow(final int fwd)
    {
        if (table.tcpState(fwd) != FlowTable.TCP_CLOSING)
        {
            final Service service = services.byRef(table.serviceId(fwd));
            final int handle = table.backendId(fwd);
            if (service != null && service.pool().decrementActive(handle))
            {
                stats.flowEnded(service.id(), handle, service.pool().activeFlows(handle));
            }
        }
    }

    /**
     * TCP state from a client segment. A connection ends with an RST or once both sides sent a
     * FIN: a half-closed connection (one FIN) still carries data the other way, so it stays
     * established, counts for least connections and keeps a deleted backend.
     */
    private void trackForwardTcp(final int fwd, final int tcpFlags)
    {
        if ((tcpFlags & TCP_RST) != 0)
        {
            close(fwd, -1);
        }
        else if ((tcpFlags & TCP_FIN) != 0)
        {
            table.setFinSeen(fwd);
            if (table.isOneWay(fwd))
            {
                // lb never sees the backend's FIN: the client's ends the flow (IPVS-DR does the
                // same). It stays in the table on the closing timer, so the last ACKs still pass.
                close(fwd, -1);
                return;
            }
            final int ret = returnSlotOf(fwd);
            if (ret >= 0 && table.isFinSeen(ret))
            {
                close(fwd, ret);
            }
        }
        else if ((tcpFlags & TCP_ACK) != 0 && table.tcpState(fwd) == FlowTable.TCP_SYN_SEEN)
        {
            table.setTcpState(fwd, FlowTable.TCP_ESTABLISHED);
            final int ret = returnSlotOf(fwd);
            if (ret >= 0)
            {
                table.setTcpState(ret, FlowTable.TCP_ESTABLISHED);
            }
        }
    }

    /** TCP state from a backend segment: the same rules as {@link #trackForwardTcp}. */
    private void trackReturnTcp(final int ret, final int tcpFlags)
    {
        if ((tcpFlags & (TCP_FIN | TCP_RST)) == 0)
        {
            return;
        }
        if ((tcpFlags & TCP_FIN) != 0)
        {
            table.setFinSeen(ret);
        }
        final int fwd = forwardSlotOf(ret);
        if (fwd >= 0 && ((tcpFlags & TCP_RST) != 0 || table.isFinSeen(fwd)))
        {
            close(fwd, ret);
        }
    }

    /** The connection ended (RST, or FIN both ways): both entries go to CLOSING and the backend's active count drops once. */
    private void close(final int fwd, final int knownReturnSlot)
    {
        if (table.tcpState(fwd) == FlowTable.TCP_CLOSING)
        {
            return;
        }
        releaseFlow(fwd);
        table.setTcpState(fwd, FlowTable.TCP_CLOSING);
        final int ret = knownReturnSlot >= 0 ? knownReturnSlot : returnSlotOf(fwd);
        if (ret >= 0)
        {
            table.setTcpState(ret, FlowTable.TCP_CLOSING);
        }
        counters.flowsClosed.incrementRelease();
    }

    /** The return entry of a NAT flow's forward entry, or -1 (always for a one-way flow). */
    private int returnSlotOf(final int fwd)
    {
        if (table.isOneWay(fwd))
        {
            return -1;
        }
        final int nat = table.natIp(fwd);
        if (table.isIpv6())
        {
            final int address = aliases.indexOf(nat);
            return table.find6(aliases.highAt(address), aliases.lowAt(address), table.srcHigh(fwd), table.srcLow(fwd),
                table.natPort(fwd), table.srcPort(fwd), table.protocol(fwd));
        }
        return table.find(nat, table.srcIp(fwd), table.natPort(fwd), table.srcPort(fwd), table.protocol(fwd));
    }

    private int forwardSlotOf(final int ret)
    {
        final int nat = table.natIp(ret);
        if (table.isIpv6())
        {
            final int address = aliases.indexOf(nat);
            return table.find6(table.dstHigh(ret), table.dstLow(ret), aliases.highAt(address), aliases.lowAt(address),
                table.dstPort(ret), table.natPort(ret), table.protocol(ret));
        }
        return table.find(table.dstIp(ret), nat, table.dstPort(ret), table.natPort(ret), table.protocol(ret));
    }

    // --- The family's keys of the frame in hand: its own (client -> VIP, or backend -> client), and the return key
    // (backend -> client) a new NAT flow reserves. An IPv6 backend is named by its alias.

    private int findOwnKey()
    {
        final ParsedFrame p = parsed;
        return table.isIpv6() ?
            table.find6(p.srcHigh, p.srcLow, p.dstHigh, p.dstLow, p.srcPort, p.dstPort, p.protocol) :
            table.find(p.srcIp, p.dstIp, p.srcPort, p.dstPort, p.protocol);
    }

    private int insertOwnKey()
    {
        final ParsedFrame p = parsed;
        return table.isIpv6() ?
            table.insert6(p.srcHigh, p.srcLow, p.dstHigh, p.dstLow, p.srcPort, p.dstPort, p.protocol, now) :
            table.insert(p.srcIp, p.dstIp, p.srcPort, p.dstPort, p.protocol, now);
    }

    private void removeOwnKey()
    {
        final ParsedFrame p = parsed;
        if (table.isIpv6())
        {
            table.remove6(p.srcHigh, p.srcLow, p.dstHigh, p.dstLow, p.srcPort, p.dstPort, p.protocol);
        }
        else
        {
            table.remove(p.srcIp, p.dstIp, p.srcPort, p.dstPort, p.protocol);
        }
    }

    private int findReturnKey(final int backend, final int backendPort)
    {
        final ParsedFrame p = parsed;
        if (table.isIpv6())
        {
            final int address = aliases.indexOf(backend);
            return table.find6(aliases.highAt(address), aliases.lowAt(address), p.srcHigh, p.srcLow, backendPort, p.srcPort,
                p.protocol);
        }
        return table.find(backend, p.srcIp, backendPort, p.srcPort, p.protocol);
    }

    private int insertReturnKey(final int backend, final int backendPort)
    {
        final ParsedFrame p = parsed;
        if (table.isIpv6())
        {
            final int address = aliases.indexOf(backend);
            return table.insert6(aliases.highAt(address), aliases.lowAt(address), p.srcHigh, p.srcLow, backendPort,
                p.srcPort, p.protocol, now);
        }
        return table.insert(backend, p.srcIp, backendPort, p.srcPort, p.protocol, now);
    }

    private void removeReturnKey(final int backend, final int backendPort)
    {
        final ParsedFrame p = parsed;
        if (table.isIpv6())
        {
            final int address = aliases.indexOf(backend);
            table.remove6(aliases.highAt(address), aliases.lowAt(address), p.srcHigh, p.srcLow, backendPort, p.srcPort,
                p.protocol);
        }
        else
        {
            table.remove(backend, p.srcIp, backendPort, p.srcPort, p.protocol);
        }
    }

    private int takeHalfOpen(final int serviceRef)
    {
        final ParsedFrame p = parsed;
        return table.isIpv6() ?
            evictedHalfOpen6.take6(p.srcHigh, p.srcLow, p.dstHigh, p.dstLow, p.srcPort, p.dstPort, p.protocol, serviceRef) :
            evictedHalfOpen.take(p.srcIp, p.dstIp, p.srcPort, p.dstPort, p.protocol, serviceRef);
    }

    /** The scheduler's client address for IPv6: the 128 bits folded to 32 (source hashing keeps one client on one backend). */
    static int clientFold6(final long high, final long low)
    {
        final long folded = high ^ low;
        return (int)(folded >>> 32) ^ (int)folded;
    }

    /**
     * The service an IPv6 frame is for, by the alias of its destination, or null: no alias or no service on it. Every
     * mode serves IPv6: nat (NAT66), dsr and ipip (IPv6 in IPv6).
     */
    private Service service6()
    {
        final ParsedFrame p = parsed;
        final int vip = aliases.alias(p.dstHigh, p.dstLow);
        return vip == Ipv6AliasTable.NONE ? null : services.find(vip, p.dstPort, p.protocol);
    }

    // ---------------------------------------------------------------------------------------
    // Server side
    // ---------------------------------------------------------------------------------------

    /** Handles one frame received on the server-side interface. */
    public void onServerFrame(final MutableDirectBuffer buffer, final int offset, final int length, final int rxFlags,
        final long nowNanos)
    {
        now = nowNanos;
        counters.rxServerFrames.incrementRelease();
        counters.rxServerBytes.getAndAddRelease(length);
        if (!admit(buffer, offset, length, rxFlags))
        {
            return;
        }
        switch (classify(buffer, offset, length))
        {
            case IPV4_TCP:
                if (parsed.dstIp == gatewayIp && TcpCheckFrames.isCheckPort(parsed.dstPort))
                {
                    checkReplyToControl(buffer, offset, length);
                    break;
                }
                table = flows;
                reverse(buffer, offset, length);
                break;
            case IPV4_UDP:
                table = flows;
                reverse(buffer, offset, length);
                break;
            case ARP:
                // Backends' ARP replies (and requests) carry their MACs: the control thread learns them.
                if (toControl.send(buffer, offset, length))
                {
                    counters.arpToControl.incrementRelease();
                }
                else
                {
                    counters.drop(DropReason.CONTROL_RING_FULL);
                }
                answerArp(buffer, offset, length, serverMac, toServer, true);
                break;
            case IPV4_ICMP:
                final RouteForwarder back = routedIcmp(buffer, offset, serverMac, parsed.srcIp);
                if (back != null)
                {
                    routeBack(back, buffer, offset, length);
                    break;
                }
                if (IcmpQuote.isRelayedError(parsed.icmpType) && parsed.dstIp != gatewayIp)
                {
                    icmpErrorFromServer(buffer, offset, length);
                    break;
                }
                answerEcho(buffer, offset, length, serverMac, toServer, true);
                break;
            case IPV6_TCP:
                if (isCheckReply6())
                {
                    checkReplyToControl(buffer, offset, length);
                }
                else if (useFlows6())
                {
                    reverse(buffer, offset, length);
                }
                break;
            case IPV6_UDP:
                if (useFlows6())
                {
                    reverse(buffer, offset, length);
                }
                break;
            case IPV6_ICMP:
                final RouteForwarder back6 = routedEcho6(buffer, offset, serverMac, parsed.srcHigh, parsed.srcLow);
                if (back6 != null)
                {
                    routeBack(back6, buffer, offset, length);
                    break;
                }
                icmp6(buffer, offset, length, serverMac, toServer, true);
                break;
            default:
                counters.drop(parsed.dropReason);
        }
    }

    /**
     * A backend's answer (SYN-ACK or RST) to one of the control thread's TCP health checks: they
     * go from the gateway address and a port of {@link TcpCheckFrames}' range, which no flow uses.
     */
    private void checkReplyToControl(final MutableDirectBuffer buffer, final int offset, final int length)
    {
        if (dstMac(buffer, offset) != serverMac)
        {
            counters.drop(DropReason.NOT_FOR_US);
        }
        else if (toControl.send(buffer, offset, length))
        {
            counters.healthCheckRepliesToControl.incrementRelease();
        }
        else
        {
            counters.drop(DropReason.CONTROL_RING_FULL);
        }
    }

    /**
     * Whether the IPv6 TCP frame in hand is to gateway-ip6 and a check port: the port compares first, so a flow's
     * frame costs two compares and no alias lookup.
     */
    private boolean isCheckReply6()
    {
        return TcpCheckFrames.isCheckPort(parsed.dstPort) && gatewayIp6 != Ipv6AliasTable.NONE &&
            aliases.alias(parsed.dstHigh, parsed.dstLow) == gatewayIp6;
    }

    private void reverse(final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final ParsedFrame p = parsed;
        final boolean ipv6 = table.isIpv6();
        if (dstMac(buffer, offset) != serverMac)
        {
            counters.drop(ipv6 ? DropReason.IPV6_NOT_FOR_US : DropReason.NOT_FOR_US);
            return;
        }
        final int ret = findOwnKey();
        if (ret < 0)
        {
            final RouteForwarder route = ipv6 ? routeFor6(p.srcHigh, p.srcLow) : routeFor(p.srcIp);
            if (route != null)
            {
                routeBack(route, buffer, offset, length);
                return;
            }
            counters.drop(DropReason.NO_FLOW);
            return;
        }
        final Service service = services.byRef(table.serviceId(ret));
        if (service == null || !service.pool().canCarryFlows(table.backendId(ret)))
        {
            counters.drop(DropReason.NO_BACKEND);
            return;
        }
        if (p.protocol == PROTO_TCP)
        {
            trackReturnTcp(ret, p.tcpFlags);
        }
        table.touch(ret, now, length);
        final int vip = table.natIp(ret);
        final int vipAddress = ipv6 ? aliases.indexOf(vip) : -1;
        final boolean rewritten = ipv6 ?
            Nat66Rewrite.towardClient(buffer, p, clientMac, table.peerMac(ret), aliases.highAt(vipAddress),
                aliases.lowAt(vipAddress), table.natPort(ret)) :
            returnNat.apply(buffer, p, clientMac, table.peerMac(ret), vip, table.natPort(ret));
        if (!rewritten)
        {
            counters.drop(p.dropReason);
            if (p.dropReason == DropReason.TTL_EXCEEDED)
            {
                timeExceeded(buffer, serverMac, gatewayIp, toServer);
            }
            else if (p.dropReason == DropReason.HOP_LIMIT_EXCEEDED)
            {
                timeExceeded6(buffer, serverMac, gatewayIp6, toServer);
            }
            return;
        }
        if (send(toClient, buffer, offset, length, counters.txClientFrames, counters.txClientBytes))
        {
            stats.countFrame(service.id(), table.backendId(ret), length);
        }
    }

    // ---------------------------------------------------------------------------------------
    // ICMPv6: neighbour discovery (IPv6's ARP), echo for lb's own IPv6 addresses, errors about flows
    // ---------------------------------------------------------------------------------------

    /** High 64 bits of ff02::1, all nodes: where an advertisement answering duplicate address detection goes. */
    private static final long ALL_NODES_HIGH = 0xFF02_0000_0000_0000L;
    private static final long ALL_NODES_LOW = 1;

    /**
     * An ICMPv6 message on either side. Client side: a neighbour solicitation for a VIP or lb's client-side address
     * is answered, as ARP is. Server side: backends' advertisements, and their solicitations for the gateway address,
     * go to the control thread (its NDP probes learn the backends' MACs from them), and a solicitation for the gateway
     * is answered too. Echo requests to those addresses are answered; errors about flows are relayed
     * ({@link #icmp6ErrorFromClient}, {@link #icmp6ErrorFromServer}); the rest is dropped by name.
     */
    private void icmp6(final MutableDirectBuffer buffer, final int offset, final int length, final long ownMac,
        final FrameSink out, final boolean serverSide)
    {
        final ParsedFrame p = parsed;
        final int type = p.icmpType;
        if (type == Icmpv6Header.TYPE_NEIGHBOR_SOLICITATION || type == Icmpv6Header.TYPE_NEIGHBOR_ADVERTISEMENT)
        {
            neighbor(buffer, offset, length, ownMac, out, serverSide);
            return;
        }
        if (type == Icmpv6Header.TYPE_ROUTER_SOLICITATION || type == Icmpv6Header.TYPE_ROUTER_ADVERTISEMENT ||
            type == Icmpv6Header.TYPE_REDIRECT)
        {
            counters.drop(DropReason.NDP_NOT_FOR_US);
            return;
        }
        final int destination = aliases.alias(p.dstHigh, p.dstLow);
        if (Icmpv6Quote.isRelayedError(type) && flows6 != null)
        {
            // As for IPv4: to a VIP from the client side, to anyone but lb from the server side (a client).
            if (serverSide && destination != gatewayIp6)
            {
                icmp6ErrorFromServer(buffer, offset, length);
                return;
            }
            if (!serverSide && destination != Ipv6AliasTable.NONE && services.isVip(destination))
            {
                icmp6ErrorFromClient(buffer, offset, length);
                return;
            }
        }
        if (!ownsAddress6(destination, serverSide) || dstMac(buffer, offset) != ownMac)
        {
            counters.drop(DropReason.IPV6_NOT_FOR_US);
            return;
        }
        if (type != Icmpv6Header.TYPE_ECHO_REQUEST)
        {
            counters.drop(DropReason.UNSUPPORTED_ICMPV6);
            return;
        }
        if (!Checksums.ipv6L4ChecksumValid(buffer, p.l3Offset, p.l4Offset, p.l4Length, Icmpv6Header.PROTOCOL_ICMPV6))
        {
            counters.drop(DropReason.BAD_ICMPV6_CHECKSUM);
            return;
        }
        // Built apart (not in place): the reply carries none of the request's extension headers.
        final int replyLength = Icmpv6Header.writeEchoFrame(scratch, 0,
            EthernetHeader.getMac(buffer, offset + EthernetHeader.SOURCE_OFFSET), ownMac, p.dstHigh, p.dstLow, p.srcHigh,
            p.srcLow, Icmpv6Header.TYPE_ECHO_REPLY,
            buffer.getShort(p.l4Offset + Icmpv6Header.IDENTIFIER_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF,
            buffer.getShort(p.l4Offset + Icmpv6Header.SEQUENCE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF,
            buffer, p.l4Offset + Icmpv6Header.HEADER_LENGTH, p.l4Length - Icmpv6Header.HEADER_LENGTH);
        if (out.send(scratch, 0, replyLength))
        {
            counters.icmpEchoReplies.incrementRelease();
        }
        else
        {
            counters.drop(out.lastRefusal());
        }
    }

    /** Whether lb answers for an IPv6 address (by alias) on this side: the gateway, or lb's client address and the VIPs. */
    private boolean ownsAddress6(final int alias, final boolean serverSide)
    {
        if (alias == Ipv6AliasTable.NONE)
        {
            return false;
        }
        return serverSide ? alias == gatewayIp6 : alias == clientIp6 || services.isVip(alias);
    }

    private void neighbor(final MutableDirectBuffer buffer, final int offset, final int length, final long ownMac,
        final FrameSink out, final boolean serverSide)
    {
        final ParsedFrame p = parsed;
        final NeighborDiscovery nd = neighbor;
        if (nd.parse(buffer, p.l3Offset, p.l4Offset, p.l4Length) != NeighborDiscovery.Outcome.VALID)
        {
            counters.drop(DropReason.BAD_NDP);
            return;
        }
        final long frameDestination = dstMac(buffer, offset);
        if (frameDestination != ownMac &&
            (frameDestination & ~0xFFFF_FFFFL) != NeighborDiscovery.IPV6_MULTICAST_MAC_PREFIX)
        {
            counters.drop(DropReason.IPV6_NOT_FOR_US);
            return;
        }
        final boolean solicitation = nd.type == Icmpv6Header.TYPE_NEIGHBOR_SOLICITATION;
        final boolean owned = solicitation && ownsAddress6(aliases.alias(nd.targetHigh, nd.targetLow), serverSide);
        if (serverSide && (owned || !solicitation))
        {
            // Backends' advertisements (and solicitations for the gateway) carry their MACs: the control thread learns them.
            if (toControl.send(buffer, offset, length))
            {
                counters.ndpToControl.incrementRelease();
            }
            else
            {
                counters.drop(DropReason.CONTROL_RING_FULL);
            }
        }
        else if (!owned)
        {
            counters.drop(DropReason.NDP_NOT_FOR_US);
        }
        if (owned)
        {
            advertise(buffer, offset, ownMac, out, serverSide);
        }
    }

    /**
     * The advertisement answering the solicitation in hand (RFC 4861 section 7.2.4): solicited and override, to the
     * solicitor, or, for duplicate address detection (from ::), unsolicited to all nodes; target option lb's MAC.
     */
    private void advertise(final MutableDirectBuffer buffer, final int offset, final long ownMac, final FrameSink out,
        final boolean serverSide)
    {
        final ParsedFrame p = parsed;
        final NeighborDiscovery nd = neighbor;
        final boolean fromUnspecified = p.srcHigh == 0 && p.srcLow == 0;
        final long toMac = nd.linkLayerAddress != NeighborDiscovery.NO_LINK_LAYER_ADDRESS ? nd.linkLayerAddress :
            fromUnspecified ? NeighborDiscovery.multicastMac(ALL_NODES_LOW) :
            EthernetHeader.getMac(buffer, offset + EthernetHeader.SOURCE_OFFSET);
        final int flags = fromUnspecified ? NeighborDiscovery.FLAG_OVERRIDE :
            NeighborDiscovery.FLAG_SOLICITED | NeighborDiscovery.FLAG_OVERRIDE;
        final int replyLength = NeighborDiscovery.writeAdvertisement(scratch, 0, toMac, ownMac, nd.targetHigh, nd.targetLow,
            fromUnspecified ? ALL_NODES_HIGH : p.srcHigh, fromUnspecified ? ALL_NODES_LOW : p.srcLow, nd.targetHigh,
            nd.targetLow, flags);
        if (out.send(scratch, 0, replyLength))
        {
            (serverSide ? counters.gatewayNdpAdvertisements : counters.ndpAdvertisements).incrementRelease();
        }
        else if (!serverSide)
        {
            counters.drop(out.lastRefusal());
        }
        else
        {
            // The solicitation went to the control thread already: it is not lost, only unanswered.
            counters.gatewayRepliesRefused.incrementRelease();
        }
    }

    // ---------------------------------------------------------------------------------------
    // ICMP errors about flows (as IPVS relays them)
    // ---------------------------------------------------------------------------------------

    /**
     * An ICMP error to a VIP: a router or client says a packet lb sent toward a client, VIP:vport
     * -> client:cport, could not be delivered (fragmentation needed: the path MTU discovery of the
     * backend's TCP depends on it), expired, or was refused. It belongs to the flow whose forward
     * key is that packet's reverse, and goes to the flow's backend the way the flow's own packets
     * do: NAT translates it like them ({@link IcmpErrorNat#towardBackend}); DSR only changes the
     * MACs (the backend holds the VIP, so the error is already addressed to it); IP-in-IP tunnels
     * it (IPVS sends it with the connection's own transmitter the same way). The flow is not
     * touched: an error keeps nothing alive.
     */
    private void icmpErrorFromClient(final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final IcmpQuote q = quote;
        if (!admitIcmpError(buffer, offset, clientMac))
        {
            return;
        }
        final int fwd = flows.find(q.dstIp, q.srcIp, q.dstPort, q.srcPort, q.protocol);
        if (fwd < 0 || flows.isReturnDirection(fwd))
        {
            counters.drop(DropReason.ICMP_ERROR_NO_FLOW);
            return;
        }
        final Service service = serviceCarrying(flows, fwd);
        if (service == null)
        {
            return;
        }
        final int backend = flows.backendId(fwd);
        final BackendPool pool = service.pool();
        final boolean sent;
        switch (service.mode())
        {
            case DSR:
                DsrRewrite.apply(buffer, parsed, serverMac, pool.mac(backend));
                sent = send(toServer, buffer, offset, length, counters.txServerFrames, counters.txServerBytes);
                break;
            case IPIP:
                sent = tunnel(buffer, service, pool, backend);
                break;
            default:
                if (!IcmpErrorNat.towardBackend(buffer, parsed, q, serverMac, pool.mac(backend), flows.natIp(fwd),
                    flows.natPort(fwd)))
                {
                    counters.drop(parsed.dropReason);
                    return;
                }
                sent = send(toServer, buffer, offset, length, counters.txServerFrames, counters.txServerBytes);
        }
        if (sent)
        {
            counters.icmpErrorsForwardedToServer.incrementRelease();
        }
    }

    /** The service of an ICMP error's flow, whose backend still carries it, or null (counted: the backend was deleted or is out). */
    private Service serviceCarrying(final FlowTable table, final int fwd)
    {
        final Service service = services.byRef(table.serviceId(fwd));
        if (service == null || !service.pool().canCarryFlows(table.backendId(fwd)))
        {
            counters.drop(DropReason.NO_BACKEND);
            return null;
        }
        return service;
    }

    /**
     * An ICMP error from the server side to a client: a backend (or a router on that side) says a
     * packet lb sent it, client:cport -> backend:bport, was refused (port unreachable for UDP),
     * expired or did not fit. It belongs to the NAT flow whose return key is that packet's
     * reverse and goes to the client from the VIP, quoting the packet the client sent
     * ({@link IcmpErrorNat#towardClient}). One-way flows have no return entry: their packets to
     * the backend pass lb, but its errors about them go to the client directly (from the VIP it
     * holds), not through lb.
     */
    private void icmpErrorFromServer(final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final IcmpQuote q = quote;
        if (!admitIcmpError(buffer, offset, serverMac))
        {
            return;
        }
        final int ret = flows.find(q.dstIp, q.srcIp, q.dstPort, q.srcPort, q.protocol);
        if (ret < 0 || !flows.isReturnDirection(ret))
        {
            counters.drop(DropReason.ICMP_ERROR_NO_FLOW);
            return;
        }
        if (!IcmpErrorNat.towardClient(buffer, parsed, q, clientMac, flows.peerMac(ret), flows.natIp(ret), flows.natPort(ret)))
        {
            counters.drop(parsed.dropReason);
            return;
        }
        if (send(toClient, buffer, offset, length, counters.txClientFrames, counters.txClientBytes))
        {
            counters.icmpErrorsForwardedToClient.incrementRelease();
        }
    }

    /**
     * The checks both sides make before looking an ICMP error's flow up: sent to lb's MAC, a
     * valid ICMP checksum (lb recomputes it: a corrupted error must not leave with a good one),
     * and a quote ({@link IcmpQuote#read}) of a TCP/UDP packet from the error's addressee, which
     * is who sent the quoted packet. Counts the drop when one fails.
     */
    private boolean admitIcmpError(final MutableDirectBuffer buffer, final int offset, final long ownMac)
    {
        final ParsedFrame p = parsed;
        if (dstMac(buffer, offset) != ownMac)
        {
            counters.drop(DropReason.NOT_FOR_US);
            return false;
        }
        if (!Checksums.internetChecksumValid(buffer, p.l4Offset, p.l4Length))
        {
            counters.drop(DropReason.BAD_ICMP_CHECKSUM);
            return false;
        }
        // ICMP has no pseudo-header: a checksum that verifies is complete, whatever the RX flags said.
        p.l4ChecksumPartial = false;
        DropReason refused = quote.read(buffer, p);
        if (refused == null && quote.srcIp != p.dstIp)
        {
            refused = DropReason.ICMP_ERROR_BAD_QUOTE;
        }
        if (refused != null)
        {
            counters.drop(refused);
            return false;
        }
        return true;
    }

    /**
     * An ICMPv6 error to a VIP6, the twin of {@link #icmpErrorFromClient}: a router or client says
     * a packet lb sent toward a client, VIP6:vport -> client:cport, did not fit (packet too big:
     * the backend's path-MTU discovery depends on it), expired, was refused or was malformed. The
     * flow is the one whose forward key is that packet's reverse; NAT66 translates the error like
     * the flow ({@link IcmpErrorNat66#towardBackend}), DSR changes only the MACs, IP6-in-IP6 tunnels it.
     */
    private void icmp6ErrorFromClient(final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final Icmpv6Quote q = quote6;
        if (!admitIcmpError6(buffer, offset, clientMac))
        {
            return;
        }
        final int fwd = flows6.find6(q.dstHigh, q.dstLow, q.srcHigh, q.srcLow, q.dstPort, q.srcPort, q.protocol);
        if (fwd < 0 || flows6.isReturnDirection(fwd))
        {
            counters.drop(DropReason.ICMP_ERROR_NO_FLOW);
            return;
        }
        final Service service = serviceCarrying(flows6, fwd);
        if (service == null)
        {
            return;
        }
        final int backend = flows6.backendId(fwd);
        final BackendPool pool = service.pool();
        switch (service.mode())
        {
            case DSR:
                DsrRewrite.apply(buffer, parsed, serverMac, pool.mac(backend));
                break;
            case IPIP:
                // Through the flow's own tunnel, as icmpErrorFromClient does for IPv4 (tunnel counts what it sends).
                if (tunnel(buffer, service, pool, backend))
                {
                    counters.icmpErrorsForwardedToServer.incrementRelease();
                }
                return;
            default:
                final int backendAddress = aliases.indexOf(flows6.natIp(fwd));
                if (!IcmpErrorNat66.towardBackend(buffer, parsed, q, serverMac, pool.mac(backend),
                    aliases.highAt(backendAddress), aliases.lowAt(backendAddress), flows6.natPort(fwd)))
                {
                    counters.drop(parsed.dropReason);
                    return;
                }
        }
        if (send(toServer, buffer, offset, length, counters.txServerFrames, counters.txServerBytes))
        {
            counters.icmpErrorsForwardedToServer.incrementRelease();
        }
    }

    /**
     * An ICMPv6 error from the server side to a client, the twin of {@link #icmpErrorFromServer}:
     * about lb's packet client:cport -> backend:bport, it belongs to the NAT66 flow whose return key
     * is that packet's reverse and goes to the client from the VIP6 ({@link IcmpErrorNat66#towardClient}).
     */
    private void icmp6ErrorFromServer(final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final Icmpv6Quote q = quote6;
        if (!admitIcmpError6(buffer, offset, serverMac))
        {
            return;
        }
        final int ret = flows6.find6(q.dstHigh, q.dstLow, q.srcHigh, q.srcLow, q.dstPort, q.srcPort, q.protocol);
        if (ret < 0 || !flows6.isReturnDirection(ret))
        {
            counters.drop(DropReason.ICMP_ERROR_NO_FLOW);
            return;
        }
        final int vipAddress = aliases.indexOf(flows6.natIp(ret));
        if (!IcmpErrorNat66.towardClient(buffer, parsed, q, clientMac, flows6.peerMac(ret), aliases.highAt(vipAddress),
            aliases.lowAt(vipAddress), flows6.natPort(ret)))
        {
            counters.drop(parsed.dropReason);
            return;
        }
        if (send(toClient, buffer, offset, length, counters.txClientFrames, counters.txClientBytes))
        {
            counters.icmpErrorsForwardedToClient.incrementRelease();
        }
    }

    /**
     * The IPv6 twin of {@link #admitIcmpError}: to lb's MAC, a valid ICMPv6 checksum (over the
     * pseudo-header), and a quote ({@link Icmpv6Quote#read}) of a TCP/UDP packet from the error's
     * addressee. Counts the drop when one fails.
     */
    private boolean admitIcmpError6(final MutableDirectBuffer buffer, final int offset, final long ownMac)
    {
        final ParsedFrame p = parsed;
        if (dstMac(buffer, offset) != ownMac)
        {
            counters.drop(DropReason.IPV6_NOT_FOR_US);
            return false;
        }
        if (!Checksums.ipv6L4ChecksumValid(buffer, p.l3Offset, p.l4Offset, p.l4Length, Icmpv6Header.PROTOCOL_ICMPV6))
        {
            counters.drop(DropReason.BAD_ICMPV6_CHECKSUM);
            return false;
        }
        // A checksum that verifies is complete, whatever the RX flags said.
        p.l4ChecksumPartial = false;
        DropReason refused = quote6.read(buffer, p);
        if (refused == null && (quote6.srcHigh != p.dstHigh || quote6.srcLow != p.dstLow))
        {
            refused = DropReason.ICMP_ERROR_BAD_QUOTE;
        }
        if (refused != null)
        {
            counters.drop(refused);
            return false;
        }
        return true;
    }

    /**
     * The route an ICMP packet goes through lb by (to our MAC, not to one of our addresses, and
     * {@code remote}, its destination going out or its source coming back, in a route's prefix), or
     * null: then it is for lb itself.
     */
    private RouteForwarder routedIcmp(final MutableDirectBuffer buffer, final int offset, final long ownMac, final int remote)
    {
        final int dst = parsed.dstIp;
        if (routes.active().length == 0 || dstMac(buffer, offset) != ownMac || dst == clientIp || dst == gatewayIp ||
            services.isVip(dst))
        {
            return null;
        }
        return routeFor(remote);
    }

    /**
     * The IPv6 route an echo request or reply goes through lb by (to our MAC, to none of our addresses, and
     * {@code remote}, its destination going out or its source coming back, in a route's prefix), or null. Only echo:
     * neighbour discovery is link-local and lb's own, and ICMPv6 errors are not relayed yet.
     */
    private RouteForwarder routedEcho6(final MutableDirectBuffer buffer, final int offset, final long ownMac,
        final long remoteHigh, final long remoteLow)
    {
        final ParsedFrame p = parsed;
        if (routes.active().length == 0 || flows6 == null ||
            (p.icmpType != Icmpv6Header.TYPE_ECHO_REQUEST && p.icmpType != Icmpv6Header.TYPE_ECHO_REPLY) ||
            dstMac(buffer, offset) != ownMac || isOwnOrVip6(p.dstHigh, p.dstLow))
        {
            return null;
        }
        return routeFor6(remoteHigh, remoteLow);
    }

    private void routeOut(final RouteForwarder route, final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final DropReason dropped = route.forward(buffer, offset, length, parsed, serverMac, now);
        if (dropped != null)
        {
            counters.drop(dropped);
            if (dropped == DropReason.TTL_EXCEEDED && route.isIpv6())
            {
                timeExceeded6(buffer, clientMac, clientIp6, toClient);
            }
            else if (dropped == DropReason.TTL_EXCEEDED)
            {
                timeExceeded(buffer, clientMac, clientIp, toClient);
            }
        }
        else if (send(toServer, buffer, offset, length, counters.txServerFrames, counters.txServerBytes))
        {
            route.sent(length);
        }
    }

    private void routeBack(final RouteForwarder route, final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final DropReason dropped = route.reverse(buffer, offset, length, parsed, clientMac, now);
        if (dropped != null)
        {
            counters.drop(dropped);
            if (dropped == DropReason.TTL_EXCEEDED && route.isIpv6())
            {
                timeExceeded6(buffer, serverMac, gatewayIp6, toServer);
            }
            else if (dropped == DropReason.TTL_EXCEEDED)
            {
                timeExceeded(buffer, serverMac, gatewayIp, toServer);
            }
        }
        else
        {
            send(toClient, buffer, offset, length, counters.txClientFrames, counters.txClientBytes);
        }
    }

    /**
     * A packet whose TTL ran out here (routed or NATed): the source hears "time exceeded" from
     * lb's address on its side, as from any router (so traceroute shows lb). Never about an ICMP error, and at most
     * {@link #ICMP_ERRORS_PER_SECOND} a second with bursts of {@link #ICMP_ERROR_BURST} (as Linux
     * limits its own), so a flood of expiring packets cannot turn lb into a reflector.
     */
    private void timeExceeded(final MutableDirectBuffer buffer, final long ownMac, final int ownIp, final FrameSink toward)
    {
        if (!IcmpHeader.mayAnswerWithError(parsed) || !takeIcmpErrorToken())
        {
            return;
        }
        final int errorLength = IcmpHeader.writeTimeExceeded(scratch, 0, buffer, parsed, ownMac, ownIp);
        if (toward.send(scratch, 0, errorLength))
        {
            counters.icmpTimeExceededSent.incrementRelease();
        }
    }

    /**
     * The IPv6 twin of {@link #timeExceeded}: a NAT66 packet whose hop limit ran out here gets
     * ICMPv6 time exceeded (hop limit exceeded in transit) from lb's IPv6 address on its side, under
     * the same rules ({@link Icmpv6Header#mayAnswerWithError6}) and the same token bucket.
     */
    private void timeExceeded6(final MutableDirectBuffer buffer, final long ownMac, final int ownIp6, final FrameSink toward)
    {
        // Without that address of lb's (a route needs both, as a service does) there is nothing to answer from.
        final int own = aliases.indexOf(ownIp6);
        if (own < 0 || !Icmpv6Header.mayAnswerWithError6(parsed) || !takeIcmpErrorToken())
        {
            return;
        }
        final int errorLength = Icmpv6Header.writeErrorFrame(scratch, 0, buffer, parsed, ownMac, aliases.highAt(own),
            aliases.lowAt(own), Icmpv6Header.TYPE_TIME_EXCEEDED, Icmpv6Header.CODE_HOP_LIMIT_EXCEEDED, 0);
        if (toward.send(scratch, 0, errorLength))
        {
            counters.icmpTimeExceededSent.incrementRelease();
        }
    }

    private boolean takeIcmpErrorToken()
    {
        final long nanosPerToken = 1_000_000_000L / ICMP_ERRORS_PER_SECOND;
        if (icmpErrorTokens < ICMP_ERROR_BURST)
        {
            final long earned = (now - icmpErrorRefilledAt) / nanosPerToken;
            if (earned > 0)
            {
                icmpErrorTokens = (int)Math.min(ICMP_ERROR_BURST, icmpErrorTokens + earned);
                icmpErrorRefilledAt = now;
            }
        }
        else
        {
            icmpErrorRefilledAt = now;
        }
        if (icmpErrorTokens == 0)
        {
            return false;
        }
        icmpErrorTokens--;
        return true;
    }

    // ---------------------------------------------------------------------------------------
    // Shared steps
    // ---------------------------------------------------------------------------------------

    private static long dstMac(final MutableDirectBuffer buffer, final int offset)
    {
        return EthernetHeader.getMac(buffer, offset + EthernetHeader.DESTINATION_OFFSET);
    }

    private boolean admit(final MutableDirectBuffer buffer, final int offset, final int length, final int rxFlags)
    {
        if ((rxFlags & RX_TRUNCATED) != 0)
        {
            counters.drop(DropReason.SNAPLEN_TRUNCATED);
            return false;
        }
        if ((rxFlags & RX_VLAN) != 0)
        {
            // The kernel moved the tag out of the frame: forwarded as it is, a frame of another
            // VLAN would leak into the untagged LAN. No VLAN is configured on lb's interfaces.
            counters.drop(DropReason.VLAN_TAGGED);
            return false;
        }
        parsed.l4ChecksumPartial = (rxFlags & RX_CHECKSUM_PARTIAL) != 0;
        parsed.txCompletesChecksum = (rxFlags & RX_VNET) != 0;
        return true;
    }

    /** Classifies the frame; one that still carries a VLAN tag in its header is not lb's either. */
    private FrameType classify(final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final FrameType type = FrameClassifier.classify(buffer, offset, length, parsed);
        if (type != FrameType.DROP && parsed.l3Offset != offset + EthernetHeader.HEADER_LENGTH)
        {
            parsed.dropReason = DropReason.VLAN_TAGGED;
            return FrameType.DROP;
        }
        return type;
    }

    private void answerArp(final MutableDirectBuffer buffer, final int offset, final int length, final long ownMac,
        final FrameSink out, final boolean serverSide)
    {
        final ParsedFrame p = parsed;
        final boolean owned = serverSide ? p.targetIp == gatewayIp : (p.targetIp == clientIp || services.isVip(p.targetIp));
        if (p.arpOp != ArpPacket.OP_REQUEST || !owned)
        {
            if (!serverSide)
            {
                counters.drop(DropReason.NOT_FOR_US);
            }
            return;
        }
        final int replyLength = ArpPacket.writeReplyFrame(buffer, offset, ownMac, p.targetIp, p.senderMac, p.senderIp);
        if (out.send(buffer, offset, replyLength))
        {
            (serverSide ? counters.gatewayArpReplies : counters.arpReplies).incrementRelease();
        }
        else if (!serverSide)
        {
            counters.drop(out.lastRefusal());
        }
        else
        {
            // The request went to the control thread already: it is not lost, only unanswered.
            counters.gatewayRepliesRefused.incrementRelease();
        }
    }

    private void answerEcho(final MutableDirectBuffer buffer, final int offset, final int length, final long ownMac,
        final FrameSink out, final boolean serverSide)
    {
        final ParsedFrame p = parsed;
        final boolean owned = serverSide ? p.dstIp == gatewayIp : (p.dstIp == clientIp || services.isVip(p.dstIp));
        if (!owned || dstMac(buffer, offset) != ownMac)
        {
            counters.drop(DropReason.NOT_FOR_US);
            return;
        }
        if (p.icmpType != IcmpHeader.TYPE_ECHO_REQUEST)
        {
            counters.drop(DropReason.UNSUPPORTED_ICMP);
            return;
        }
        if (!Checksums.internetChecksumValid(buffer, p.l4Offset, p.l4Length))
        {
            counters.drop(DropReason.BAD_ICMP_CHECKSUM);
            return;
        }
        final int replyLength = IcmpHeader.writeEchoReplyInPlace(buffer, p, REPLY_TTL);
        if (out.send(buffer, offset, replyLength))
        {
            counters.icmpEchoReplies.incrementRelease();
        }
        else
        {
            counters.drop(out.lastRefusal());
        }
    }

    private boolean send(final FrameSink out, final MutableDirectBuffer buffer, final int offset, final int length,
        final org.agrona.concurrent.status.AtomicCounter frames, final org.agrona.concurrent.status.AtomicCounter bytes)
    {
        if (out.forward(buffer, offset, length))
        {
            frames.incrementRelease();
            bytes.getAndAddRelease(length);
            return true;
        }
        counters.drop(out.lastRefusal());
        return false;
    }

    // ---------------------------------------------------------------------------------------
    // Expiry (called by the flow table's sliced walk)
    // ---------------------------------------------------------------------------------------

    /**
     * An entry has been idle past its timeout. A flow goes only when both of its entries are idle
     * (a one-way stream keeps it alive); then whichever entry the walk reaches first takes the
     * other with it and releases the backend's active count. The table re-finds the entry under
     * examination by key when this removes another one, so removing the pair here is safe.
     */
    @Override
    public boolean onIdle(final FlowTable table, final int slot)
    {
        this.table = table;
        final boolean isReturn = table.isReturnDirection(slot);
        final int pair = isReturn ? forwardSlotOf(slot) : returnSlotOf(slot);
        if (pair >= 0 && !isIdle(table, pair))
        {
            table.setLastSeen(slot, table.lastSeen(pair));
            return false;
        }
        final int forward = isReturn ? pair : slot;
        if (forward >= 0)
        {
            releaseFlow(forward);
            counters.flowsExpired.incrementRelease();
        }
        if (pair >= 0)
        {
            table.removeAt(pair);
        }
        else if (table.isOneWay(slot))
        {
            countOneWay(-1);
        }
        return true;
    }

    private boolean isIdle(final FlowTable table, final int slot)
    {
        return now - table.lastSeen(slot) > table.timeoutNanos(table.tcpState(slot));
    }

    /** The table evicts this entry to make room for a new one (its full policy chose it): the whole flow goes. */
    @Override
    public void onEvict(final FlowTable table, final int slot)
    {
        this.table = table;
        final boolean isReturn = table.isReturnDirection(slot);
        final int pair = isReturn ? forwardSlotOf(slot) : returnSlotOf(slot);
        final int forward = isReturn ? pair : slot;
        if (forward >= 0)
        {
            // (A return entry without its forward one is a flow being created that makes room for itself: see createFlow.)
            counters.flowsEvicted.incrementRelease();
            if (table.tcpState(forward) == FlowTable.TCP_SYN_SEEN && table.protocol(forward) == PROTO_TCP)
            {
                if (table.isIpv6())
                {
                    evictedHalfOpen6.remember6(table.srcHigh(forward), table.srcLow(forward), table.dstHigh(forward),
                        table.dstLow(forward), table.srcPort(forward), table.dstPort(forward), PROTO_TCP,
                        table.serviceId(forward), table.backendId(forward));
                }
                else
                {
                    evictedHalfOpen.remember(table.srcIp(forward), table.dstIp(forward), table.srcPort(forward),
                        table.dstPort(forward), PROTO_TCP, table.serviceId(forward), table.backendId(forward));
                }
            }
            releaseFlow(forward);
        }
        if (pair >= 0)
        {
            table.removeAt(pair);
        }
        else if (table.isOneWay(slot))
        {
            countOneWay(-1);
        }
    }

    /** Runs one slice of the expiry walk; returns the entries removed. */
    public int expire(final long nowNanos, final int maxSlots)
    {
        now = nowNanos;
        table = flows;
        int removed = flows.expire(nowNanos, maxSlots, this);
        if (flows6 != null)
        {
            table = flows6;
            removed += flows6.expire(nowNanos, maxSlots, this);
        }
        final RouteForwarder[] active = routes.active();
        if (active.length > 0)
        {
            // One route's table per slice, in turn.
            routeExpiryCursor = routeExpiryCursor + 1 >= active.length ? 0 : routeExpiryCursor + 1;
            removed += active[routeExpiryCursor].expire(nowNanos, maxSlots);
        }
        return removed;
    }
}
