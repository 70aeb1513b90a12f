package lb.dataplane.pipeline;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import lb.dataplane.checksum.Checksums;
import lb.dataplane.checksum.ReferenceChecksum;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.IcmpHeader;
import lb.dataplane.packet.TcpHeader;
import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.SchedulerKind;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static lb.dataplane.pipeline.PacketPipelineTest.BACKEND_IPS;
import static lb.dataplane.pipeline.PacketPipelineTest.BACKEND_MACS;
import static lb.dataplane.pipeline.PacketPipelineTest.CLIENT_IP;
import static lb.dataplane.pipeline.PacketPipelineTest.CLIENT_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.CLIENT_SIDE_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.GATEWAY_IP;
import static lb.dataplane.pipeline.PacketPipelineTest.LB_CLIENT_IP;
import static lb.dataplane.pipeline.PacketPipelineTest.ROUTER_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.SERVER_SIDE_MAC;
import static lb.dataplane.pipeline.PacketPipelineTest.VIP;
import static lb.dataplane.pipeline.PacketPipelineTest.capture;
import static lb.dataplane.pipeline.PacketPipelineTest.int32;
import static lb.dataplane.pipeline.PacketPipelineTest.mac;
import static lb.dataplane.pipeline.PacketPipelineTest.port;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Golden-packet tests of ICMP errors about NAT flows: a router's fragmentation-needed about lb's
 * packet to a client reaches the backend as if lb were not there (the quoted packet is the one the
 * backend sent, byte for byte but the TTL), a backend's port unreachable reaches the client from
 * the VIP quoting the client's own datagram; every checksum verifies with the reference
 * implementation; errors matching no flow, about an error or malformed are dropped by name; and
 * the relay allocates nothing.
 */
class IcmpErrorRelayTest extends PipelineFixture
{
    static final int ROUTER_IP = 0xC612_0002;   // 198.18.0.2, on the client LAN
    static final int NEXT_HOP_MTU = 1400;
    static final int CLIENT_PORT = 40_000;
    static final int UDP_CLIENT_PORT = 5000;
    static final int UDP_BACKEND_PORT = 5353;
    static final int ETHERNET = 14;
    static final int OUTER_ICMP = ETHERNET + 20;
    static final int QUOTE = OUTER_ICMP + IcmpHeader.HEADER_LENGTH;
    /** Data in the backend's segments: small enough that a router quotes all of it (Linux quotes up to 576 bytes in all). */
    static final int SEGMENT_DATA = 100;

    final PacketPipeline pipeline;
    final long now = 1_000_000_000L;

    IcmpErrorRelayTest()
    {
        final BackendPool pool = new BackendPool(16);
        pool.setMac(pool.add(BACKEND_IPS[0], 0, 1), BACKEND_MACS[0]);
        services.add(new Service(0, "web", VIP, 80, 6, pool, SchedulerKind.ROUND_ROBIN.create(pool)));
        final BackendPool udpPool = new BackendPool(16);
        udpPool.setMac(udpPool.add(BACKEND_IPS[0], UDP_BACKEND_PORT, 1), BACKEND_MACS[0]);
        services.add(new Service(1, "dns", VIP, 53, 17, udpPool, SchedulerKind.ROUND_ROBIN.create(udpPool)));
        pipeline = pipeline(capture(toClient), capture(toServer));
    }

    PacketPipeline pipeline(final FrameSink client, final FrameSink server)
    {
        return new PacketPipeline(services, flows, counters, new BackendStatsTable(), client, server, capture(new ArrayList<>()),
            CLIENT_SIDE_MAC, SERVER_SIDE_MAC, LB_CLIENT_IP, GATEWAY_IP);
    }

    byte[] copy(final int length)
    {
        final byte[] bytes = new byte[length];
        frame.getBytes(0, bytes);
        return bytes;
    }

