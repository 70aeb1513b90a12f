package lb.dataplane.pipeline;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import lb.dataplane.checksum.Checksums;
import lb.dataplane.checksum.ReferenceChecksum;
import lb.dataplane.flow.FlowTable;
import lb.dataplane.flow.FullPolicy;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.Icmpv6Header;
import lb.dataplane.packet.TcpHeader;
import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.SchedulerKind;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static lb.dataplane.pipeline.Ipv6PipelineTest.BACKEND_LOWS;
import static lb.dataplane.pipeline.Ipv6PipelineTest.CLIENT_LOW;
import static lb.dataplane.pipeline.Ipv6PipelineTest.CLIENT_NET;
import static lb.dataplane.pipeline.Ipv6PipelineTest.LB_LOW;
import static lb.dataplane.pipeline.Ipv6PipelineTest.SERVER_NET;
import static lb.dataplane.pipeline.Ipv6PipelineTest.VIP_LOW;
import static lb.dataplane.pipeline.PacketPipelineTest.BACKEND_MACS;
import static lb.dataplane.pipeline.PacketPipelineTest.CLIENT_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.CLIENT_SIDE_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.GATEWAY_IP;
import static lb.dataplane.pipeline.PacketPipelineTest.LB_CLIENT_IP;
import static lb.dataplane.pipeline.PacketPipelineTest.ROUTER_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.SERVER_SIDE_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.capture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Golden-packet tests of ICMPv6 errors about NAT66 and DSR flows and of lb's own time exceeded,
 * the IPv6 twin of {@link IcmpErrorRelayTest}. Each expected frame is built here from what the
 * other side sent (the backend's segment, the client's datagram), not from lb's output, and its
 * ICMPv6 checksum by {@link ReferenceChecksum}: a relayed error must quote, byte for byte but the
 * hop limit, the packet its addressee sent. Errors matching no flow, about an error, malformed or
 * with extension headers in the quote are dropped by name; time exceeded is rate-limited; the
 * relay and the time-exceeded path allocate nothing.
 */
class Icmpv6ErrorRelayTest extends PipelineFixture
{
    static final long ROUTER_LOW = 0x2;            // 2001:2::2, a router on the client LAN
    static final long SERVER_ROUTER_LOW = 0xFE;    // 2001:2:0:1::fe, a router on the server side
    static final long DSR_VIP_LOW = VIP_LOW + 1;
    static final long TUNNEL_VIP_LOW = VIP_LOW + 2;
    static final int MTU = 1400;
    static final int CLIENT_PORT = 40_000;
    static final int UDP_CLIENT_PORT = 5000;
    static final int UDP_BACKEND_PORT = 5353;
    static final int ETHERNET = 14;
    static final int OUTER_ICMP = ETHERNET + 40;
    static final int QUOTE = OUTER_ICMP + Icmpv6Header.HEADER_LENGTH;
    /** Data in the backend's segments: small enough to be quoted whole. */
    static final int SEGMENT_DATA = 100;

    final Ipv6AliasTable aliases = new Ipv6AliasTable();
    final FlowTable flows6 = FlowTable.ipv6(1024, FullPolicy.EVICT_STALEST, null);
    final int vip = alias(CLIENT_NET, VIP_LOW);
    final int dsrVip = alias(CLIENT_NET, DSR_VIP_LOW);
    final int tunnelVip = alias(CLIENT_NET, TUNNEL_VIP_LOW);
    final int clientIp6 = alias(CLIENT_NET, LB_LOW);
    final int gatewayIp6 = alias(SERVER_NET, LB_LOW);
    final BackendPool pool = new BackendPool(16);
    final PacketPipeline pipeline;
    long now = 1_000_000_000L;

