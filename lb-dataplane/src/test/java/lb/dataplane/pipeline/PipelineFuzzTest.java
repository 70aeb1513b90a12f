package lb.dataplane.pipeline;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import lb.dataplane.checksum.Checksums;
import lb.dataplane.checksum.ReferenceChecksum;
import lb.dataplane.flow.FlowTable;
import lb.dataplane.flow.FullPolicy;
import lb.dataplane.packet.ArpPacket;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.GuardedFrame;
import lb.dataplane.packet.Icmpv6Header;
import lb.dataplane.packet.Ipv4Header;
import lb.dataplane.packet.Ipv6ExtensionWalk;
import lb.dataplane.packet.Ipv6Header;
import lb.dataplane.packet.NeighborDiscovery;
import lb.dataplane.packet.TcpCheckFrames;
import lb.dataplane.packet.TcpHeader;
import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.MaglevScheduler;
import lb.dataplane.sched.SchedulerKind;
import lb.dataplane.spread.RouteForwarder;
import lb.dataplane.spread.SpreadPolicy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static lb.dataplane.pipeline.PacketPipelineTest.BACKEND_IPS;
import static lb.dataplane.pipeline.PacketPipelineTest.BACKEND_MACS;
import static lb.dataplane.pipeline.PacketPipelineTest.CLIENT_IP;
import static lb.dataplane.pipeline.PacketPipelineTest.CLIENT_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.CLIENT_SIDE_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.GATEWAY_IP;
import static lb.dataplane.pipeline.PacketPipelineTest.LB_CLIENT_IP;
import static lb.dataplane.pipeline.PacketPipelineTest.SERVER_SIDE_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.VIP;
import static lb.dataplane.pipeline.PacketPipelineTest.capture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Coverage-guided fuzzing of the whole {@link PacketPipeline}, both directions, with a real
 * {@link FlowTable} small enough to fill: NAT services over TCP and UDP, a DSR and an IP-in-IP
 * service (Maglev, so they recover flows), and a route service over two next hops; and the IPv6 path
 * ({@link PacketPipeline#ipv6}) with its own small flow table: NAT66 over TCP and UDP and a DSR service on
 * a VIP6. Each fuzz input is a sequence of frames: templates (flows opened, answered, closed, ARP, ping,
 * VLAN-tagged, short TTLs, oversize tunnel packets, floods of new flows; for IPv6 the same flows,
 * extension headers before TCP, fragments, ICMPv6 echo, neighbour solicitations and advertisements, and
 * answers to TCP health checks from gateway-ip6) that the input parameterises and mutates, and raw bytes.
 * For every frame:
 * <ul>
 *   <li>nothing throws and nothing is touched outside the frame ({@link GuardedFrame}: the frame
 *       ends where its buffer does, with guard bytes in front);</li>
 *   <li>every IPv4 frame lb sends has a valid IPv4 header checksum (outer and inner for IP-in-IP), and
 *       every frame a valid TCP/UDP/ICMP/ICMPv6 checksum (over the IPv6 pseudo-header for IPv6) whenever
 *       the received frame's was valid; a partial checksum
 *       that transmit completes (virtio-net header) stays a valid partial sum, one that nobody
 *       would complete is completed; ICMP errors lb makes are always valid;</li>
 *   <li>over the input, every frame is accounted for exactly once: rx = tx + answered + drops + ARP
 *       and NDP to control and check answers to control, and what the sinks took matches tx + answered +
 *       what lb made up.</li>
 * </ul>
 * After the input every flow (of both tables) is expired and every backend's and next hop's active count is back
 * to zero, so inputs do not leak state into each other. Without JAZZER_FUZZ this runs the seeds in
 * {@code PipelineFuzzTestInputs/pipeline}; the {@code fuzz-pipeline} execution fuzzes it for
 * {@link #FUZZ_DURATION} on every {@code mvn verify}; {@link PipelineFuzzer} is the entry point
 * for long runs with Jazzer's own command line (see benchmarks/RESULTS.md).
 */
class PipelineFuzzTest
{
    static final String FUZZ_DURATION = "30s";

    static final int NAT_TCP_PORT = 80;
    static final int NAT_UDP_PORT = 53;
    static final int DSR_PORT = 81;
    static final int IPIP_PORT = 82;
    static final int BACKEND_UDP_PORT = 5353;
    static final int ROUTE_PREFIX = 0xC6130000;    // 198.19.0.0/16
    static final int OTHER_HOST = 0xC6120063;      // 198.18.0.99: no VIP, no lb address
    static final int SERVER_MTU = 1400;
    /** Flow-table entries: a NAT flow takes two, so a flood of a hundred new flows fills it. */
    static final int FLOW_CAPACITY = 128;
    static final int ROUTE_FLOW_CAPACITY = 32;
    /** Frames one input may send, floods included: bounds the time one input takes. */
    static final int MAX_FRAMES_PER_INPUT = 1024;
    static final int MAX_FLOOD = 160;
    static final int[] ADDRESSES = {VIP, LB_CLIENT_IP, GATEWAY_IP, OTHER_HOST, ROUTE_PREFIX + 7, BACKEND_IPS[0]};
    static final long[] TIME_STEPS = {1_000L, 1_000_000L, 1_000_000_000L, 40_000_000_000L};
    /** Small pools and Maglev tables: instrumented, a table rebuild costs per position. */
    static final int POOL_CAPACITY = 4;
    static final int MAGLEV_TABLE = 401;
    static final long EXPIRE_ALL_NANOS = 3_600_000_000_000L;
    /** IPv6: 2001:2::/64 the clients' and VIP6's LAN, 2001:2:0:1::/64 the servers'. */
    static final long CLIENT_NET6 = 0x2001_0002_0000_0000L;
    static final long SERVER_NET6 = 0x2001_0002_0000_0001L;
    static final long CLIENT_LOW6 = 0x11;
    static final long LB_LOW6 = 0x1;
    static final long VIP_LOW6 = 0x100;
    static final long OTHER_LOW6 = 0x99;
    static final long[] BACKEND_LOWS6 = {0x11, 0x12, 0x13};
    /** What an ICMPv6 echo template carries. */
    static final UnsafeBuffer ECHO_DATA = new UnsafeBuffer(new byte[256]);
    /** Extension headers a template may put before its TCP header: each 8 bytes, PadN or an empty routing header. */
    static final int[] EXTENSIONS = {Ipv6ExtensionWalk.HOP_BY_HOP, Ipv6ExtensionWalk.DESTINATION_OPTIONS,
        Ipv6ExtensionWalk.ROUTING};

    private static PipelineFuzzTest instance;

    final CountersManager countersManager = new CountersManager(
        new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 20)), new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 16)));
    final DataplaneCounters counters = new DataplaneCounters(countersManager, 0);
    final ServiceTable services = new ServiceTable();
    final FlowTable flows = new FlowTable(FLOW_CAPACITY);
    final BackendPool tcpPool = pool(0);
    final BackendPool udpPool = pool(BACKEND_UDP_PORT);
    final BackendPool dsrPool = pool(0);
    final BackendPool ipipPool = pool(0);
    final Ipv6AliasTable aliases = new Ipv6AliasTable();
    final FlowTable flows6 = FlowTable.ipv6(FLOW_CAPACITY, FullPolicy.EVICT_STALEST, null);
    final int vip6 = alias(CLIENT_NET6, VIP_LOW6);
    final int[] backends6 = {alias(SERVER_NET6, BACKEND_LOWS6[0]), alias(SERVER_NET6, BACKEND_LOWS6[1]),
        alias(SERVER_NET6, BACKEND_LOWS6[2])};
    final BackendPool tcpPool6 = pool6(0);
    final BackendPool udpPool6 = pool6(BACKEND_UDP_PORT);
    final BackendPool dsrPool6 = pool6(0);
    final BackendPool[] pools = {tcpPool, udpPool, dsrPool, ipipPool, tcpPool6, udpPool6, dsrPool6};
    final RouteForwarder route = new RouteForwarder(ROUTE_PREFIX, 16, SpreadPolicy.LEAST_FLOWS, 1_000_000L, true, ROUTE_FLOW_CAPACITY, 1);
    final List<byte[]> toClient = new ArrayList<>();
    final List<byte[]> toServer = new ArrayList<>();
    final List<byte[]> toControl = new ArrayList<>();
    final PacketPipeline pipeline;
    final UnsafeBuffer template = new UnsafeBuffer(new byte[GuardedFrame.MAX_FRAME_LENGTH]);
    final GuardedFrame frame = new GuardedFrame();
    long now = 1_000_000_000L;
    boolean healthChanged;
    /** Frames the sinks took during the current input. */
    int sent;
    int handedToControl;

    PipelineFuzzTest()
    {
        services.add(new Service(0, "tcp", VIP, NAT_TCP_PORT, 6, tcpPool, SchedulerKind.ROUND_ROBIN.create(tcpPool)));
        services.add(new Service(1, "udp", VIP, NAT_UDP_PORT, 17, udpPool, SchedulerKind.LEAST_CONNECTIONS.create(udpPool)));
        services.add(new Service(2, "dsr", VIP, DSR_PORT, 6, dsrPool, new MaglevScheduler(dsrPool, MAGLEV_TABLE), ForwardingMode.DSR));
        services.add(new Service(3, "ipip", VIP, IPIP_PORT, 6, ipipPool, new MaglevScheduler(ipipPool, MAGLEV_TABLE), ForwardingMode.IPIP));
        services.add(new Service(4, "tcp6", vip6, NAT_TCP_PORT, 6, tcpPool6, SchedulerKind.ROUND_ROBIN.create(tcpPool6)));
        services.add(new Service(5, "udp6", vip6, NAT_UDP_PORT, 17, udpPool6, SchedulerKind.LEAST_CONNECTIONS.create(udpPool6)));
        services.add(new Service(6, "dsr6", vip6, DSR_PORT, 6, dsrPool6, new MaglevScheduler(dsrPool6, MAGLEV_TABLE),
            ForwardingMode.DSR));
        for (int i = 1; i < 3; i++)
        {
            route.nextHopHealth(route.group().add(BACKEND_IPS[i]), true, BACKEND_MACS[i]);
        }
        pipeline = new PacketPipeline(services, flows, counters, new BackendStatsTable(), capture(toClient),
            capture(toServer), capture(toControl), CLIENT_SIDE_MAC, SERVER_SIDE_MAC, LB_CLIENT_IP, GATEWAY_IP)
            .serverMtu(SERVER_MTU)
            .routes(new RouteForwarder[] {route})
            .ipv6(flows6, aliases, alias(CLIENT_NET6, LB_LOW6), alias(SERVER_NET6, LB_LOW6));
    }

    /** Names an IPv6 address by its alias in {@link #aliases}, as the command applier does. */
    private int alias(final long high, final long low)
    {
        final int alias = Ipv6AliasTable.preferredAlias(high, low);
        if (aliases.alias(high, low) == Ipv6AliasTable.NONE)
        {
            assertTrue(aliases.put(alias, high, low));
        }
        return alias;
    }

    private BackendPool pool6(final int port)
    {
        final BackendPool pool = new BackendPool(POOL_CAPACITY);
        for (int i = 0; i < backends6.length; i++)
        {
            pool.setMac(pool.add(backends6[i], port, 1 + i), BACKEND_MACS[i]);
        }
        return pool;
    }

    static BackendPool pool(final int port)
    {
        final BackendPool pool = new BackendPool(POOL_CAPACITY);
        for (int i = 0; i < BACKEND_IPS.length; i++)
        {
            pool.setMac(pool.add(BACKEND_IPS[i], port, 1 + i), BACKEND_MACS[i]);
        }
        return pool;
    }

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void pipeline(final FuzzedDataProvider data)
    {
        fuzzerTestOneInput(data);
    }

    /** One lb per JVM, reset after every input; {@link PipelineFuzzer} calls this from Jazzer's command line. */
    static void fuzzerTestOneInput(final FuzzedDataProvider data)
    {
        if (instance == null)
        {
            instance = new PipelineFuzzTest();
        }
        instance.run(data);
    }

    void run(final FuzzedDataProvider data)
    {
        int frames = 0;
        sent = 0;
        handedToControl = 0;
        final long[] before = accounts();
        try
        {
            while (data.remainingBytes() > 0 && frames < MAX_FRAMES_PER_INPUT)
            {
                frames += step(data, frames);
            }
            final long[] after = accounts();
            final int received = frames;
            assertEquals(frames, after[RX] - before[RX], "frames received");
            assertEquals(frames, after[ACCOUNTED] - before[ACCOUNTED],
                () -> "rx = tx + answered + drops + to control over the input's " + received + " frames");
            assertEquals(sent, after[SENT] - before[SENT], "sinks took tx + answered + made up");
            assertEquals(handedToControl, after[TO_CONTROL] - before[TO_CONTROL], "control ring took arp_to_control");
        }
        finally
        {
            resetState();
        }
    }

    /** One step of an input: a frame, a flood of new flows, time passing, or a backend's health changing. */
    private int step(final FuzzedDataProvider data, final int frames)
    {
        final int op = data.consumeInt(0, 29);
        switch (op)
        {
            case 17 ->
            {
                now += TIME_STEPS[data.consumeInt(0, TIME_STEPS.length - 1)];
                pipeline.expire(now, data.consumeInt(1, flows.slotCount()));
                return 0;
            }
            case 18 ->
            {
                final BackendPool pool = pools[data.consumeInt(0, pools.length - 1)];
                final int handle = pool.handleAt(data.consumeInt(0, BACKEND_IPS.length - 1));
                if (pool.setHealthy(handle, data.consumeBoolean()))
                {
                    // As the worker does once commands changed a pool: Maglev rebuilds its table.
                    healthChanged = true;
                    services.forEach(s -> s.scheduler().refresh());
                }
                return 0;
            }
            case 19 ->
            {
                final int count = Math.min(data.consumeInt(1, MAX_FLOOD), MAX_FRAMES_PER_INPUT - frames);
                final int port = data.consumeBoolean() ? DSR_PORT : NAT_TCP_PORT;
                for (int i = 0; i < count; i++)
                {
                    final int length = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, 1024 + i, port, TcpHeader.SYN, 0, 64);
                    handle(true, length, 0);
                }
                return count;
            }
            default ->
            {
                final boolean client = build(op, data);
                int length = templateLength;
                final int flips = data.consumeInt(0, 3);
                for (int i = 0; i < flips && length > 0; i++)
                {
                    final int at = data.consumeInt(0, length - 1);
                    template.putByte(at, (byte)(template.getByte(at) ^ data.consumeByte()));
                }
                if (data.consumeInt(0, 7) == 0)
                {
                    length = data.consumeInt(0, length);
                }
                handle(client, length, rxFlags(data.consumeByte(), length));
                return 1;
            }
        }
    }

    private int templateLength;

    /** Writes one frame into {@link #template} (its length in {@link #templateLength}); returns whether it arrives on the client side. */
    private boolean build(final int op, final FuzzedDataProvider data)
    {
        final int clientPort = 40_000 + data.consumeInt(0, 15);
        final int backend = data.consumeInt(0, BACKEND_IPS.length - 1);
        final int flags = data.consumeInt(0, 63);
        final int payload = data.consumeInt(0, 3) == 0 ? data.consumeInt(0, 1460) : data.consumeInt(0, 40);
        final int ttl = data.consumeInt(0, 7) == 0 ? data.consumeInt(0, 2) : 64;
        switch (op)
        {
            case 0, 1 -> templateLength = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, clientPort, NAT_TCP_PORT, flags, payload, ttl);
            case 2, 3 -> templateLength = tcp(SERVER_SIDE_MAC, BACKEND_MACS[backend], BACKEND_IPS[backend], CLIENT_IP,
                NAT_TCP_PORT, clientPort, flags, payload, ttl);
            case 4 -> templateLength = udp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, clientPort, NAT_UDP_PORT, payload, ttl,
                data.consumeBoolean());
            case 5 -> templateLength = udp(SERVER_SIDE_MAC, BACKEND_MACS[backend], BACKEND_IPS[backend], CLIENT_IP,
                BACKEND_UDP_PORT, clientPort, payload, ttl, data.consumeBoolean());
            case 6 -> templateLength = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, clientPort, DSR_PORT, flags, payload, ttl);
            case 7 -> templateLength = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, clientPort, IPIP_PORT, flags, payload, ttl);
            case 8 -> templateLength = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, ROUTE_PREFIX + backend, clientPort, 443,
                flags, payload, ttl);
            case 9 -> templateLength = tcp(SERVER_SIDE_MAC, BACKEND_MACS[1 + backend % 2], ROUTE_PREFIX + backend, CLIENT_IP,
                443, clientPort, flags, payload, ttl);
            case 10 -> templateLength = ArpPacket.writeRequestFrame(template, 0, CLIENT_MAC, CLIENT_IP,
                ADDRESSES[data.consumeInt(0, ADDRESSES.length - 1)]);
            case 11 ->
            {
                templateLength = data.consumeBoolean() ?
                    ArpPacket.writeRequestFrame(template, 0, BACKEND_MACS[backend], BACKEND_IPS[backend],
                        ADDRESSES[data.consumeInt(0, ADDRESSES.length - 1)]) :
                    ArpPacket.writeReplyFrame(template, 0, BACKEND_MACS[backend], BACKEND_IPS[backend], SERVER_SIDE_MAC, GATEWAY_IP);
                return false;
            }
            case 12 -> templateLength = echo(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, ADDRESSES[data.consumeInt(0, ADDRESSES.length - 1)],
                data.consumeBoolean() ? 8 : data.consumeInt(0, 255), payload, ttl);
            case 13 -> templateLength = echo(SERVER_SIDE_MAC, BACKEND_MACS[backend], BACKEND_IPS[backend],
                data.consumeBoolean() ? GATEWAY_IP : CLIENT_IP, data.consumeInt(0, 255), payload, ttl);
            case 14 ->
            {
                // 802.1Q-tagged: the TCP frame of case 0 behind a tag.
                final int length = tcp(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, clientPort, NAT_TCP_PORT, flags, payload, ttl);
                final byte[] bytes = template.byteArray();
                System.arraycopy(bytes, 12, bytes, 16, length - 12);
                template.putShort(12, (short)EthernetHeader.TPID_8021Q, BIG_ENDIAN);
                template.putShort(14, (short)data.consumeInt(0, 4095), BIG_ENDIAN);
                templateLength = length + 4;
            }
            case 15, 16 ->
            {
                // Raw bytes, on either side.
                final byte[] raw = data.consumeBytes(data.consumeInt(0, 1600));
                template.putBytes(0, raw);
                templateLength = raw.length;
                return op == 15;
            }
            default ->
            {
                return build6(op, data, clientPort, backend, flags, payload, ttl);
            }
        }
        return op != 2 && op != 3 && op != 5 && op != 9 && op != 13;
    }

    /** The IPv6 templates (ops 20 to 29); returns whether the frame arrives on the client side. */
    private boolean build6(final int op, final FuzzedDataProvider data, final int clientPort, final int backend,
        final int flags, final int payload, final int hopLimit)
    {
        final long backendLow = BACKEND_LOWS6[backend];
        switch (op)
        {
            case 20 -> templateLength = l4v6(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET6, CLIENT_LOW6, CLIENT_NET6, VIP_LOW6, 6,
                clientPort, NAT_TCP_PORT, flags, payload, hopLimit);
            case 21 ->
            {
                templateLength = l4v6(SERVER_SIDE_MAC, BACKEND_MACS[backend], SERVER_NET6, backendLow, CLIENT_NET6, CLIENT_LOW6, 6,
                    NAT_TCP_PORT, clientPort, flags, payload, hopLimit);
                return false;
            }
            case 22 -> templateLength = l4v6(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET6, CLIENT_LOW6, CLIENT_NET6, VIP_LOW6, 17,
                clientPort, NAT_UDP_PORT, 0, payload, hopLimit);
            case 23 ->
            {
                templateLength = l4v6(SERVER_SIDE_MAC, BACKEND_MACS[backend], SERVER_NET6, backendLow, CLIENT_NET6, CLIENT_LOW6, 17,
                    BACKEND_UDP_PORT, clientPort, 0, payload, hopLimit);
                return false;
            }
            case 24 -> templateLength = l4v6(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET6, CLIENT_LOW6, CLIENT_NET6, VIP_LOW6, 6,
                clientPort, DSR_PORT, flags, payload, hopLimit);
            case 25 ->
            {
                // A NAT66 or DSR segment behind one to three extension headers.
                templateLength = l4v6(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET6, CLIENT_LOW6, CLIENT_NET6, VIP_LOW6, 6, clientPort,
                    data.consumeBoolean() ? NAT_TCP_PORT : DSR_PORT, flags, payload, hopLimit);
                final int count = data.consumeInt(1, 3);
                for (int i = 0; i < count; i++)
                {
                    insertExtension(EXTENSIONS[data.consumeInt(0, EXTENSIONS.length - 1)], 0);
                }
            }
            case 26 ->
            {
                // A fragment of a NAT66 datagram: the first (its L4 header whole) or a later one.
                final boolean first = data.consumeBoolean();
                templateLength = l4v6(CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET6, CLIENT_LOW6, CLIENT_NET6, VIP_LOW6,
                    data.consumeBoolean() ? 6 : 17, clientPort, data.consumeBoolean() ? NAT_TCP_PORT : NAT_UDP_PORT, flags,
                    payload, hopLimit);
                insertExtension(Ipv6ExtensionWalk.FRAGMENT, first ? FRAGMENT_MORE : data.consumeInt(1, 0x1FFF) << 3);
            }
            case 27 ->
            {
                final boolean client = data.consumeBoolean();
                final long[] to = client ? new long[] {CLIENT_NET6, VIP_LOW6, LB_LOW6, OTHER_LOW6} : new long[] {SERVER_NET6, LB_LOW6,
                    OTHER_LOW6};
                final long toLow = to[1 + data.consumeInt(0, to.length - 2)];
                templateLength = client ?
                    Icmpv6Header.writeEchoFrame(template, 0, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET6, CLIENT_LOW6, CLIENT_NET6, toLow,
                        data.consumeBoolean() ? Icmpv6Header.TYPE_ECHO_REQUEST : data.consumeInt(0, 255), 1, clientPort, ECHO_DATA,
                        0, Math.min(payload, ECHO_DATA.capacity())) :
                    Icmpv6Header.writeEchoFrame(template, 0, SERVER_SIDE_MAC, BACKEND_MACS[backend], SERVER_NET6, backendLow,
                        SERVER_NET6, toLow, Icmpv6Header.TYPE_ECHO_REQUEST, 1, clientPort, ECHO_DATA, 0,
                        Math.min(payload, ECHO_DATA.capacity()));
                return client;
            }
            case 28 ->
            {
                // Neighbour discovery: a client's solicitation (for lb's addresses or another), a backend's
                // advertisement to the gateway, or a backend's solicitation for the gateway.
                switch (data.consumeInt(0, 2))
                {
                    case 0 ->
                    {
                        final long[] targets = {VIP_LOW6, LB_LOW6, OTHER_LOW6};
                        templateLength = NeighborDiscovery.writeSolicitation(template, 0, CLIENT_MAC, CLIENT_NET6, CLIENT_LOW6,
                            CLIENT_NET6, targets[data.consumeInt(0, 2)]);
                        return true;
                    }
                    case 1 -> templateLength = NeighborDiscovery.writeAdvertisement(template, 0, SERVER_SIDE_MAC,
                        BACKEND_MACS[backend], SERVER_NET6, backendLow, SERVER_NET6, LB_LOW6, SERVER_NET6, backendLow,
                        NeighborDiscovery.FLAG_OVERRIDE);
                    default -> templateLength = NeighborDiscovery.writeSolicitation(template, 0, BACKEND_MACS[backend],
                        SERVER_NET6, backendLow, SERVER_NET6, LB_LOW6);
                }
                return false;
            }
            default ->
            {
                // A backend's answer to a TCP health check from gateway-ip6, or to a port just outside the checks' range.
                templateLength = l4v6(SERVER_SIDE_MAC, BACKEND_MACS[backend], SERVER_NET6, backendLow, SERVER_NET6, LB_LOW6, 6,
                    NAT_TCP_PORT, TcpCheckFrames.FIRST_SOURCE_PORT - 2 + data.consumeInt(0, 7), flags, 0, hopLimit);
                return false;
            }
        }
        return true;
    }

    /**
     * The RX flags the kernel could have set: a partial checksum and GSO only on TCP/UDP (what the
     * kernel offloads), GSO only with a virtio-net header, now and then a tag taken out or a
     * frame the ring cut short.
     */
    private int rxFlags(final byte choice, final int length)
    {
        final boolean ipv6 = length > 20 && (template.getShort(12, BIG_ENDIAN) & 0xFFFF) == Ipv6Header.ETHER_TYPE_IPV6;
        final int protocol = ipv6 ? template.getByte(20) & 0xFF : length > 23 ? template.getByte(23) & 0xFF : 0;
        final boolean offloaded = protocol == 6 || protocol == 17;
        int flags = 0;
        if ((choice & 0x03) == 0x03 && offloaded)
        {
            flags |= PacketPipeline.RX_CHECKSUM_PARTIAL;
        }
        if ((choice & 0x04) != 0)
        {
            flags |= PacketPipeline.RX_VNET;
            if ((choice & 0x18) == 0x18 && protocol == 6)
            {
                flags |= PacketPipeline.RX_GSO;
            }
        }
        if ((choice & 0xE0) == 0xE0)
        {
            flags |= (choice & 0x08) != 0 ? PacketPipeline.RX_VLAN : PacketPipeline.RX_TRUNCATED;
        }
        return flags;
    }

    // --- one frame through lb, and what must hold after it ---------------------------------

    private void handle(final boolean client, final int length, final int rxFlags)
    {
        final UnsafeBuffer buffer = frame.place(template, 0, length);
        final Received received = new Received(frame.copy(), rxFlags);
        toClient.clear();
        toServer.clear();
        toControl.clear();
        now += 1_000;
        final long icmpMadeBefore = icmpMadeByLb();
        if (client)
        {
            pipeline.onClientFrame(buffer, frame.offset(), frame.length(), rxFlags, now);
        }
        else
        {
            pipeline.onServerFrame(buffer, frame.offset(), frame.length(), rxFlags, now);
        }
        assertEquals(-1, frame.changedGuard(), "lb wrote before the frame");
        sent += toClient.size() + toServer.size();
        handedToControl += toControl.size();
        // One frame is either forwarded or answered: when lb made an ICMP message for it, every ICMP
        // frame it sent for it is lb's own, whose checksum lb computed.
        final boolean icmpMade = icmpMadeByLb() != icmpMadeBefore;
        for (final byte[] out : toClient)
        {
            checkSent(out, received, icmpMade);
        }
        for (final byte[] out : toServer)
        {
            checkSent(out, received, icmpMade);
        }
    }

    /** ICMP and ICMPv6 messages lb made: echo replies, errors and neighbour advertisements. */
    private long icmpMadeByLb()
    {
        return counters.icmpEchoReplies.get() + counters.icmpTimeExceededSent.get() + counters.icmpFragNeededSent.get() +
            counters.ndpAdvertisements.get() + counters.gatewayNdpAdvertisements.get();
    }

    static final int RX = 0;
    static final int ACCOUNTED = 1;
    static final int SENT = 2;
    static final int TO_CONTROL = 3;

    /** rx; tx + answered + drops + to control; tx + answered + made up; to control. */
    private long[] accounts()
    {
        final DataplaneCounters c = counters;
        return new long[] {
            c.rxFrames(),
            c.txFrames() + c.answered() + c.framesDropped() + c.toControl(),
            c.txFrames() + c.answered() + c.madeUp(),
            c.toControl()};
    }

    /** What the frame as received says about its checksums, to hold what lb sends of it to. */
    record Received(byte[] bytes, int rxFlags)
    {
        boolean partial()
        {
            return (rxFlags & PacketPipeline.RX_CHECKSUM_PARTIAL) != 0;
        }

        boolean transmitCompletes()
        {
            return (rxFlags & PacketPipeline.RX_VNET) != 0;
        }

        /** Whether the received frame's L4 checksum verified (full), or was the right partial sum. */
        boolean l4Valid()
        {
            if (isIpv6(bytes))
            {
                return l4Verifies6(bytes, partial() && transmitCompletes());
            }
            if (bytes.length < 34 || (bytes[12] & 0xFF) != 0x08 || bytes[13] != 0 || (bytes[14] & 0xF0) != 0x40)
            {
                return false;
            }
            return l4Verifies(bytes, 14, partial() && transmitCompletes());
        }

        @Override
        public String toString()
        {
            return "rx flags " + rxFlags + ", " + bytes.length + " bytes " + HexFormat.of().formatHex(bytes, 0,
                Math.min(bytes.length, 64));
        }
    }

    private static void checkSent(final byte[] out, final Received received, final boolean icmpMadeByLb)
    {
        final int etherType = (out[12] & 0xFF) << 8 | out[13] & 0xFF;
        if (etherType == EthernetHeader.ETHER_TYPE_ARP)
        {
            assertEquals(EthernetHeader.HEADER_LENGTH + ArpPacket.LENGTH, out.length, "ARP reply length");
            return;
        }
        if (etherType == Ipv6Header.ETHER_TYPE_IPV6)
        {
            checkSent6(out, received, icmpMadeByLb);
            return;
        }
        assertEquals(EthernetHeader.ETHER_TYPE_IPV4, etherType, "lb sends untagged IPv4, IPv6 or ARP only");
        int ip = EthernetHeader.HEADER_LENGTH;
        assertIpHeaderValid(out, ip);
        if ((out[ip + 9] & 0xFF) == 4)
        {
            ip += (out[ip] & 0x0F) * 4;
            assertIpHeaderValid(out, ip);
        }
        final int protocol = out[ip + 9] & 0xFF;
        final int l4 = ip + (out[ip] & 0x0F) * 4;
        final boolean keptPartial = received.partial() && received.transmitCompletes();
        if (protocol == 1)
        {
            final int type = out[l4] & 0xFF;
            if (icmpMadeByLb || received.l4Valid())
            {
                assertTrue(l4Verifies(out, ip, false), () -> "ICMP checksum of a sent frame, type " + type + ": " + received);
            }
            return;
        }
        if (protocol != 6 && protocol != 17)
        {
            fail("lb sent protocol " + protocol + " for " + received);
        }
        if (received.partial() && !received.transmitCompletes())
        {
            assertTrue(l4Verifies(out, ip, false), () -> "a partial checksum no one would complete was sent as it was: " + received);
        }
        else if (received.l4Valid())
        {
            assertTrue(l4Verifies(out, ip, keptPartial), () -> "lb broke a valid L4 checksum: " + received);
        }
    }

    /** An IPv6 frame lb sent: its L4 checksum as {@link #checkSent} holds IPv4's (IPv6 has no header checksum). */
    private static void checkSent6(final byte[] out, final Received received, final boolean icmpMadeByLb)
    {
        if (upperLayerOffset6(out) < 0)
        {
            return; // a fragment (forwarded as it came) or a header lb would not take: no L4 to check
        }
        final int upper = upperLayerProtocol6(out);
        if (upper == Checksums.PROTOCOL_ICMPV6)
        {
            if (icmpMadeByLb || received.l4Valid())
            {
                assertTrue(l4Verifies6(out, false), () -> "ICMPv6 checksum of a sent frame: " + received);
            }
            return;
        }
        if (upper != Checksums.PROTOCOL_TCP && upper != Checksums.PROTOCOL_UDP)
        {
            fail("lb sent IPv6 next header " + upper + " for " + received);
        }
        if (received.partial() && !received.transmitCompletes())
        {
            assertTrue(l4Verifies6(out, false), () -> "a partial IPv6 checksum no one would complete was sent as it was: " + received);
        }
        else if (received.l4Valid())
        {
            assertTrue(l4Verifies6(out, received.partial() && received.transmitCompletes()),
                () -> "lb broke a valid IPv6 L4 checksum: " + received);
        }
    }

    static boolean isIpv6(final byte[] f)
    {
        return f.length >= EthernetHeader.HEADER_LENGTH + Ipv6Header.HEADER_LENGTH &&
            ((f[12] & 0xFF) << 8 | f[13] & 0xFF) == Ipv6Header.ETHER_TYPE_IPV6 && (f[14] & 0xF0) == 0x60;
    }

    /**
     * Where the upper layer starts past hop-by-hop, destination options and routing headers, or -1 for a fragment, an
     * unknown header or one that runs past the frame or the payload length.
     */
    static int upperLayerOffset6(final byte[] f)
    {
        final int ip = EthernetHeader.HEADER_LENGTH;
        final int end = Math.min(f.length, ip + Ipv6Header.HEADER_LENGTH + ((f[ip + 4] & 0xFF) << 8 | f[ip + 5] & 0xFF));
        int next = f[ip + Ipv6Header.NEXT_HEADER_OFFSET] & 0xFF;
        int at = ip + Ipv6Header.HEADER_LENGTH;
        while (next == Ipv6ExtensionWalk.HOP_BY_HOP || next == Ipv6ExtensionWalk.DESTINATION_OPTIONS ||
            next == Ipv6ExtensionWalk.ROUTING)
        {
            if (at + 2 > end)
            {
                return -1;
            }
            next = f[at] & 0xFF;
            at += ((f[at + 1] & 0xFF) + 1) * Ipv6ExtensionWalk.EXTENSION_UNIT;
        }
        return at <= end && (next == 6 || next == 17 || next == 58) ? at : -1;
    }

    /** The upper layer's protocol (the last next header before {@link #upperLayerOffset6}), or -1. */
    static int upperLayerProtocol6(final byte[] f)
    {
        final int ip = EthernetHeader.HEADER_LENGTH;
        int next = f[ip + Ipv6Header.NEXT_HEADER_OFFSET] & 0xFF;
        int at = ip + Ipv6Header.HEADER_LENGTH;
        while ((next == Ipv6ExtensionWalk.HOP_BY_HOP || next == Ipv6ExtensionWalk.DESTINATION_OPTIONS ||
            next == Ipv6ExtensionWalk.ROUTING) && at + 2 <= f.length)
        {
            next = f[at] & 0xFF;
            at += ((f[at + 1] & 0xFF) + 1) * Ipv6ExtensionWalk.EXTENSION_UNIT;
        }
        return next;
    }

    /**
     * Whether the TCP, UDP or ICMPv6 checksum of an IPv6 frame verifies over the pseudo-header (the reference
     * implementation's), or with {@code partial} holds the pseudo-header sum a NIC would complete.
     */
    static boolean l4Verifies6(final byte[] f, final boolean partial)
    {
        final int l4 = upperLayerOffset6(f);
        if (l4 < 0)
        {
            return false;
        }
        final int protocol = upperLayerProtocol6(f);
        final int l4Length = ReferenceChecksum.ipv6UpperLayerLength(f, EthernetHeader.HEADER_LENGTH, l4);
        final int field = protocol == 6 ? 16 : protocol == 17 ? 6 : 2;
        if (l4Length < (protocol == 6 ? 20 : protocol == 17 ? 8 : 4) || l4 + l4Length > f.length)
        {
            return false;
        }
        final int stored = (f[l4 + field] & 0xFF) << 8 | f[l4 + field + 1] & 0xFF;
        if (partial)
        {
            final int expected = ReferenceChecksum.ipv6PseudoHeaderSum(f, EthernetHeader.HEADER_LENGTH, l4Length, protocol);
            return stored == expected || (stored | expected) == 0xFFFF && (stored & expected) == 0;
        }
        return stored == ReferenceChecksum.ipv6L4Checksum(f, EthernetHeader.HEADER_LENGTH, l4, protocol);
    }

    private static void assertIpHeaderValid(final byte[] f, final int ip)
    {
        assertEquals(ReferenceChecksum.ipv4HeaderChecksum(f, ip), (f[ip + 10] & 0xFF) << 8 | f[ip + 11] & 0xFF,
            "IPv4 header checksum of a sent frame");
    }

    /**
     * Whether the L4 checksum of the datagram at {@code ip} verifies: the full checksum, or with
     * {@code partial} the pseudo-header sum a NIC would complete. A UDP checksum of zero (none) verifies.
     */
    static boolean l4Verifies(final byte[] f, final int ip, final boolean partial)
    {
        final int headerLength = (f[ip] & 0x0F) * 4;
        final int totalLength = (f[ip + 2] & 0xFF) << 8 | f[ip + 3] & 0xFF;
        final int protocol = f[ip + 9] & 0xFF;
        final int l4 = ip + headerLength;
        final int l4Length = totalLength - headerLength;
        if (headerLength < 20 || l4Length < 8 || ip + totalLength > f.length)
        {
            return false;
        }
        if (protocol == 1)
        {
            return ReferenceChecksum.verifies(f, l4, l4Length);
        }
        final int field = protocol == 6 ? 16 : protocol == 17 ? 6 : -1;
        if (field < 0 || (protocol == 6 && l4Length < 20))
        {
            return false;
        }
        final int stored = (f[l4 + field] & 0xFF) << 8 | f[l4 + field + 1] & 0xFF;
        if (partial)
        {
            final int expected = ReferenceChecksum.pseudoHeaderSum(f, ip);
            return stored == expected || (stored | expected) == 0xFFFF && (stored & expected) == 0;
        }
        return (protocol == 17 && stored == 0) || stored == ReferenceChecksum.l4Checksum(f, ip);
    }

    /** Expires every flow and puts every backend back up: the next input starts from an empty table. */
    private void resetState()
    {
        now += EXPIRE_ALL_NANOS;
        for (int pass = 0; pass < 4 && flows.size() + flows6.size() + route.flows().size() > 0; pass++)
        {
            pipeline.expire(now, Math.max(flows.slotCount(), flows6.slotCount()));
            route.expire(now, route.flows().slotCount());
        }
        assertEquals(0, flows.size(), "flows left after every flow's idle timeout");
        assertEquals(0, flows6.size(), "IPv6 flows left after every flow's idle timeout");
        assertEquals(0, route.flows().size(), "route flows left after every flow's idle timeout");
        for (final BackendPool pool : pools)
        {
            for (int i = 0; i < BACKEND_IPS.length; i++)
            {
                final int handle = pool.handleAt(i);
                assertEquals(0, pool.activeFlows(handle), "active flows of a backend once every flow expired");
                pool.setHealthy(handle, true);
            }
        }
        if (healthChanged)
        {
            healthChanged = false;
            services.forEach(s -> s.scheduler().refresh());
        }
        for (int hop = 0; hop < route.group().size(); hop++)
        {
            assertEquals(0, route.group().activeFlows(hop), "active flows of a next hop once every flow expired");
        }
    }

    // --- frame templates ------------------------------------------------------------------

    private int tcp(final long dstMac, final long srcMac, final int src, final int dst, final int sport, final int dport,
        final int flags, final int payload, final int ttl)
    {
        final int length = TestFrames.tcp(template, dstMac, srcMac, src, dst, sport, dport, flags, payload);
        setTtl(ttl);
        return length;
    }

    private int udp(final long dstMac, final long srcMac, final int src, final int dst, final int sport, final int dport,
        final int payload, final int ttl, final boolean withChecksum)
    {
        final int ip = EthernetHeader.write(template, 0, dstMac, srcMac, EthernetHeader.ETHER_TYPE_IPV4);
        final int l4 = ip + Ipv4Header.write(template, ip, 20 + 8 + payload, ttl, 17, src, dst);
        template.putShort(l4, (short)sport, BIG_ENDIAN);
        template.putShort(l4 + 2, (short)dport, BIG_ENDIAN);
        template.putShort(l4 + 4, (short)(8 + payload), BIG_ENDIAN);
        template.putShort(l4 + 6, (short)0, BIG_ENDIAN);
        template.setMemory(l4 + 8, payload, (byte)0x5A);
        if (withChecksum)
        {
            template.putShort(l4 + 6, (short)Checksums.l4Checksum(template, ip, l4, 8 + payload, 17), BIG_ENDIAN);
        }
        return l4 + 8 + payload;
    }

    private int echo(final long dstMac, final long srcMac, final int src, final int dst, final int type, final int payload,
        final int ttl)
    {
        final int ip = EthernetHeader.write(template, 0, dstMac, srcMac, EthernetHeader.ETHER_TYPE_IPV4);
        final int l4 = ip + Ipv4Header.write(template, ip, 20 + 8 + payload, ttl, 1, src, dst);
        template.putByte(l4, (byte)type);
        template.putByte(l4 + 1, (byte)0);
        template.putShort(l4 + 2, (short)0, BIG_ENDIAN);
        template.putInt(l4 + 4, 0x1234_0001, BIG_ENDIAN);
        template.setMemory(l4 + 8, payload, (byte)0x33);
        final int sum = ReferenceChecksum.onesComplementSum(template.byteArray(), l4, 8 + payload);
        template.putShort(l4 + 2, (short)~sum, BIG_ENDIAN);
        return l4 + 8 + payload;
    }

    /** An IPv6 TCP or UDP datagram (valid checksum) with the given hop limit. */
    private int l4v6(final long dstMac, final long srcMac, final long srcHigh, final long srcLow, final long dstHigh,
        final long dstLow, final int protocol, final int sport, final int dport, final int flags, final int payload,
        final int hopLimit)
    {
        final int length = TestFrames.ipv6L4(template, dstMac, srcMac, srcHigh, srcLow, dstHigh, dstLow, protocol, sport, dport,
            flags, payload);
        template.putByte(EthernetHeader.HEADER_LENGTH + Ipv6Header.HOP_LIMIT_OFFSET, (byte)hopLimit);
        return length;
    }

    /** The fragment header's M flag: more fragments follow. */
    static final int FRAGMENT_MORE = 1;

    /**
     * Puts an 8-byte extension header right after the fixed IPv6 header of {@link #template}: PadN options for
     * hop-by-hop and destination options, a routing header with no segments left, or a fragment header with
     * {@code fragmentWord} (offset and M flag) and an identification. The upper layer's checksum stays valid: its
     * pseudo-header holds the upper layer's own length.
     */
    private void insertExtension(final int type, final int fragmentWord)
    {
        final int ip = EthernetHeader.HEADER_LENGTH;
        final int at = ip + Ipv6Header.HEADER_LENGTH;
        final byte[] bytes = template.byteArray();
        if (templateLength + Ipv6ExtensionWalk.EXTENSION_UNIT > bytes.length)
        {
            return;
        }
        System.arraycopy(bytes, at, bytes, at + Ipv6ExtensionWalk.EXTENSION_UNIT, templateLength - at);
        template.setMemory(at, Ipv6ExtensionWalk.EXTENSION_UNIT, (byte)0);
        template.putByte(at + Ipv6ExtensionWalk.EXTENSION_NEXT_HEADER_OFFSET, template.getByte(ip + Ipv6Header.NEXT_HEADER_OFFSET));
        if (type == Ipv6ExtensionWalk.FRAGMENT)
        {
            template.putShort(at + Ipv6ExtensionWalk.FRAGMENT_OFFSET_FLAGS_OFFSET, (short)fragmentWord, BIG_ENDIAN);
            template.putInt(at + 4, 0x0BAD_CAFE, BIG_ENDIAN);
        }
        else if (type != Ipv6ExtensionWalk.ROUTING)
        {
            template.putByte(at + 2, (byte)1); // PadN, 4 bytes of padding
            template.putByte(at + 3, (byte)4);
        }
        template.putByte(ip + Ipv6Header.NEXT_HEADER_OFFSET, (byte)type);
        final int payloadLength = template.getShort(ip + Ipv6Header.PAYLOAD_LENGTH_OFFSET, BIG_ENDIAN) & 0xFFFF;
        template.putShort(ip + Ipv6Header.PAYLOAD_LENGTH_OFFSET, (short)(payloadLength + Ipv6ExtensionWalk.EXTENSION_UNIT),
            BIG_ENDIAN);
        templateLength += Ipv6ExtensionWalk.EXTENSION_UNIT;
    }

    private void setTtl(final int ttl)
    {
        final int ip = EthernetHeader.HEADER_LENGTH;
        template.putByte(ip + 8, (byte)ttl);
        template.putShort(ip + 10, (short)0, BIG_ENDIAN);
        template.putShort(ip + 10, (short)Checksums.ipv4HeaderChecksum(template, ip, 20), BIG_ENDIAN);
    }
}