    /**
     * A TCP flow with a segment of {@link #SEGMENT_DATA} bytes from the backend: returns {backend's
     * segment as it sent it, lb's segment to the client}.
     */
    byte[][] tcpFlowWithData(final int clientPort)
    {
        pipeline.onClientFrame(frame, 0,
            TestFrames.tcp(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, clientPort, 80, TcpHeader.SYN, 0), 0, now);
        final int length = TestFrames.tcp(frame, SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], CLIENT_IP, 80, clientPort,
            TcpHeader.ACK, SEGMENT_DATA);
        final byte[] sent = copy(length);
        pipeline.onServerFrame(frame, 0, length, 0, now);
        return new byte[][] {sent, toClient.get(toClient.size() - 1)};
    }

    /** A frag-needed from the client-side router about lb's packet to the client, quoting {@code quoteLength} bytes of it. */
    int fragNeededAbout(final byte[] lbsPacket, final int quoteLength)
    {
        return TestFrames.icmpError(frame, CLIENT_SIDE_MAC, ROUTER_MAC, ROUTER_IP, VIP, IcmpHeader.TYPE_DESTINATION_UNREACHABLE,
            IcmpHeader.CODE_FRAGMENTATION_NEEDED, NEXT_HOP_MTU, lbsPacket, quoteLength);
    }

    /** The packet an error quotes, as a frame of its own (14 bytes of room for an Ethernet header, then the quote). */
    static byte[] quotedPacket(final byte[] error)
    {
        final byte[] packet = new byte[ETHERNET + error.length - QUOTE];
        System.arraycopy(error, QUOTE, packet, ETHERNET, error.length - QUOTE);
        return packet;
    }

    static void assertOuterAndIcmpChecksumsValid(final byte[] error)
    {
        assertEquals(ReferenceChecksum.ipv4HeaderChecksum(error, ETHERNET), port(error, ETHERNET + 10), "outer IPv4 checksum");
        assertTrue(ReferenceChecksum.verifies(error, OUTER_ICMP, error.length - OUTER_ICMP), "ICMP checksum over the whole message");
        assertEquals(ReferenceChecksum.ipv4HeaderChecksum(error, QUOTE), port(error, QUOTE + 10), "quoted IPv4 checksum");
    }

    @Test
    void fragNeededFromAClientSideRouterReachesTheBackendAboutThePacketItSent()
    {
        final byte[][] segment = tcpFlowWithData(CLIENT_PORT);
        final byte[] backendSent = segment[0];
        final byte[] lbSent = segment[1];
        // The whole segment quoted, so its TCP checksum can be verified too.
        final int quoteLength = 20 + 20 + SEGMENT_DATA;
        final int length = fragNeededAbout(lbSent, quoteLength);
        final byte[] received = copy(length);
        pipeline.onClientFrame(frame, 0, length, 0, now);

        assertEquals(1, toServer.size() - 1, "relayed toward the server side (after the SYN)");
        final byte[] out = toServer.get(toServer.size() - 1);
        assertEquals(length, out.length);
        assertEquals(BACKEND_MACS[0], mac(out, 0), "to the flow's backend");
        assertEquals(SERVER_SIDE_MAC, mac(out, 6));
        assertEquals(63, out[22] & 0xFF, "TTL - 1, as a router");
        assertEquals(ROUTER_IP, int32(out, 26), "still from the router that sent it");
        assertEquals(BACKEND_IPS[0], int32(out, 30), "to the backend instead of the VIP");
        assertArrayEquals(withChecksumOf(received, out), Arrays.copyOfRange(out, OUTER_ICMP, QUOTE),
            "type 3 code 4 and the next-hop MTU kept");
        assertEquals(NEXT_HOP_MTU, port(out, OUTER_ICMP + 6));
        assertOuterAndIcmpChecksumsValid(out);

        // The quote is the backend's own segment again: all of it as sent but the TTL lb took off, and so the IP checksum.
        assertEquals(BACKEND_IPS[0], int32(out, QUOTE + 12), "quoted source: the backend");
        assertEquals(CLIENT_IP, int32(out, QUOTE + 16));
        assertEquals(80, port(out, QUOTE + 20));
        assertEquals(CLIENT_PORT, port(out, QUOTE + 22));
        assertArrayEquals(Arrays.copyOfRange(backendSent, ETHERNET, ETHERNET + 8), Arrays.copyOfRange(out, QUOTE, QUOTE + 8));
        assertEquals(backendSent[ETHERNET + 8] - 1, out[QUOTE + 8], "quoted TTL: what lb forwarded");
        assertArrayEquals(Arrays.copyOfRange(backendSent, ETHERNET + 12, ETHERNET + quoteLength),
            Arrays.copyOfRange(out, QUOTE + 12, QUOTE + quoteLength), "addresses, TCP header (its checksum too) and data");
        final byte[] quoted = quotedPacket(out);
        assertEquals(ReferenceChecksum.l4Checksum(quoted, ETHERNET), port(quoted, ETHERNET + 20 + 16), "quoted TCP checksum");
        assertEquals(1, counters.icmpErrorsForwardedToServer.get());
        assertEquals(0, counters.totalDrops());
    }

    /** The ICMP header of {@code expected} with the checksum {@code actual} carries (which the test checks on its own). */
    private static byte[] withChecksumOf(final byte[] expected, final byte[] actual)
    {
        final byte[] header = Arrays.copyOfRange(expected, OUTER_ICMP, QUOTE);
        header[2] = actual[OUTER_ICMP + 2];
        header[3] = actual[OUTER_ICMP + 3];
        return header;
    }

    @Test
    void aQuoteOfOnlyEightTcpBytesIsTranslatedWithoutTheChecksumItDoesNotHold()
    {
        final byte[] lbSent = tcpFlowWithData(CLIENT_PORT + 1)[1];
        final int length = fragNeededAbout(lbSent, 20 + 8);
        pipeline.onClientFrame(frame, 0, length, 0, now);

        final byte[] out = toServer.get(toServer.size() - 1);
        assertEquals(14 + 20 + 8 + 28, out.length);
        assertEquals(BACKEND_IPS[0], int32(out, 30));
        assertEquals(BACKEND_IPS[0], int32(out, QUOTE + 12));
        assertEquals(80, port(out, QUOTE + 20));
        assertEquals(0x1000_0000 + 80, int32(out, QUOTE + 24), "quoted sequence number kept: the backend's TCP checks it");
        assertOuterAndIcmpChecksumsValid(out);
        assertEquals(1, counters.icmpErrorsForwardedToServer.get());
    }

    @Test
    void portUnreachableFromABackendReachesTheClientFromTheVipAboutItsOwnDatagram()
    {
        final int datagram = TestFrames.udp(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, UDP_CLIENT_PORT, 53, 33, true);
        final byte[] clientSent = copy(datagram);
        pipeline.onClientFrame(frame, 0, datagram, 0, now);
        final byte[] lbSent = toServer.get(0);
        assertEquals(BACKEND_IPS[0], int32(lbSent, 30));

        // The backend's kernel quotes the whole datagram (it fits in 576 bytes).
        final int quoteLength = datagram - ETHERNET;
        final int length = TestFrames.icmpError(frame, SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], CLIENT_IP,
            IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 3, 0, lbSent, quoteLength);
        pipeline.onServerFrame(frame, 0, length, 0, now);

        assertEquals(1, toClient.size());
        final byte[] out = toClient.get(0);
        assertEquals(CLIENT_MAC, mac(out, 0), "to the client's MAC, kept in the flow");
        assertEquals(CLIENT_SIDE_MAC, mac(out, 6));
        assertEquals(63, out[22] & 0xFF);
        assertEquals(VIP, int32(out, 26), "from the VIP: the client never heard of the backend");
        assertEquals(CLIENT_IP, int32(out, 30));
        assertEquals(IcmpHeader.TYPE_DESTINATION_UNREACHABLE, out[OUTER_ICMP] & 0xFF);
        assertEquals(3, out[OUTER_ICMP + 1], "port unreachable");
        assertOuterAndIcmpChecksumsValid(out);
        final byte[] quoted = quotedPacket(out);
        assertEquals(ReferenceChecksum.l4Checksum(quoted, ETHERNET), port(quoted, ETHERNET + 20 + 6), "quoted UDP checksum");
        // The client's datagram again, but the TTL lb took off (and so the IP checksum).
        assertArrayEquals(Arrays.copyOfRange(clientSent, ETHERNET, ETHERNET + 8), Arrays.copyOfRange(quoted, ETHERNET, ETHERNET + 8));
        assertArrayEquals(Arrays.copyOfRange(clientSent, ETHERNET + 12, datagram), Arrays.copyOfRange(quoted, ETHERNET + 12, datagram),
            "VIP:53 again, the UDP checksum too, and the data");
        assertEquals(1, counters.icmpErrorsForwardedToClient.get());
        assertEquals(0, counters.totalDrops());
    }

    @Test
    void errorsAboutNoFlowAboutAnErrorOrCutShortAreDroppedByName()
    {
        final byte[] lbSent = tcpFlowWithData(CLIENT_PORT + 2)[1];
        final int toServerBefore = toServer.size();

        // About a packet of no flow: another client port.
        final byte[] otherPort = lbSent.clone();
        new UnsafeBuffer(otherPort).putShort(ETHERNET + 22, (short)(CLIENT_PORT + 3), BIG_ENDIAN);
        pipeline.onClientFrame(frame, 0, fragNeededAbout(otherPort, 28), 0, now);
        assertEquals(1, counters.drops(DropReason.ICMP_ERROR_NO_FLOW));

        // From the server side, quoting a client packet of no flow.
        final byte[] unknownForward = copy(TestFrames.tcp(frame, BACKEND_MACS[0], SERVER_SIDE_MAC, CLIENT_IP, BACKEND_IPS[0],
            CLIENT_PORT + 3, 80, TcpHeader.ACK, 0));
        pipeline.onServerFrame(frame, 0, TestFrames.icmpError(frame, SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0],
            CLIENT_IP, IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 3, 0, unknownForward, 28), 0, now);
        assertEquals(2, counters.drops(DropReason.ICMP_ERROR_NO_FLOW));

        // About an ICMP error (lb's own fragmentation needed, say): never relayed.
        final int about = fragNeededAbout(lbSent, 28);
        final byte[] firstError = copy(about);
        pipeline.onClientFrame(frame, 0, fragNeededAbout(firstError, 20 + 8 + 28), 0, now);
        assertEquals(1, counters.drops(DropReason.ICMP_ERROR_ABOUT_ICMP));

        // A quote cut short of the ports, and one not about a packet sent by the error's addressee.
        pipeline.onClientFrame(frame, 0, fragNeededAbout(lbSent, 20 + 4), 0, now);
        final int notFromVip = TestFrames.icmpError(frame, CLIENT_SIDE_MAC, ROUTER_MAC, ROUTER_IP, VIP + 1,
            IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 4, NEXT_HOP_MTU, lbSent, 28);
        final BackendPool empty = new BackendPool(4);
        services.add(new Service(2, "other", VIP + 1, 80, 6, empty, SchedulerKind.ROUND_ROBIN.create(empty)));
        pipeline.onClientFrame(frame, 0, notFromVip, 0, now);
        assertEquals(2, counters.drops(DropReason.ICMP_ERROR_BAD_QUOTE));

        // A corrupted error never leaves with a checksum lb made up.
        int length = fragNeededAbout(lbSent, 28);
        frame.putByte(length - 1, (byte)(frame.getByte(length - 1) ^ 1));
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(1, counters.drops(DropReason.BAD_ICMP_CHECKSUM));

        // TTL 1: dropped, and no time exceeded about an error.
        length = fragNeededAbout(lbSent, 28);
        frame.putByte(22, (byte)1);
        frame.putShort(24, (short)0, BIG_ENDIAN);
        frame.putShort(24, (short)Checksums.ipv4HeaderChecksum(frame, 14, 20), BIG_ENDIAN);
        final int toClientBefore = toClient.size();
        pipeline.onClientFrame(frame, 0, length, 0, now);
        assertEquals(1, counters.drops(DropReason.TTL_EXCEEDED));
        assertEquals(toClientBefore, toClient.size(), "no error about an error");

        // Source quench and redirect are not relayed.
        pipeline.onClientFrame(frame, 0, TestFrames.icmpError(frame, CLIENT_SIDE_MAC, ROUTER_MAC, ROUTER_IP, VIP, 5, 1,
            ROUTER_IP, lbSent, 28), 0, now);
        assertEquals(1, counters.drops(DropReason.UNSUPPORTED_ICMP));

        assertEquals(toServerBefore, toServer.size(), "nothing relayed");
        assertEquals(0, counters.icmpErrorsForwardedToServer.get() + counters.icmpErrorsForwardedToClient.get());
        assertEquals(8, counters.totalDrops());
    }

    @Test
    void relayingErrorsBothWaysAllocatesNothing()
    {
        final byte[] lbSentTcp = tcpFlowWithData(CLIENT_PORT + 4)[1];
        final int datagram = TestFrames.udp(frame, CLIENT_SIDE_MAC, CLIENT_MAC, CLIENT_IP, VIP, UDP_CLIENT_PORT, 53, 33, true);
        pipeline.onClientFrame(frame, 0, datagram, 0, now);
        final byte[] lbSentUdp = toServer.get(toServer.size() - 1);

        final int clientErrorLength = fragNeededAbout(lbSentTcp, 20 + 20 + SEGMENT_DATA);
        final byte[] clientError = copy(clientErrorLength);
        final int serverErrorLength = TestFrames.icmpError(frame, SERVER_SIDE_MAC, BACKEND_MACS[0], BACKEND_IPS[0], CLIENT_IP,
            IcmpHeader.TYPE_DESTINATION_UNREACHABLE, 3, 0, lbSentUdp, datagram - ETHERNET);
        final byte[] serverError = copy(serverErrorLength);

        final long[] sunk = new long[1];
        final FrameSink counting = (DirectBuffer buffer, int offset, int length) ->
        {
            sunk[0] += length;
            return true;
        };
        final PacketPipeline relay = pipeline(counting, counting);
        final UnsafeBuffer work = new UnsafeBuffer(new byte[2048]);
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        long allocated = 0;
        for (int round = 0; round < 5; round++)
        {
            final long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 20_000; i++)
            {
                work.putBytes(0, clientError);
                relay.onClientFrame(work, 0, clientErrorLength, 0, now);
                work.putBytes(0, serverError);
                relay.onServerFrame(work, 0, serverErrorLength, 0, now);
            }
            allocated = threads.getCurrentThreadAllocatedBytes() - before;
        }
        assertEquals(5 * 20_000L, counters.icmpErrorsForwardedToServer.get(), "every client-side error relayed");
        assertEquals(5 * 20_000L, counters.icmpErrorsForwardedToClient.get());
        assertEquals(0, counters.totalDrops());
        assertTrue(allocated < 1024, "bytes allocated by 40,000 relayed errors after warm-up: " + allocated);
        assertTrue(sunk[0] > 0);
    }
}