    Icmpv6ErrorRelayTest()
    {
        pool.setMac(pool.add(alias(SERVER_NET, BACKEND_LOWS[0]), 8080, 1), BACKEND_MACS[0]);
        services.add(new Service(0, "web6", vip, 80, 6, pool, SchedulerKind.ROUND_ROBIN.create(pool)));
        final BackendPool udpPool = new BackendPool(16);
        udpPool.setMac(udpPool.add(alias(SERVER_NET, BACKEND_LOWS[0]), UDP_BACKEND_PORT, 1), BACKEND_MACS[0]);
        services.add(new Service(1, "dns6", vip, 53, 17, udpPool, SchedulerKind.ROUND_ROBIN.create(udpPool)));
        final BackendPool dsrPool = new BackendPool(16);
        dsrPool.setMac(dsrPool.add(alias(SERVER_NET, BACKEND_LOWS[1]), 0, 1), BACKEND_MACS[1]);
        services.add(new Service(2, "dsr6", dsrVip, 80, 6, dsrPool, SchedulerKind.ROUND_ROBIN.create(dsrPool),
            ForwardingMode.DSR));
        final BackendPool tunnelPool = new BackendPool(16);
        tunnelPool.setMac(tunnelPool.add(alias(SERVER_NET, BACKEND_LOWS[2]), 0, 1), BACKEND_MACS[2]);
        services.add(new Service(4, "tun6", tunnelVip, 80, 6, tunnelPool, SchedulerKind.ROUND_ROBIN.create(tunnelPool),
            ForwardingMode.IPIP));
        pipeline = pipeline(capture(toClient), capture(toServer));
    }

    private int alias(final long high, final long low)
    {
        final int alias = Ipv6AliasTable.preferredAlias(high, low);
        if (aliases.alias(high, low) == Ipv6AliasTable.NONE)
        {
            assertTrue(aliases.put(alias, high, low));
        }
        return alias;
    }

    PacketPipeline pipeline(final FrameSink client, final FrameSink server)
    {
        return new PacketPipeline(services, flows, counters, new BackendStatsTable(), client, server,
            capture(new ArrayList<>()), CLIENT_SIDE_MAC, SERVER_SIDE_MAC, LB_CLIENT_IP, GATEWAY_IP)
            .ipv6(flows6, aliases, clientIp6, gatewayIp6);
    }

    byte[] copy(final int length)
    {
        final byte[] bytes = new byte[length];
        frame.getBytes(0, bytes);
        return bytes;
    }

    int clientSyn(final long vipLow, final int clientPort)
    {
        return TestFrames.ipv6L4(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, CLIENT_NET, vipLow, 6, clientPort,
            80, TcpHeader.SYN, 0);
    }

    /** A NAT66 flow with a segment of {@link #SEGMENT_DATA} bytes from the backend: {backend's segment as sent, lb's to the client}. */
    byte[][] tcpFlowWithData(final int clientPort)
    {
        pipeline.onClientFrame(frame, 0, clientSyn(VIP_LOW, clientPort), 0, now);
        final int length = TestFrames.ipv6L4(frame, SERVER_SIDE_MAC, BACKEND_MACS[0], SERVER_NET, BACKEND_LOWS[0], CLIENT_NET,
            CLIENT_LOW, 6, 8080, clientPort, TcpHeader.ACK, SEGMENT_DATA);
        final byte[] sent = copy(length);
        pipeline.onServerFrame(frame, 0, length, 0, now);
        return new byte[][] {sent, toClient.get(toClient.size() - 1)};
    }

    /** A packet too big from the client-side router about lb's packet to the client, quoting {@code quoteLength} bytes of it. */
    int packetTooBigAbout(final byte[] lbsPacket, final int quoteLength)
    {
        return TestFrames.icmpv6Error(frame, CLIENT_SIDE_MAC, ROUTER_MAC, CLIENT_NET, ROUTER_LOW, CLIENT_NET, VIP_LOW,
            Icmpv6Header.TYPE_PACKET_TOO_BIG, 0, MTU, lbsPacket, quoteLength);
    }

    /**
     * The error an addressee should receive: {@code received} with new MACs, hop limit 63, the given
     * outer address and the quote replaced by the first bytes of {@code original}'s IPv6 packet (hop
     * limit 63: lb decremented it on the way), the ICMPv6 checksum by the reference.
     */
    static byte[] expectedError(final byte[] received, final long dstMac, final long srcMac, final int outerAddressIndex,
        final long high, final long low, final byte[] original)
    {
        final byte[] expected = received.clone();
        final UnsafeBuffer e = new UnsafeBuffer(expected);
        e.putLong(0, dstMac << 16, BIG_ENDIAN);
        e.putLong(6, srcMac << 16 | 0x86DD, BIG_ENDIAN);
        expected[ETHERNET + 7] = 63;
        e.putLong(outerAddressIndex, high, BIG_ENDIAN);
        e.putLong(outerAddressIndex + 8, low, BIG_ENDIAN);
        System.arraycopy(original, ETHERNET, expected, QUOTE, expected.length - QUOTE);
        expected[QUOTE + 7] = 63;
        expected[OUTER_ICMP + 2] = 0;
        expected[OUTER_ICMP + 3] = 0;
        final int checksum = ReferenceChecksum.ipv6L4Checksum(expected, ETHERNET, OUTER_ICMP, Checksums.PROTOCOL_ICMPV6);
        e.putShort(OUTER_ICMP + 2, (short)checksum, BIG_ENDIAN);
        return expected;
    }

