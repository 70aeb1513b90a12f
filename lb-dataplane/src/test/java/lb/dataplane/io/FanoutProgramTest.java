package lb.dataplane.io;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static lb.dataplane.io.FanoutProgram.Side.CLIENT;
import static lb.dataplane.io.FanoutProgram.Side.SERVER;
import static lb.dataplane.io.SteeringFrames.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The steering program's arithmetic, run by a classic-BPF interpreter with the kernel's receive
 * semantics, against the Java model {@link FanoutProgram#workerOf}; the kernel itself runs it in
 * {@code FanoutSteeringTest}.
 */
class FanoutProgramTest
{
    private static final long MAC_LB = 0x02_00_00_00_00_01L;
    private static final long MAC_PEER = 0x02_00_00_00_00_02L;
    private static final int VIP = 0xC6120064;      // 198.18.0.100
    private static final int BACKEND = 0xC612010B;  // 198.18.1.11
    private static final int ROUTER = 0xC6120002;   // 198.18.0.2
    /** 2001:2::/64, the client LAN, and 2001:2:0:1::/64, the server LAN: the high halves of their addresses. */
    private static final long CLIENT_NET6 = 0x2001_0002_0000_0000L;
    private static final long SERVER_NET6 = 0x2001_0002_0000_0001L;
    private static final long VIP6 = 0x100;         // 2001:2::100
    private static final long ROUTER6 = 0x2;        // 2001:2::2
    private static final long BACKEND6 = 0x11;      // 2001:2:0:1::11
    private static final int[] NO_EXTENSIONS = {};
    private static final int[] SKIPPED_EXTENSIONS = {HOP_BY_HOP, DESTINATION_OPTIONS, ROUTING};

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 7, 64})
    void programPicksTheWorkerTheModelPicksForTcpAndUdp(final int workers)
    {
        final FanoutProgram client = FanoutProgram.of(CLIENT, workers);
        final FanoutProgram server = FanoutProgram.of(SERVER, workers);
        final Random random = new Random(workers);
        final int[] seen = new int[workers];
        for (int i = 0; i < 3000; i++)
        {
            final int protocol = random.nextBoolean() ? TCP : UDP;
            final int srcIp = random.nextInt();
            final int dstIp = random.nextInt();
            final int srcPort = random.nextInt(65536);
            final int dstPort = random.nextInt(65536);
            final int ihl = 5 + (random.nextInt(4) == 0 ? random.nextInt(11) : 0);
            final boolean vlan = random.nextInt(8) == 0;
            final byte[] frame = ipv4(MAC_LB, MAC_PEER, protocol, srcIp, srcPort, dstIp, dstPort, ihl, 0x4000, vlan);

            final int expectedClient = FanoutProgram.workerOf(srcIp, srcPort, workers);
            assertEquals(expectedClient, ClassicBpf.run(client, frame), () -> "client side, frame " + describe(frame));
            assertEquals(FanoutProgram.workerOf(dstIp, dstPort, workers), ClassicBpf.run(server, frame),
                () -> "server side, frame " + describe(frame));
            seen[expectedClient]++;
        }
        for (int w = 0; w < workers; w++)
        {
            assertTrue(seen[w] > 0, "worker " + w + " got no frame of 3000");
        }
    }

    /**
     * A flow's two directions meet in one worker, and so do the ICMP errors about its packets: a
     * router's error about lb's packet to the client (client side) and a backend's about lb's
     * packet from it (server side), whatever the outer and quoted header lengths.
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 3, 5, 8})
    void aFlowsForwardAndReturnFramesAndItsIcmpErrorsMeetInOneWorker(final int workers)
    {
        final FanoutProgram client = FanoutProgram.of(CLIENT, workers);
        final FanoutProgram server = FanoutProgram.of(SERVER, workers);
        final Random random = new Random(17 * workers);
        final int[] errorTypes = {3, 11, 12};
        for (int i = 0; i < 2000; i++)
        {
            final int clientIp = 0xC6120000 | random.nextInt(1 << 16);
            final int clientPort = 1024 + random.nextInt(64512);
            final int protocol = random.nextBoolean() ? TCP : UDP;
            // Forward: client -> VIP:80 on the client side; return: backend:8080 -> client on the server side.
            final byte[] forward = ipv4(MAC_LB, MAC_PEER, protocol, clientIp, clientPort, VIP, 80, 5, 0, false);
            final byte[] back = ipv4(MAC_LB, MAC_PEER, protocol, BACKEND, 8080, clientIp, clientPort, 5, 0, false);
            final int worker = ClassicBpf.run(client, forward);
            assertEquals(worker, ClassicBpf.run(server, back), "flow " + clientIp + ":" + clientPort);

            final int type = errorTypes[random.nextInt(errorTypes.length)];
            final int outerIhl = random.nextInt(4) == 0 ? 6 + random.nextInt(10) : 5;
            final int quotedIhl = random.nextInt(4) == 0 ? 6 + random.nextInt(10) : 5;
            final byte[] toClient = ipv4(MAC_PEER, MAC_LB, protocol, VIP, 80, clientIp, clientPort, quotedIhl, 0x4000, false);
            assertEquals(worker, ClassicBpf.run(client, icmpError(MAC_LB, MAC_PEER, ROUTER, VIP, type, outerIhl, toClient)),
                "client side: an error about lb's packet to " + clientIp + ":" + clientPort);
            final byte[] toBackend = ipv4(MAC_PEER, MAC_LB, protocol, clientIp, clientPort, BACKEND, 8080, quotedIhl, 0x4000,
                false);
            assertEquals(worker, ClassicBpf.run(server, icmpError(MAC_LB, MAC_PEER, BACKEND, clientIp, type, outerIhl, toBackend)),
                "server side: an error about lb's packet from " + clientIp + ":" + clientPort);
        }
    }

    @Test
    void everythingButUnfragmentedTcpUdpAndIcmpErrorsGoesToWorkerZero()
    {
        final int workers = 4;
        // A client endpoint whose TCP frames go to worker 3, so "0" below is the program's choice, not luck.
        int port = 1024;
        while (FanoutProgram.workerOf(0xC612000B, port, workers) != 3)
        {
            port++;
        }
        final int clientPort = port;
        for (final FanoutProgram.Side side : FanoutProgram.Side.values())
        {
            final FanoutProgram p = FanoutProgram.of(side, workers);
            final byte[] tcp = side == CLIENT ? tcp(MAC_LB, MAC_PEER, 0xC612000B, clientPort, VIP, 80) :
                tcp(MAC_LB, MAC_PEER, BACKEND, 80, 0xC612000B, clientPort);
            assertEquals(3, ClassicBpf.run(p, tcp), side + " control frame");

            assertEquals(0, ClassicBpf.run(p, arp(MAC_PEER, 0xC612000B, VIP)), side + " ARP");
            assertEquals(0, ClassicBpf.run(p, ipv4(MAC_LB, MAC_PEER, ICMP, 0xC612000B, clientPort, 0xC612000B, clientPort,
                5, 0, false)), side + " ICMP");
            // ICMP other than an error about a flow (echo reply, redirect, echo request), or one cut before the quoted port.
            final byte[] quoted = side == CLIENT ? ipv4(MAC_PEER, MAC_LB, TCP, VIP, 80, 0xC612000B, clientPort, 5, 0x4000, false) :
                ipv4(MAC_PEER, MAC_LB, TCP, 0xC612000B, clientPort, BACKEND, 80, 5, 0x4000, false);
            final int to = side == CLIENT ? VIP : 0xC612000B;
            assertEquals(3, ClassicBpf.run(p, icmpError(MAC_LB, MAC_PEER, ROUTER, to, 3, 5, quoted)), side + " error");
            for (final int type : new int[] {0, 5, 8})
            {
                assertEquals(0, ClassicBpf.run(p, icmpError(MAC_LB, MAC_PEER, ROUTER, to, type, 5, quoted)), side + " type " + type);
            }
            assertEquals(0, ClassicBpf.run(p, cut(icmpError(MAC_LB, MAC_PEER, ROUTER, to, 3, 5, quoted), 14 + 20 + 8 + 20 + 1)),
                side + " error cut in the quoted ports");
            assertEquals(0, ClassicBpf.run(p, ipv4(MAC_LB, MAC_PEER, GRE, 0xC612000B, clientPort, 0xC612000B, clientPort,
                5, 0, false)), side + " GRE");
            // First fragment (more-fragments set) and a later one (offset set): no ports to hash.
            assertEquals(0, ClassicBpf.run(p, ipv4(MAC_LB, MAC_PEER, TCP, 0xC612000B, clientPort, 0xC612000B, clientPort,
                5, 0x2000, false)), side + " first fragment");
            assertEquals(0, ClassicBpf.run(p, ipv4(MAC_LB, MAC_PEER, UDP, 0xC612000B, clientPort, 0xC612000B, clientPort,
                5, 0x0010, false)), side + " later fragment");
            // A frame that ends inside the IP header or before the ports: the load fails, the program returns 0.
            assertEquals(0, ClassicBpf.run(p, cut(tcp, 14 + 19)), side + " cut in the IP header");
            assertEquals(0, ClassicBpf.run(p, cut(tcp, 14 + 20 + (side == CLIENT ? 1 : 3))), side + " cut in the ports");
            // An IPv6 EtherType is not IPv4, whatever its bytes say.
            final byte[] ipv6 = tcp.clone();
            ipv6[12] = (byte)0x86;
            ipv6[13] = (byte)0xDD;
            assertEquals(0, ClassicBpf.run(p, ipv6), side + " IPv6");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void sequentialClientPortsSpreadEvenly(final int workers)
    {
        final FanoutProgram client = FanoutProgram.of(CLIENT, workers);
        final int[] counts = new int[workers];
        final int frames = 12_000;
        for (int port = 32768; port < 32768 + frames; port++)
        {
            counts[ClassicBpf.run(client, tcp(MAC_LB, MAC_PEER, 0xC612000B, port, VIP, 80))]++;
        }
        final double even = (double)frames / workers;
        for (int w = 0; w < workers; w++)
        {
            assertTrue(Math.abs(counts[w] - even) < 0.05 * even,
                "worker " + w + " got " + counts[w] + " of " + frames + " frames from consecutive ports; even is " + even);
        }
    }

    @Test
    void encodesSockFilterStructsThatEndInAReturn()
    {
        final FanoutProgram p = FanoutProgram.of(SERVER, 3);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[p.length() * FanoutProgram.SOCK_FILTER_LENGTH]);
        assertEquals(buffer.capacity(), p.writeTo(buffer, 0));
        for (int i = 0; i < p.length(); i++)
        {
            final int at = i * FanoutProgram.SOCK_FILTER_LENGTH;
            assertEquals(p.code(i), buffer.getShort(at, java.nio.ByteOrder.LITTLE_ENDIAN) & 0xFFFF);
            assertEquals(p.jt(i), buffer.getByte(at + 2) & 0xFF);
            assertEquals(p.jf(i), buffer.getByte(at + 3) & 0xFF);
            assertEquals(p.k(i), buffer.getInt(at + 4, java.nio.ByteOrder.LITTLE_ENDIAN));
            if ((p.code(i) & 0x07) == FanoutProgram.BPF_JMP)
            {
                assertTrue(i + 1 + Math.max(p.jt(i), p.jf(i)) < p.length(), "jump " + i + " stays inside");
            }
        }
        assertEquals(FanoutProgram.BPF_RET, p.code(p.length() - 1) & 0x07);
        // The worker count is the modulus: the only place it appears.
        boolean modulus = false;
        for (int i = 0; i < p.length(); i++)
        {
            modulus |= p.code(i) == (FanoutProgram.BPF_ALU | FanoutProgram.BPF_MOD | FanoutProgram.BPF_K) && p.k(i) == 3;
        }
        assertTrue(modulus);
        assertThrows(IllegalArgumentException.class, () -> FanoutProgram.of(CLIENT, 0));
        assertThrows(IllegalArgumentException.class, () -> FanoutProgram.of(CLIENT, FanoutProgram.MAX_WORKERS + 1));
    }

    @Test
    void ringConfigTakesAProgramOnlyWithCbpfMode()
    {
        final FanoutProgram p = FanoutProgram.of(CLIENT, 2);
        final RingConfig ok = RingConfig.builder().fanout(5, PacketConstants.PACKET_FANOUT_CBPF, 0).fanoutProgram(p).build();
        assertSame(p, ok.fanoutProgram());
        assertThrows(IllegalArgumentException.class,
            () -> RingConfig.builder().fanout(5, PacketConstants.PACKET_FANOUT_HASH, 0).fanoutProgram(p).build());
        assertThrows(IllegalArgumentException.class,
            () -> RingConfig.builder().fanout(5, PacketConstants.PACKET_FANOUT_CBPF, 0).build());
        assertThrows(IllegalArgumentException.class, () -> RingConfig.builder().fanoutProgram(p).build());
    }

    /**
     * IPv6 TCP and UDP: the program hashes the client's folded 128-bit address and port as the
     * model does, past up to eight hop-by-hop, routing and destination-options headers.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 7, 64})
    void ipv6ProgramPicksTheWorkerTheModelPicksForTcpAndUdpPastExtensionHeaders(final int workers)
    {
        final FanoutProgram client = FanoutProgram.of(CLIENT, workers);
        final FanoutProgram server = FanoutProgram.of(SERVER, workers);
        final Random random = new Random(6 * workers);
        final int[] seen = new int[workers];
        for (int i = 0; i < 3000; i++)
        {
            final int protocol = random.nextBoolean() ? TCP : UDP;
            final long srcHigh = random.nextLong();
            final long srcLow = random.nextLong();
            final long dstHigh = random.nextLong();
            final long dstLow = random.nextLong();
            final int srcPort = random.nextInt(65536);
            final int dstPort = random.nextInt(65536);
            final int[] extensions = random.nextInt(3) == 0 ? randomExtensions(random, 1 + random.nextInt(8)) : NO_EXTENSIONS;
            final boolean vlan = random.nextInt(8) == 0;
            final byte[] frame = ipv6(MAC_LB, MAC_PEER, protocol, srcHigh, srcLow, srcPort, dstHigh, dstLow, dstPort,
                extensions, vlan);

            final int expectedClient = FanoutProgram.workerOf6(srcHigh, srcLow, srcPort, workers);
            assertEquals(expectedClient, ClassicBpf.run(client, frame), () -> "client side, frame " + describe(frame));
            assertEquals(FanoutProgram.workerOf6(dstHigh, dstLow, dstPort, workers), ClassicBpf.run(server, frame),
                () -> "server side, frame " + describe(frame));
            seen[expectedClient]++;
        }
        for (int w = 0; w < workers; w++)
        {
            assertTrue(seen[w] > 0, "worker " + w + " got no frame of 3000");
        }
    }

    /**
     * An IPv6 flow's two directions meet in one worker, and so do the ICMPv6 errors (types 1 to 4)
     * about its packets: a router's about lb's packet to the client (client side) and a backend's
     * about lb's packet from the client (server side).
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 3, 5, 8})
    void anIpv6FlowsForwardAndReturnFramesAndItsIcmpv6ErrorsMeetInOneWorker(final int workers)
    {
        final FanoutProgram client = FanoutProgram.of(CLIENT, workers);
        final FanoutProgram server = FanoutProgram.of(SERVER, workers);
        final Random random = new Random(61 * workers);
        final int[] perWorker = new int[workers];
        for (int i = 0; i < 2000; i++)
        {
            final long clientLow = random.nextInt(8) == 0 ? random.nextLong() : 0x10 + random.nextInt(1 << 16);
            final int clientPort = 1024 + random.nextInt(64512);
            final int protocol = random.nextBoolean() ? TCP : UDP;
            // The client may send extension headers; NAT66 carries them on to the backend, whose reply has none.
            final int[] extensions = random.nextInt(4) == 0 ? randomExtensions(random, 1 + random.nextInt(3)) : NO_EXTENSIONS;
            final byte[] forward = ipv6(MAC_LB, MAC_PEER, protocol, CLIENT_NET6, clientLow, clientPort, CLIENT_NET6, VIP6, 80,
                extensions, false);
            final byte[] back = ipv6(MAC_LB, MAC_PEER, protocol, SERVER_NET6, BACKEND6, 8080, CLIENT_NET6, clientLow, clientPort,
                NO_EXTENSIONS, false);
            final int worker = ClassicBpf.run(client, forward);
            assertEquals(FanoutProgram.workerOf6(CLIENT_NET6, clientLow, clientPort, workers), worker);
            assertEquals(worker, ClassicBpf.run(server, back), "flow " + Long.toHexString(clientLow) + " port " + clientPort);
            perWorker[worker]++;

            final int type = 1 + random.nextInt(4);
            final byte[] toClient = packet6(CLIENT_NET6, VIP6, CLIENT_NET6, clientLow, 63, NO_EXTENSIONS, protocol,
                transport(protocol, 80, clientPort));
            assertEquals(worker, ClassicBpf.run(client,
                icmpv6Error(MAC_LB, MAC_PEER, CLIENT_NET6, ROUTER6, CLIENT_NET6, VIP6, type, NO_EXTENSIONS, toClient)),
                "client side: type " + type + " about lb's packet to " + Long.toHexString(clientLow) + " port " + clientPort);
            final byte[] toBackend = packet6(CLIENT_NET6, clientLow, SERVER_NET6, BACKEND6, 63, NO_EXTENSIONS, protocol,
                transport(protocol, clientPort, 8080));
            assertEquals(worker, ClassicBpf.run(server,
                icmpv6Error(MAC_LB, MAC_PEER, SERVER_NET6, BACKEND6, CLIENT_NET6, clientLow, type, NO_EXTENSIONS, toBackend)),
                "server side: type " + type + " about lb's packet from " + Long.toHexString(clientLow) + " port " + clientPort);
        }
        for (int w = 0; w < workers; w++)
        {
            assertTrue(perWorker[w] > 0, "worker " + w + " got no flow of 2000");
        }
    }

    @Test
    void ipv6NdpEchoAndEverythingButTcpUdpAndErrorsAboutThemGoToWorkerZero()
    {
        final int workers = 4;
        final long clientLow = 0x11;
        // A client endpoint whose frames go to worker 3, so "0" below is the program's choice, not luck.
        int port = 1024;
        while (FanoutProgram.workerOf6(CLIENT_NET6, clientLow, port, workers) != 3)
        {
            port++;
        }
        final int clientPort = port;
        for (final FanoutProgram.Side side : FanoutProgram.Side.values())
        {
            final FanoutProgram p = FanoutProgram.of(side, workers);
            final String s = side + " ";
            final boolean clientSide = side == CLIENT;
            // The flow's frame as this side sees it, with the given extension headers.
            final Function<int[], byte[]> flow = extensions -> clientSide ?
                ipv6(MAC_LB, MAC_PEER, TCP, CLIENT_NET6, clientLow, clientPort, CLIENT_NET6, VIP6, 80, extensions, false) :
                ipv6(MAC_LB, MAC_PEER, TCP, SERVER_NET6, BACKEND6, 80, CLIENT_NET6, clientLow, clientPort, extensions, false);
            assertEquals(3, ClassicBpf.run(p, flow.apply(NO_EXTENSIONS)), s + "control frame");
            assertEquals(3, ClassicBpf.run(p, flow.apply(new int[] {DESTINATION_OPTIONS})), s + "destination options");
            final int[] eight = {HOP_BY_HOP, ROUTING, DESTINATION_OPTIONS, ROUTING, DESTINATION_OPTIONS, DESTINATION_OPTIONS,
                ROUTING, DESTINATION_OPTIONS};
            assertEquals(3, ClassicBpf.run(p, flow.apply(eight)), s + "eight extension headers");
            final int[] nine = Arrays.copyOf(eight, 9);
            nine[8] = DESTINATION_OPTIONS;
            assertEquals(0, ClassicBpf.run(p, flow.apply(nine)), s + "nine extension headers: more than the classifier takes");
            assertEquals(0, ClassicBpf.run(p, flow.apply(new int[] {FRAGMENT})), s + "fragment");
            assertEquals(0, ClassicBpf.run(p, flow.apply(new int[] {DESTINATION_OPTIONS, FRAGMENT})), s + "later fragment header");
            assertEquals(0, ClassicBpf.run(p, flow.apply(new int[] {AUTHENTICATION})), s + "authentication header");
            assertEquals(0, ClassicBpf.run(p, flow.apply(new int[] {ESP})), s + "ESP");
            final byte[] version4 = flow.apply(NO_EXTENSIONS);
            version4[14] = 0x45;
            assertEquals(0, ClassicBpf.run(p, version4), s + "IPv6 EtherType, version 4");
            // Frames that end inside a header: a load fails and the program returns 0.
            final byte[] plain = flow.apply(NO_EXTENSIONS);
            assertEquals(0, ClassicBpf.run(p, cut(plain, 14 + 39)), s + "cut in the fixed header");
            assertEquals(0, ClassicBpf.run(p, cut(plain, 14 + 40 + (clientSide ? 1 : 3))), s + "cut in the ports");
            assertEquals(0, ClassicBpf.run(p, cut(flow.apply(new int[] {DESTINATION_OPTIONS}), 14 + 40 + 1)),
                s + "cut before the extension's length");

            // NDP, echo, MLD and other ICMPv6 from the client's endpoint (or its port in the first bytes).
            final long peerLow = clientSide ? clientLow : BACKEND6;
            final long peerHigh = clientSide ? CLIENT_NET6 : SERVER_NET6;
            final long lbLow = clientSide ? VIP6 : 1;
            assertEquals(0, ClassicBpf.run(p, neighborSolicitation(MAC_PEER, peerHigh, peerLow, peerHigh, lbLow)), s + "NS");
            final byte[] portBody = new byte[20];
            new UnsafeBuffer(portBody).putShort(0, (short)clientPort, ByteOrder.BIG_ENDIAN);
            for (final int type : new int[] {0, 5, 100, ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY, ICMPV6_ROUTER_SOLICITATION,
                ICMPV6_ROUTER_ADVERTISEMENT, ICMPV6_NEIGHBOR_SOLICITATION, ICMPV6_NEIGHBOR_ADVERTISEMENT, ICMPV6_MLD2_REPORT})
            {
                assertEquals(0, ClassicBpf.run(p, frame6(MAC_LB, MAC_PEER, packet6(peerHigh, peerLow, peerHigh, lbLow, 255,
                    NO_EXTENSIONS, ICMPV6, icmpv6(type, 0, portBody)), false)), s + "ICMPv6 type " + type);
            }
            assertEquals(0, ClassicBpf.run(p, frame6(0x3333_0000_0016L, MAC_PEER, packet6(peerHigh, peerLow,
                0xFF02_0000_0000_0000L, 0x16, 1, new int[] {HOP_BY_HOP}, ICMPV6, icmpv6(ICMPV6_MLD2_REPORT, 0, portBody)),
                false)), s + "MLD report behind hop-by-hop");
            assertEquals(0, ClassicBpf.run(p, frame6(MAC_LB, MAC_PEER, packet6(peerHigh, peerLow, peerHigh, lbLow, 64,
                NO_EXTENSIONS, NO_NEXT_HEADER, new byte[8]), false)), s + "no next header");

            // ICMPv6 errors: about the flow they go with it, unless a header is in the way or the quote is no TCP/UDP.
            final byte[] quoted = clientSide ?
                packet6(CLIENT_NET6, VIP6, CLIENT_NET6, clientLow, 63, NO_EXTENSIONS, TCP, transport(TCP, 80, clientPort)) :
                packet6(CLIENT_NET6, clientLow, SERVER_NET6, BACKEND6, 63, NO_EXTENSIONS, TCP, transport(TCP, clientPort, 80));
            // Both go to a client-LAN address: lb's VIP (the quoted packet's source) or the client.
            final long toHigh = CLIENT_NET6;
            final long toLow = clientSide ? VIP6 : clientLow;
            for (int type = 1; type <= 4; type++)
            {
                assertEquals(3, ClassicBpf.run(p, icmpv6Error(MAC_LB, MAC_PEER, peerHigh, ROUTER6, toHigh, toLow, type,
                    NO_EXTENSIONS, quoted)), s + "error type " + type);
            }
            for (final int type : new int[] {0, 5, ICMPV6_ECHO_REQUEST})
            {
                assertEquals(0, ClassicBpf.run(p, icmpv6Error(MAC_LB, MAC_PEER, peerHigh, ROUTER6, toHigh, toLow, type,
                    NO_EXTENSIONS, quoted)), s + "not an error: type " + type);
            }
            assertEquals(0, ClassicBpf.run(p, icmpv6Error(MAC_LB, MAC_PEER, peerHigh, ROUTER6, toHigh, toLow, 1,
                new int[] {DESTINATION_OPTIONS}, quoted)), s + "error behind an extension header");
            final byte[] quotedWithOptions = clientSide ?
                packet6(CLIENT_NET6, VIP6, CLIENT_NET6, clientLow, 63, new int[] {DESTINATION_OPTIONS}, TCP,
                    transport(TCP, 80, clientPort)) :
                packet6(CLIENT_NET6, clientLow, SERVER_NET6, BACKEND6, 63, new int[] {DESTINATION_OPTIONS}, TCP,
                    transport(TCP, clientPort, 80));
            assertEquals(0, ClassicBpf.run(p, icmpv6Error(MAC_LB, MAC_PEER, peerHigh, ROUTER6, toHigh, toLow, 1,
                NO_EXTENSIONS, quotedWithOptions)), s + "error quoting a packet with an extension header");
            final byte[] quotedEcho = clientSide ?
                packet6(CLIENT_NET6, VIP6, CLIENT_NET6, clientLow, 63, NO_EXTENSIONS, ICMPV6, icmpv6(ICMPV6_ECHO_REPLY, 0, portBody)) :
                packet6(CLIENT_NET6, clientLow, SERVER_NET6, BACKEND6, 63, NO_EXTENSIONS, ICMPV6,
                    icmpv6(ICMPV6_ECHO_REQUEST, 0, portBody));
            assertEquals(0, ClassicBpf.run(p, icmpv6Error(MAC_LB, MAC_PEER, peerHigh, ROUTER6, toHigh, toLow, 2,
                NO_EXTENSIONS, quotedEcho)), s + "packet too big about an echo reply");
            final byte[] error = icmpv6Error(MAC_LB, MAC_PEER, peerHigh, ROUTER6, toHigh, toLow, 3, NO_EXTENSIONS, quoted);
            assertEquals(0, ClassicBpf.run(p, cut(error, 14 + 40 + 8 + 40 + (clientSide ? 3 : 1))),
                s + "error cut in the quoted ports");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void sequentialIpv6ClientPortsAndAddressesSpreadEvenly(final int workers)
    {
        final FanoutProgram client = FanoutProgram.of(CLIENT, workers);
        final int frames = 12_000;
        final int[] byPort = new int[workers];
        final int[] byAddress = new int[workers];
        for (int i = 0; i < frames; i++)
        {
            byPort[ClassicBpf.run(client, ipv6(MAC_LB, MAC_PEER, TCP, CLIENT_NET6, 0x11, 32768 + i, CLIENT_NET6, VIP6, 80,
                NO_EXTENSIONS, false))]++;
            byAddress[ClassicBpf.run(client, ipv6(MAC_LB, MAC_PEER, TCP, CLIENT_NET6, 0x1000 + i, 40000, CLIENT_NET6, VIP6, 80,
                NO_EXTENSIONS, false))]++;
        }
        // A uniform hash puts Binomial(frames, 1/workers) frames on each worker: allow 5 standard deviations
        // (a deterministic test, so this bounds the hash's quality; a skewed hash is off by far more).
        final double even = (double)frames / workers;
        final double allowed = 5 * Math.sqrt(even * (1 - 1.0 / workers));
        for (int w = 0; w < workers; w++)
        {
            assertTrue(Math.abs(byPort[w] - even) < allowed,
                "worker " + w + " got " + byPort[w] + " of " + frames + " frames from consecutive ports; even is " + even);
            assertTrue(Math.abs(byAddress[w] - even) < allowed,
                "worker " + w + " got " + byAddress[w] + " of " + frames + " frames from consecutive addresses; even is " + even);
        }
    }

    @Test
    void addressFoldIsTheHornerSumOfTheWordsAndIpv6ModelIsTheIpv4HashOfIt()
    {
        final int golden = 0x9E3779B1;
        assertEquals(((0x20010002 * golden + 0) * golden + 0) * golden + 0x11,
            FanoutProgram.addressFold(CLIENT_NET6, 0x11));
        // Swapped words fold apart (a plain xor would not).
        assertNotEquals(FanoutProgram.addressFold(0x0000_0001_0000_0002L, 0), FanoutProgram.addressFold(0x0000_0002_0000_0001L, 0));
        final Random random = new Random(13);
        for (int i = 0; i < 1000; i++)
        {
            final long high = random.nextLong();
            final long low = random.nextLong();
            final int port = random.nextInt(65536);
            assertEquals(FanoutProgram.workerOf(FanoutProgram.addressFold(high, low), port, 7),
                FanoutProgram.workerOf6(high, low, port, 7));
        }
    }

    /** Extension headers the classifier passes over: hop-by-hop only first, then routing or destination options. */
    private static int[] randomExtensions(final Random random, final int count)
    {
        final int[] extensions = new int[count];
        for (int i = 0; i < count; i++)
        {
            extensions[i] = i == 0 ? SKIPPED_EXTENSIONS[random.nextInt(3)] : SKIPPED_EXTENSIONS[1 + random.nextInt(2)];
        }
        return extensions;
    }

    private static String describe(final byte[] frame)
    {
        final StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(frame.length, 64); i++)
        {
            s.append(String.format("%02x", frame[i]));
        }
        return s.toString();
    }
}