    @Test
    void packetTooBigFromAClientSideRouterReachesTheBackendAboutThePacketItSent()
    {
        final byte[][] segment = tcpFlowWithData(CLIENT_PORT);
        final int quoteLength = 40 + 20 + SEGMENT_DATA;
        final int length = packetTooBigAbout(segment[1], quoteLength);
        final byte[] received = copy(length);
        pipeline.onClientFrame(frame, 0, length, 0, now);

        assertEquals(2, toServer.size(), "the SYN, then the error");
        final byte[] out = toServer.get(1);
        assertArrayEquals(expectedError(received, BACKEND_MACS[0], SERVER_SIDE_MAC, ETHERNET + 24, SERVER_NET, BACKEND_LOWS[0],
            segment[0]), out);
        assertEquals(MTU, new UnsafeBuffer(out).getInt(OUTER_ICMP + 4, BIG_ENDIAN), "the MTU is kept");
        assertEquals(ROUTER_LOW, new UnsafeBuffer(out).getLong(ETHERNET + 16, BIG_ENDIAN), "still from the router");
        final byte[] quoted = Arrays.copyOfRange(out, QUOTE - ETHERNET, out.length);
        assertEquals(ReferenceChecksum.ipv6L4Checksum(quoted, ETHERNET, ETHERNET + 40, 6),
            new UnsafeBuffer(quoted).getShort(ETHERNET + 40 + 16, BIG_ENDIAN) & 0xFFFF, "the quoted TCP checksum verifies");
        assertEquals(1, counters.icmpErrorsForwardedToServer.get());
        assertEquals(0, counters.totalDrops());
    }

    @Test
    void aQuoteOfOnlyEightTcpBytesIsTranslatedWithoutTheChecksumItDoesNotHold()
    {
        final byte[][] segment = tcpFlowWithData(CLIENT_PORT + 1);
        final int length = packetTooBigAbout(segment[1], 40 + 8);
        final byte[] received = copy(length);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertArrayEquals(expectedError(received, BACKEND_MACS[0], SERVER_SIDE_MAC, ETHERNET + 24, SERVER_NET, BACKEND_LOWS[0],
            segment[0]), toServer.get(toServer.size() - 1));
    }

    @Test
    void portUnreachableFromABackendReachesTheClientFromTheVipAboutItsOwnDatagram()
    {
        final int datagram = TestFrames.ipv6L4(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, CLIENT_NET, VIP_LOW,
            17, UDP_CLIENT_PORT, 53, 0, 33);
        final byte[] clientSent = copy(datagram);
        pipeline.onClientFrame(frame, 0, datagram, 0, now);
        final byte[] lbSent = toServer.get(0);
        assertEquals(UDP_BACKEND_PORT, new UnsafeBuffer(lbSent).getShort(56, BIG_ENDIAN) & 0xFFFF);

        final int length = TestFrames.icmpv6Error(frame, SERVER_SIDE_MAC, BACKEND_MACS[0], SERVER_NET, BACKEND_LOWS[0], CLIENT_NET,
            CLIENT_LOW, Icmpv6Header.TYPE_DESTINATION_UNREACHABLE, 4, 0, lbSent, datagram - ETHERNET);
        final byte[] received = copy(length);
        pipeline.onServerFrame(frame, 0, length, 0, now);

        assertEquals(1, toClient.size());
        final byte[] out = toClient.get(0);
        assertArrayEquals(expectedError(received, CLIENT_MAC, CLIENT_SIDE_MAC, ETHERNET + 8, CLIENT_NET, VIP_LOW, clientSent), out,
            "from the VIP, quoting the client's own datagram");
        final byte[] quoted = Arrays.copyOfRange(out, QUOTE - ETHERNET, out.length);
        assertEquals(ReferenceChecksum.ipv6L4Checksum(quoted, ETHERNET, ETHERNET + 40, 17),
            new UnsafeBuffer(quoted).getShort(ETHERNET + 40 + 6, BIG_ENDIAN) & 0xFFFF, "the quoted UDP checksum verifies");
        assertEquals(1, counters.icmpErrorsForwardedToClient.get());

        // A router on the server side says the same datagram was too big: also relayed, still from the VIP.
        final int tooBig = TestFrames.icmpv6Error(frame, SERVER_SIDE_MAC, ROUTER_MAC, SERVER_NET, SERVER_ROUTER_LOW, CLIENT_NET,
            CLIENT_LOW, Icmpv6Header.TYPE_PACKET_TOO_BIG, 0, 1280, lbSent, datagram - ETHERNET);
        final byte[] fromRouter = copy(tooBig);
        pipeline.onServerFrame(frame, 0, tooBig, 0, now);
        assertArrayEquals(expectedError(fromRouter, CLIENT_MAC, CLIENT_SIDE_MAC, ETHERNET + 8, CLIENT_NET, VIP_LOW, clientSent),
            toClient.get(1));
        assertEquals(0, counters.totalDrops());
    }

    @Test
    void anErrorAboutADsrFlowReachesItsBackendWithOnlyTheMacsChanged()
    {
        pipeline.onClientFrame(frame, 0, clientSyn(DSR_VIP_LOW, CLIENT_PORT + 2), 0, now);
        // The backend answers the client directly, from the VIP; a router's error about that goes to the VIP, so to lb.
        TestFrames.ipv6L4(frame, CLIENT_MAC, BACKEND_MACS[1], CLIENT_NET, DSR_VIP_LOW, CLIENT_NET, CLIENT_LOW, 6, 80,
            CLIENT_PORT + 2, TcpHeader.ACK, SEGMENT_DATA);
        final byte[] backendSent = copy(ETHERNET + 40 + 20 + SEGMENT_DATA);
        final int length = TestFrames.icmpv6Error(frame, CLIENT_SIDE_MAC, ROUTER_MAC, CLIENT_NET, ROUTER_LOW, CLIENT_NET,
            DSR_VIP_LOW, Icmpv6Header.TYPE_PACKET_TOO_BIG, 0, MTU, backendSent, 40 + 20 + SEGMENT_DATA);
        final byte[] received = copy(length);
        pipeline.onClientFrame(frame, 0, length, 0, now);

        final byte[] expected = received.clone();
        final UnsafeBuffer e = new UnsafeBuffer(expected);
        e.putLong(0, BACKEND_MACS[1] << 16, BIG_ENDIAN);
        e.putLong(6, SERVER_SIDE_MAC << 16 | 0x86DD, BIG_ENDIAN);
        assertArrayEquals(expected, toServer.get(toServer.size() - 1), "DSR: the backend holds the VIP; nothing else changes");
        assertEquals(1, counters.icmpErrorsForwardedToServer.get());
    }

    @Test
    void anErrorAboutAnIpipFlowReachesItsBackendThroughTheFlowsTunnel()
    {
        pipeline.onClientFrame(frame, 0, clientSyn(TUNNEL_VIP_LOW, CLIENT_PORT + 3), 0, now);
        // As for DSR the backend answers from the VIP it holds, and a router's error about that comes to lb.
        TestFrames.ipv6L4(frame, CLIENT_MAC, BACKEND_MACS[2], CLIENT_NET, TUNNEL_VIP_LOW, CLIENT_NET, CLIENT_LOW, 6, 80,
            CLIENT_PORT + 3, TcpHeader.ACK, SEGMENT_DATA);
        final byte[] backendSent = copy(ETHERNET + 40 + 20 + SEGMENT_DATA);
        final int length = TestFrames.icmpv6Error(frame, CLIENT_SIDE_MAC, ROUTER_MAC, CLIENT_NET, ROUTER_LOW, CLIENT_NET,
            TUNNEL_VIP_LOW, Icmpv6Header.TYPE_PACKET_TOO_BIG, 0, MTU, backendSent, 40 + 20 + SEGMENT_DATA);
        final byte[] received = copy(length);
        pipeline.onClientFrame(frame, 0, length, 0, now);

        final byte[] out = toServer.get(toServer.size() - 1);
        final UnsafeBuffer o = new UnsafeBuffer(out);
        assertEquals(length + 40, out.length, "one outer IPv6 header more");
        assertEquals(BACKEND_MACS[2], o.getLong(0, BIG_ENDIAN) >>> 16);
        assertEquals(41, out[ETHERNET + 6] & 0xFF, "next header: IPv6 in IPv6");
        assertEquals(SERVER_NET, o.getLong(ETHERNET + 8, BIG_ENDIAN), "outer source: gateway-ip6");
        assertEquals(LB_LOW, o.getLong(ETHERNET + 16, BIG_ENDIAN));
        assertEquals(SERVER_NET, o.getLong(ETHERNET + 24, BIG_ENDIAN), "outer destination: the flow's backend");
        assertEquals(BACKEND_LOWS[2], o.getLong(ETHERNET + 32, BIG_ENDIAN));
        assertArrayEquals(Arrays.copyOfRange(received, ETHERNET, length), Arrays.copyOfRange(out, ETHERNET + 40, out.length),
            "the router's error inside, unchanged");
        assertEquals(1, counters.icmpErrorsForwardedToServer.get());
    }

    @Test
    void errorsAboutNoFlowAboutAnErrorMalformedOrNotForUsAreDroppedByName()
    {
        final byte[] lbSent = tcpFlowWithData(CLIENT_PORT + 3)[1];
        final int sentBefore = toServer.size();

        // No flow: the quote names another client port.
        final byte[] otherPort = lbSent.clone();
        new UnsafeBuffer(otherPort).putShort(ETHERNET + 40 + 2, (short)(CLIENT_PORT + 99), BIG_ENDIAN);
        pipeline.onClientFrame(frame, 0, packetTooBigAbout(otherPort, 48), 0, now);
        assertEquals(1, counters.drops(DropReason.ICMP_ERROR_NO_FLOW));

        // From the server side, about a packet client -> backend of another client port.
        TestFrames.ipv6L4(frame, SERVER_SIDE_MAC, CLIENT_SIDE_MAC, CLIENT_NET, CLIENT_LOW, SERVER_NET, BACKEND_LOWS[0], 6,
            CLIENT_PORT + 98, 8080, TcpHeader.ACK, 0);
        final byte[] neverSent = copy(ETHERNET + 40 + 20);
        pipeline.onServerFrame(frame, 0, TestFrames.icmpv6Error(frame, SERVER_SIDE_MAC, BACKEND_MACS[0], SERVER_NET,
            BACKEND_LOWS[0], CLIENT_NET, CLIENT_LOW, 1, 4, 0, neverSent, 48), 0, now);
        assertEquals(2, counters.drops(DropReason.ICMP_ERROR_NO_FLOW));

        // About an ICMPv6 message: never relayed.
        final byte[] aboutIcmp = lbSent.clone();
        aboutIcmp[ETHERNET + 6] = 58;
        pipeline.onClientFrame(frame, 0, packetTooBigAbout(aboutIcmp, 48), 0, now);
        assertEquals(1, counters.drops(DropReason.ICMP_ERROR_ABOUT_ICMP));

        // An extension header after the quoted fixed header.
        final byte[] withExtension = lbSent.clone();
        withExtension[ETHERNET + 6] = 60;
        pipeline.onClientFrame(frame, 0, packetTooBigAbout(withExtension, 48), 0, now);
        assertEquals(1, counters.drops(DropReason.ICMPV6_ERROR_QUOTE_EXTENSION));

        // Cut short: fewer than 8 bytes of TCP quoted; not IPv6; not from the error's addressee.
        pipeline.onClientFrame(frame, 0, packetTooBigAbout(lbSent, 47), 0, now);
        final byte[] version4 = lbSent.clone();
        version4[ETHERNET] = 0x40;
        pipeline.onClientFrame(frame, 0, packetTooBigAbout(version4, 48), 0, now);
        final byte[] otherSource = lbSent.clone();
        otherSource[ETHERNET + 23] ^= 1;
        pipeline.onClientFrame(frame, 0, packetTooBigAbout(otherSource, 48), 0, now);
        assertEquals(3, counters.drops(DropReason.ICMP_ERROR_BAD_QUOTE));

        // A corrupted checksum, another MAC, and a hop limit that runs out here.
        int length = packetTooBigAbout(lbSent, 48);
        frame.putByte(length - 1, (byte)(frame.getByte(length - 1) ^ 0x10));
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(1, counters.drops(DropReason.BAD_ICMPV6_CHECKSUM));
        length = packetTooBigAbout(lbSent, 48);
        frame.putByte(5, (byte)0x77);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(1, counters.drops(DropReason.IPV6_NOT_FOR_US));
        length = packetTooBigAbout(lbSent, 48);
        frame.putByte(ETHERNET + 7, (byte)1);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(1, counters.drops(DropReason.HOP_LIMIT_EXCEEDED));
        assertEquals(0, counters.icmpTimeExceededSent.get(), "never an error about an error");

        // An error to lb's own address is not about a flow.
        pipeline.onClientFrame(frame, 0, TestFrames.icmpv6Error(frame, CLIENT_SIDE_MAC, ROUTER_MAC, CLIENT_NET, ROUTER_LOW,
            CLIENT_NET, LB_LOW, 1, 0, 0, lbSent, 48), 0, now);
        assertEquals(1, counters.drops(DropReason.UNSUPPORTED_ICMPV6));

        assertEquals(sentBefore, toServer.size(), "nothing relayed");
        assertEquals(0, counters.icmpErrorsForwardedToServer.get() + counters.icmpErrorsForwardedToClient.get());
        assertEquals(11, counters.totalDrops());
    }

    @Test
    void anErrorAboutAFlowWhoseBackendWasDeletedIsDroppedAsNoBackend()
    {
        final byte[] lbSent = tcpFlowWithData(CLIENT_PORT + 8)[1];
        assertTrue(pool.remove(pool.handleAt(0)));
        pipeline.onClientFrame(frame, 0, packetTooBigAbout(lbSent, 48), 0, now);
        assertEquals(1, counters.drops(DropReason.NO_BACKEND));
        assertEquals(1, toServer.size(), "the SYN only");
    }

    /** The time exceeded lb owes the sender of {@code offending}: from {@code ownLow} on that side's prefix. */
    static byte[] expectedTimeExceeded(final byte[] offending, final long dstMac, final long srcMac, final long ownHigh,
        final long ownLow)
    {
        final byte[] expected = new byte[ETHERNET + 40 + 8 + offending.length - ETHERNET];
        final UnsafeBuffer e = new UnsafeBuffer(expected);
        e.putLong(0, dstMac << 16, BIG_ENDIAN);
        e.putLong(6, srcMac << 16 | 0x86DD, BIG_ENDIAN);
        e.putInt(ETHERNET, 0x6000_0000, BIG_ENDIAN);
        e.putShort(ETHERNET + 4, (short)(8 + offending.length - ETHERNET), BIG_ENDIAN);
        expected[ETHERNET + 6] = 58;
        expected[ETHERNET + 7] = 64;
        e.putLong(ETHERNET + 8, ownHigh, BIG_ENDIAN);
        e.putLong(ETHERNET + 16, ownLow, BIG_ENDIAN);
        System.arraycopy(offending, ETHERNET + 8, expected, ETHERNET + 24, 16);   // to the offending packet's source
        expected[OUTER_ICMP] = 3;
        System.arraycopy(offending, ETHERNET, expected, QUOTE, offending.length - ETHERNET);
        e.putShort(OUTER_ICMP + 2, (short)ReferenceChecksum.ipv6L4Checksum(expected, ETHERNET, OUTER_ICMP, 58), BIG_ENDIAN);
        return expected;
    }

    @Test
    void hopLimitOneIsAnsweredWithTimeExceededFromLbsAddressOnEachSide()
    {
        pipeline.onClientFrame(frame, 0, clientSyn(VIP_LOW, CLIENT_PORT + 5), 0, now);
        int length = TestFrames.ipv6L4(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, CLIENT_NET, VIP_LOW, 6,
            CLIENT_PORT + 5, 80, TcpHeader.ACK, 30);
        frame.putByte(ETHERNET + 7, (byte)1);
        final byte[] expiring = copy(length);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(1, toServer.size(), "only the SYN went on");
        assertArrayEquals(expectedTimeExceeded(expiring, CLIENT_MAC, CLIENT_SIDE_MAC, CLIENT_NET, LB_LOW), toClient.get(0),
            "from client-ip6 to the client");

        length = TestFrames.ipv6L4(frame, SERVER_SIDE_MAC, BACKEND_MACS[0], SERVER_NET, BACKEND_LOWS[0], CLIENT_NET, CLIENT_LOW,
            6, 8080, CLIENT_PORT + 5, TcpHeader.ACK, 20);
        frame.putByte(ETHERNET + 7, (byte)0);
        final byte[] expiringBack = copy(length);
        pipeline.onServerFrame(frame, 0, length, 0, now);
        assertEquals(2, toServer.size());
        assertArrayEquals(expectedTimeExceeded(expiringBack, BACKEND_MACS[0], SERVER_SIDE_MAC, SERVER_NET, LB_LOW),
            toServer.get(1), "from gateway-ip6 to the backend");
        assertEquals(1, toClient.size());
        assertEquals(2, counters.icmpTimeExceededSent.get());
        assertEquals(2, counters.drops(DropReason.HOP_LIMIT_EXCEEDED));
        assertEquals(2, counters.madeUp());

        // A source that names no single host is never answered.
        length = TestFrames.ipv6L4(frame, CLIENT_SIDE_MAC, CLIENT_MAC, 0xFF02_0000_0000_0000L, 1, CLIENT_NET, VIP_LOW, 17,
            UDP_CLIENT_PORT, 53, 0, 4);
        frame.putByte(ETHERNET + 7, (byte)1);
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(3, counters.drops(DropReason.HOP_LIMIT_EXCEEDED));
        assertEquals(2, counters.icmpTimeExceededSent.get(), "no error to a multicast source");
    }

    @Test
    void timeExceededSharesIpv4sTokenBucket()
    {
        pipeline.onClientFrame(frame, 0, clientSyn(VIP_LOW, CLIENT_PORT + 6), 0, now);
        final int length = TestFrames.ipv6L4(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, CLIENT_NET, VIP_LOW, 6,
            CLIENT_PORT + 6, 80, TcpHeader.ACK, 0);
        frame.putByte(ETHERNET + 7, (byte)1);
        final byte[] expiring = copy(length);
        for (int i = 0; i < 2 * PacketPipeline.ICMP_ERROR_BURST; i++)
        {
            frame.putBytes(0, expiring);
            pipeline.onClientFrame(frame, 0, length, 0, now);
        }
        assertEquals(PacketPipeline.ICMP_ERROR_BURST, counters.icmpTimeExceededSent.get(), "a burst, then nothing at once");
        assertEquals(2 * PacketPipeline.ICMP_ERROR_BURST, counters.drops(DropReason.HOP_LIMIT_EXCEEDED), "each still counted");

        // 10 ms later the bucket has earned 10 tokens (1,000 a second): IPv4 TTL expiries take 6, IPv6 gets the other 4.
        now += 10_000_000L;
        final BackendPool pool4 = new BackendPool(16);
        pool4.setMac(pool4.add(PacketPipelineTest.BACKEND_IPS[0], 0, 1), BACKEND_MACS[0]);
        services.add(new Service(3, "web", PacketPipelineTest.VIP, 80, 6, pool4, SchedulerKind.ROUND_ROBIN.create(pool4)));
        pipeline.onClientFrame(frame, 0, TestFrames.tcp(frame, CLIENT_SIDE_MAC, CLIENT_MAC, PacketPipelineTest.CLIENT_IP,
            PacketPipelineTest.VIP, 40_000, 80, TcpHeader.SYN, 0), 0, now);
        final int length4 = TestFrames.tcp(frame, CLIENT_SIDE_MAC, CLIENT_MAC, PacketPipelineTest.CLIENT_IP,
            PacketPipelineTest.VIP, 40_000, 80, TcpHeader.ACK, 0);
        frame.putByte(ETHERNET + 8, (byte)1);
        frame.putShort(ETHERNET + 10, (short)0, BIG_ENDIAN);
        frame.putShort(ETHERNET + 10, (short)Checksums.ipv4HeaderChecksum(frame, ETHERNET, 20), BIG_ENDIAN);
        final byte[] expiring4 = copy(length4);
        for (int i = 0; i < 6; i++)
        {
            frame.putBytes(0, expiring4);
            pipeline.onClientFrame(frame, 0, length4, 0, now);
        }
        assertEquals(6, counters.drops(DropReason.TTL_EXCEEDED));
        for (int i = 0; i < 20; i++)
        {
            frame.putBytes(0, expiring);
            pipeline.onClientFrame(frame, 0, length, 0, now);
        }
        assertEquals(PacketPipeline.ICMP_ERROR_BURST + 10, counters.icmpTimeExceededSent.get(), "one budget for both families");
        assertEquals(4, toClient.stream().skip(PacketPipeline.ICMP_ERROR_BURST + 6).count(), "IPv6 got what IPv4 left");
        for (final byte[] error : toClient)
        {
            if ((new UnsafeBuffer(error).getShort(12, BIG_ENDIAN) & 0xFFFF) != 0x86DD)
            {
                continue;
            }
            assertTrue(Checksums.ipv6L4ChecksumValid(new UnsafeBuffer(error), ETHERNET, OUTER_ICMP, error.length - OUTER_ICMP,
                58), "every error's checksum verifies");
        }
    }

    @Test
    void relayingErrorsBothWaysAndTimeExceededAllocateNothing()
    {
        final byte[] lbSentTcp = tcpFlowWithData(CLIENT_PORT + 7)[1];
        final int datagram = TestFrames.ipv6L4(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, CLIENT_NET, VIP_LOW,
            17, UDP_CLIENT_PORT, 53, 0, 33);
        pipeline.onClientFrame(frame, 0, datagram, 0, now);
        final byte[] lbSentUdp = toServer.get(toServer.size() - 1);

        final int clientErrorLength = packetTooBigAbout(lbSentTcp, 40 + 20 + SEGMENT_DATA);
        final byte[] clientError = copy(clientErrorLength);
        final int serverErrorLength = TestFrames.icmpv6Error(frame, SERVER_SIDE_MAC, BACKEND_MACS[0], SERVER_NET,
            BACKEND_LOWS[0], CLIENT_NET, CLIENT_LOW, 1, 4, 0, lbSentUdp, datagram - ETHERNET);
        final byte[] serverError = copy(serverErrorLength);
        final int expiringLength = TestFrames.ipv6L4(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_NET, CLIENT_LOW, CLIENT_NET,
            VIP_LOW, 6, CLIENT_PORT + 7, 80, TcpHeader.ACK, 10);
        frame.putByte(ETHERNET + 7, (byte)1);
        final byte[] expiring = copy(expiringLength);

        final long[] sunk = new long[1];
        final FrameSink counting = (DirectBuffer buffer, int offset, int length) ->
        {
            sunk[0] += length;
            return true;
        };
        final PacketPipeline relay = pipeline(counting, counting);
        final UnsafeBuffer work = new UnsafeBuffer(new byte[2048]);
        final ThreadMXBean threads = (ThreadMXBean)ManagementFactory.getThreadMXBean();
        long allocated = 0;
        for (int round = 0; round < 5; round++)
        {
            final long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 20_000; i++)
            {
                now += 1_000_000L;
                work.putBytes(0, clientError);
                relay.onClientFrame(work, 0, clientErrorLength, 0, now);
                work.putBytes(0, serverError);
                relay.onServerFrame(work, 0, serverErrorLength, 0, now);
                work.putBytes(0, expiring);
                relay.onClientFrame(work, 0, expiringLength, 0, now);
            }
            allocated = threads.getCurrentThreadAllocatedBytes() - before;
        }
        assertEquals(5 * 20_000L, counters.icmpErrorsForwardedToServer.get(), "every client-side error relayed");
        assertEquals(5 * 20_000L, counters.icmpErrorsForwardedToClient.get());
        assertEquals(5 * 20_000L, counters.icmpTimeExceededSent.get(), "one a millisecond: within the rate");
        assertEquals(5 * 20_000L, counters.totalDrops(), "the expiring packets only");
        assertTrue(allocated < 1024, "bytes allocated by 60,000 frames after warm-up: " + allocated);
        assertTrue(sunk[0] > 0);
    }
}
