package lb.dataplane.packet;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import lb.dataplane.checksum.Checksums;
import lb.dataplane.checksum.ReferenceChecksum;
import lb.dataplane.packet.Ipv6ExtensionWalk.Outcome;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static lb.dataplane.packet.GoldenFrames.MAC_A;
import static lb.dataplane.packet.GoldenFrames.MAC_B;
import static lb.dataplane.packet.GoldenFrames.V6_CLIENT_LOW;
import static lb.dataplane.packet.GoldenFrames.V6_HIGH;
import static lb.dataplane.packet.GoldenFrames.V6_HOST_LOW;
import static lb.dataplane.packet.GoldenFrames.V6_TARGET_LOW;
import static lb.dataplane.packet.GoldenFrames.V6_VIP_LOW;
import static lb.dataplane.packet.GoldenFrames.bytes;
import static lb.dataplane.packet.GoldenFrames.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The IPv6 packet layer against golden frames built by hand from the RFCs ({@link GoldenFrames}): the fixed header,
 * the extension-header walk and its every outcome, ICMPv6 echo and neighbour discovery, written and parsed, with
 * checksums verified by {@link ReferenceChecksum}. Frames sit at an odd offset with garbage after them, so a read
 * past the frame or an offset mix-up changes results.
 */
class Ipv6PacketsTest
{
    private static final int OFFSET = 3;
    private static final int IP = OFFSET + EthernetHeader.HEADER_LENGTH;
    private static final int L4 = IP + Ipv6Header.HEADER_LENGTH;
    private static final byte GARBAGE = (byte)0x5A;

    private final Ipv6ExtensionWalk walk = new Ipv6ExtensionWalk();
    private final NeighborDiscovery ndp = new NeighborDiscovery();

    @Test
    void fixedHeaderFieldsAndWrite()
    {
        final byte[] golden = bytes(GoldenFrames.V6_TCP_SYN_EXTENSIONS);
        final UnsafeBuffer buffer = GoldenFrames.embed(golden, OFFSET, 8, GARBAGE);
        final Ipv6Header ip = new Ipv6Header().wrap(buffer, IP);

        assertEquals(Ipv6Header.ETHER_TYPE_IPV6, new EthernetHeader().wrap(buffer, OFFSET).etherType());
        assertEquals(6, ip.version());
        assertEquals(0, ip.trafficClass());
        assertEquals(0, ip.flowLabel());
        assertEquals(44, ip.payloadLength());
        assertEquals(Ipv6ExtensionWalk.HOP_BY_HOP, ip.nextHeader());
        assertEquals(64, ip.hopLimit());
        assertEquals(V6_HIGH, ip.sourceHigh());
        assertEquals(V6_CLIENT_LOW, ip.sourceLow());
        assertEquals(V6_HIGH, ip.destinationHigh());
        assertEquals(V6_VIP_LOW, ip.destinationLow());
        assertEquals("2001:2:0:0:0:0:0:101", Ipv6Header.addressToString(ip.destinationHigh(), ip.destinationLow()));

        final UnsafeBuffer written = new UnsafeBuffer(new byte[Ipv6Header.HEADER_LENGTH]);
        assertEquals(Ipv6Header.HEADER_LENGTH,
            Ipv6Header.write(written, 0, 44, 0, 64, V6_HIGH, V6_CLIENT_LOW, V6_HIGH, V6_VIP_LOW));
        assertEquals(hex(golden, 14, 40), hex(written.byteArray(), 0, 40));

        ip.versionClassFlow(0xB8, 0xABCDE).payloadLength(1234).nextHeader(17).hopLimit(1)
            .sourceAddress(V6_HIGH | 0xFFFF, -2L).destinationAddress(0x2001_0002_0001_0000L, 0x0123_4567_89AB_CDEFL);
        assertEquals("6b8abcde04d21101" + "200100020000ffff" + "fffffffffffffffe" + "2001000200010000" + "0123456789abcdef",
            hex(buffer.byteArray(), IP, 40));
        assertEquals(0xB8, ip.trafficClass());
        assertEquals(0xABCDE, ip.flowLabel());
        assertEquals(6, ip.version());
    }

    @Test
    void walkSkipsHopByHopAndDestinationOptionsToTcp()
    {
        final byte[] golden = bytes(GoldenFrames.V6_TCP_SYN_EXTENSIONS);
        final UnsafeBuffer buffer = GoldenFrames.embed(golden, OFFSET, 8, GARBAGE);

        assertEquals(Outcome.UPPER_LAYER, walk.walk(buffer, IP, OFFSET + golden.length));
        assertEquals(Checksums.PROTOCOL_TCP, walk.upperLayerProtocol);
        assertEquals(L4 + 24, walk.upperLayerOffset);
        assertEquals(20, walk.upperLayerLength);
        assertEquals(2, walk.extensionHeaderCount);
        assertEquals(OFFSET + golden.length, walk.payloadEnd);
        assertEquals(40000, new TcpHeader().wrap(buffer, walk.upperLayerOffset).sourcePort());

        assertEquals(0xce3b, ReferenceChecksum.ipv6L4Checksum(golden, 14, 14 + 40 + 24, Checksums.PROTOCOL_TCP));
        assertEquals(0xce3b, Checksums.ipv6L4Checksum(buffer, IP, walk.upperLayerOffset, 20, Checksums.PROTOCOL_TCP));
        assertTrue(Checksums.ipv6L4ChecksumValid(buffer, IP, walk.upperLayerOffset, 20, Checksums.PROTOCOL_TCP));
    }

    @Test
    void walkIgnoresEthernetPaddingAfterThePayload()
    {
        final byte[] golden = bytes(GoldenFrames.V6_UDP);
        // Zero padding after the datagram (as Ethernet's minimum frame adds it) belongs to no layer: the payload length says where it ends.
        final UnsafeBuffer buffer = GoldenFrames.embed(golden, OFFSET, 13, (byte)0);
        assertEquals(Outcome.UPPER_LAYER, walk.walk(buffer, IP, OFFSET + golden.length + 13));
        assertEquals(Checksums.PROTOCOL_UDP, walk.upperLayerProtocol);
        assertEquals(L4, walk.upperLayerOffset);
        assertEquals(13, walk.upperLayerLength);
        assertEquals(0, walk.extensionHeaderCount);
        assertEquals(0x65d3, Checksums.ipv6L4Checksum(buffer, IP, L4, 13, Checksums.PROTOCOL_UDP));
        assertEquals(0x65d3, ReferenceChecksum.ipv6L4Checksum(golden, 14, 54, Checksums.PROTOCOL_UDP));
    }

    @Test
    void walkOutcomes()
    {
        // Routing header with no segments left is passed over; with segments left it is not.
        assertEquals(Outcome.UPPER_LAYER, walkOver(Ipv6ExtensionWalk.ROUTING, "3b00000000000000"));
        assertEquals(Ipv6ExtensionWalk.NO_NEXT_HEADER, walk.upperLayerProtocol);
        assertEquals(0, walk.upperLayerLength);
        assertEquals(Outcome.UNSUPPORTED_EXTENSION, walkOver(Ipv6ExtensionWalk.ROUTING, "3b00040100000000"));

        // Fragment: reported with where the fragment header is, first or after a skipped header.
        assertEquals(Outcome.FRAGMENT, walkOver(Ipv6ExtensionWalk.FRAGMENT, "1100000112345678"));
        assertEquals(L4, walk.fragmentHeaderOffset);
        assertEquals(Outcome.FRAGMENT, walkOver(Ipv6ExtensionWalk.DESTINATION_OPTIONS, "2c00010400000000" + "1100000112345678"));
        assertEquals(L4 + 8, walk.fragmentHeaderOffset);
        assertEquals(1, walk.extensionHeaderCount);
        assertEquals(Outcome.TRUNCATED, walkOver(Ipv6ExtensionWalk.FRAGMENT, "11000001"));

        // Extension headers lb does not pass over, and hop-by-hop anywhere but first.
        for (final int header : new int[] {50, 51, 135, 139, 140, 253, 254})
        {
            assertEquals(Outcome.UNSUPPORTED_EXTENSION, walkOver(header, "0600000000000000"), "header " + header);
            assertEquals(header, walk.stoppedAtHeader);
        }
        assertEquals(Outcome.UNSUPPORTED_EXTENSION,
            walkOver(Ipv6ExtensionWalk.DESTINATION_OPTIONS, "0000010400000000" + "0600010400000000"));

        // Truncation: a header longer than the payload, or shorter than 8 bytes left.
        assertEquals(Outcome.TRUNCATED, walkOver(Ipv6ExtensionWalk.DESTINATION_OPTIONS, "0601010c00000000"));
        assertEquals(Outcome.TRUNCATED, walkOver(Ipv6ExtensionWalk.HOP_BY_HOP, "0600"));
        assertEquals(Outcome.TRUNCATED, walkOver(Ipv6ExtensionWalk.HOP_BY_HOP, ""));

        // The bound: eight destination options headers are passed over, a ninth is refused.
        final String eight = "3c00010400000000".repeat(7) + "3b00010400000000";
        assertEquals(Outcome.UPPER_LAYER, walkOver(Ipv6ExtensionWalk.DESTINATION_OPTIONS, eight));
        assertEquals(Ipv6ExtensionWalk.MAX_EXTENSION_HEADERS, walk.extensionHeaderCount);
        assertEquals(Outcome.TOO_MANY_EXTENSIONS, walkOver(Ipv6ExtensionWalk.DESTINATION_OPTIONS, "3c00010400000000" + eight));

        // The fixed header: too short a frame, a payload length beyond the frame, another version.
        final byte[] udp = bytes(GoldenFrames.V6_UDP);
        final UnsafeBuffer buffer = GoldenFrames.embed(udp, OFFSET, 8, GARBAGE);
        assertEquals(Outcome.TRUNCATED, walk.walk(buffer, IP, IP + 39));
        assertEquals(Outcome.TRUNCATED, walk.walk(buffer, IP, OFFSET + udp.length - 1));
        buffer.putByte(IP, (byte)0x45);
        assertEquals(Outcome.NOT_IPV6, walk.walk(buffer, IP, OFFSET + udp.length));
    }

    @Test
    void echoRequestWrittenAndRead()
    {
        final byte[] golden = bytes(GoldenFrames.V6_ECHO_REQUEST);
        final UnsafeBuffer written = new UnsafeBuffer(new byte[OFFSET + golden.length]);
        final UnsafeBuffer data = new UnsafeBuffer("ping6 lb".getBytes(US_ASCII));
        assertEquals(golden.length, Icmpv6Header.writeEchoFrame(written, OFFSET, MAC_B, MAC_A, V6_HIGH, V6_CLIENT_LOW,
            V6_HIGH, V6_VIP_LOW, Icmpv6Header.TYPE_ECHO_REQUEST, 0x1234, 7, data, 0, data.capacity()));
        assertEquals(GoldenFrames.V6_ECHO_REQUEST, hex(written.byteArray(), OFFSET, golden.length));
        assertEquals(0xab15, ReferenceChecksum.ipv6L4Checksum(golden, 14, 54, Icmpv6Header.PROTOCOL_ICMPV6));

        assertEquals(Outcome.UPPER_LAYER, walk.walk(written, IP, OFFSET + golden.length));
        assertEquals(Icmpv6Header.PROTOCOL_ICMPV6, walk.upperLayerProtocol);
        final Icmpv6Header icmp = new Icmpv6Header().wrap(written, walk.upperLayerOffset);
        assertEquals(Icmpv6Header.TYPE_ECHO_REQUEST, icmp.type());
        assertEquals(0, icmp.code());
        assertEquals(0xab15, icmp.checksum());
        assertEquals(0x1234, icmp.identifier());
        assertEquals(7, icmp.sequence());
        assertTrue(!Icmpv6Header.isError(icmp.type()) && Icmpv6Header.isError(Icmpv6Header.TYPE_PACKET_TOO_BIG));

        // The reply differs in type (and so checksum) only: 128 -> 129 lowers the checksum by 0x100.
        icmp.type(Icmpv6Header.TYPE_ECHO_REPLY).checksum(Checksums.update16(icmp.checksum(), 0x8000, 0x8100));
        assertEquals(0xaa15, icmp.checksum());
        assertTrue(Checksums.ipv6L4ChecksumValid(written, IP, L4, 16, Icmpv6Header.PROTOCOL_ICMPV6));
        assertEquals(NeighborDiscovery.Outcome.NOT_NEIGHBOR_DISCOVERY, ndp.parse(written, IP, L4, 16));
    }

    @Test
    void solicitationToTheSolicitedNodeAddress()
    {
        final byte[] golden = bytes(GoldenFrames.V6_NEIGHBOR_SOLICITATION);
        final UnsafeBuffer written = new UnsafeBuffer(new byte[OFFSET + golden.length + 8]);
        assertEquals(golden.length,
            NeighborDiscovery.writeSolicitation(written, OFFSET, MAC_A, V6_HIGH, V6_HOST_LOW, V6_HIGH, V6_TARGET_LOW));
        assertEquals(GoldenFrames.V6_NEIGHBOR_SOLICITATION, hex(written.byteArray(), OFFSET, golden.length));
        assertEquals(0x3333_FFCD_EF12L, new EthernetHeader().wrap(written, OFFSET).destinationMac());
        assertTrue(NeighborDiscovery.isSolicitedNode(
            Ipv6Header.getAddressHigh(written, IP + Ipv6Header.DESTINATION_OFFSET),
            Ipv6Header.getAddressLow(written, IP + Ipv6Header.DESTINATION_OFFSET)));
        assertEquals(0xacd6, ReferenceChecksum.ipv6L4Checksum(golden, 14, 54, Icmpv6Header.PROTOCOL_ICMPV6));

        assertEquals(Outcome.UPPER_LAYER, walk.walk(written, IP, OFFSET + golden.length));
        assertEquals(NeighborDiscovery.Outcome.VALID, ndp.parse(written, IP, walk.upperLayerOffset, walk.upperLayerLength));
        assertEquals(Icmpv6Header.TYPE_NEIGHBOR_SOLICITATION, ndp.type);
        assertEquals(V6_HIGH, ndp.targetHigh);
        assertEquals(V6_TARGET_LOW, ndp.targetLow);
        assertEquals(MAC_A, ndp.linkLayerAddress);
        assertEquals(0, ndp.flags);
    }

    @Test
    void advertisementWithTargetLinkLayerAddress()
    {
        final byte[] golden = bytes(GoldenFrames.V6_NEIGHBOR_ADVERTISEMENT);
        final UnsafeBuffer written = new UnsafeBuffer(new byte[OFFSET + golden.length]);
        assertEquals(golden.length, NeighborDiscovery.writeAdvertisement(written, OFFSET, MAC_A, MAC_B, V6_HIGH,
            V6_TARGET_LOW, V6_HIGH, V6_HOST_LOW, V6_HIGH, V6_TARGET_LOW,
            NeighborDiscovery.FLAG_SOLICITED | NeighborDiscovery.FLAG_OVERRIDE));
        assertEquals(GoldenFrames.V6_NEIGHBOR_ADVERTISEMENT, hex(written.byteArray(), OFFSET, golden.length));
        assertEquals(0x7dd6, ReferenceChecksum.ipv6L4Checksum(golden, 14, 54, Icmpv6Header.PROTOCOL_ICMPV6));

        assertEquals(NeighborDiscovery.Outcome.VALID, ndp.parse(written, IP, L4, 32));
        assertEquals(Icmpv6Header.TYPE_NEIGHBOR_ADVERTISEMENT, ndp.type);
        assertEquals(NeighborDiscovery.FLAG_SOLICITED | NeighborDiscovery.FLAG_OVERRIDE, ndp.flags);
        assertEquals(V6_TARGET_LOW, ndp.targetLow);
        assertEquals(MAC_B, ndp.linkLayerAddress);

        // Solicited flag on an advertisement to a multicast address (all-nodes ff02::1) is invalid.
        Ipv6Header.putAddress(written, IP + Ipv6Header.DESTINATION_OFFSET, 0xFF02_0000_0000_0000L, 1);
        assertEquals(NeighborDiscovery.Outcome.SOLICITED_TO_MULTICAST, reparse(written, golden.length));
        written.putByte(L4 + NeighborDiscovery.FLAGS_OFFSET, (byte)NeighborDiscovery.FLAG_OVERRIDE);
        assertEquals(NeighborDiscovery.Outcome.VALID, reparse(written, golden.length));
    }

    @Test
    void duplicateAddressDetectionSolicitationHasNoSourceOption()
    {
        final UnsafeBuffer written = new UnsafeBuffer(new byte[OFFSET + 100]);
        final int length = NeighborDiscovery.writeSolicitation(written, OFFSET, MAC_A, 0, 0, V6_HIGH, V6_TARGET_LOW);
        assertEquals(14 + 40 + 24, length);
        assertEquals(Outcome.UPPER_LAYER, walk.walk(written, IP, OFFSET + length));
        assertEquals(24, walk.upperLayerLength);
        assertEquals(NeighborDiscovery.Outcome.VALID, ndp.parse(written, IP, L4, 24));
        assertEquals(NeighborDiscovery.NO_LINK_LAYER_ADDRESS, ndp.linkLayerAddress);

        // From the unspecified address to a unicast destination: refused.
        Ipv6Header.putAddress(written, IP + Ipv6Header.DESTINATION_OFFSET, V6_HIGH, V6_TARGET_LOW);
        assertEquals(NeighborDiscovery.Outcome.BAD_UNSPECIFIED_SOURCE, reparse(written, length));
    }

    @Test
    void neighborDiscoveryChecks()
    {
        final byte[] golden = bytes(GoldenFrames.V6_NEIGHBOR_SOLICITATION);
        final int option = L4 + NeighborDiscovery.OPTIONS_OFFSET;

        assertOneByteChange(golden, IP + Ipv6Header.HOP_LIMIT_OFFSET, 254, NeighborDiscovery.Outcome.BAD_HOP_LIMIT);
        assertOneByteChange(golden, L4 + Icmpv6Header.CODE_OFFSET, 1, NeighborDiscovery.Outcome.BAD_CODE);

        UnsafeBuffer buffer = solicitation(golden, 0);
        buffer.putByte(L4 + 20, (byte)0x13);
        assertEquals(NeighborDiscovery.Outcome.BAD_CHECKSUM, ndp.parse(buffer, IP, L4, 32));

        buffer = solicitation(golden, 0);
        Ipv6Header.putAddress(buffer, L4 + NeighborDiscovery.TARGET_OFFSET, 0xFF02_0000_0000_0000L, 1);
        assertEquals(NeighborDiscovery.Outcome.MULTICAST_TARGET, reparse(buffer, golden.length));

        // Option length 0 (would loop forever unchecked), and an option running past the message.
        assertOneByteChange(golden, option + NeighborDiscovery.OPTION_LENGTH_OFFSET, 0, NeighborDiscovery.Outcome.BAD_OPTION_LENGTH);
        assertOneByteChange(golden, option + NeighborDiscovery.OPTION_LENGTH_OFFSET, 2, NeighborDiscovery.Outcome.BAD_OPTION_LENGTH);

        // A source link-layer option of 16 bytes fits the message but is not an Ethernet address.
        buffer = solicitation(golden, 8);
        buffer.putByte(option + NeighborDiscovery.OPTION_LENGTH_OFFSET, (byte)2);
        assertEquals(NeighborDiscovery.Outcome.BAD_LINK_LAYER_OPTION, reparse(buffer, golden.length + 8));

        // An unknown option of 16 bytes before the source option is skipped.
        buffer = solicitation(golden, 16);
        buffer.putBytes(option + 16, buffer, option, 8);
        buffer.putLong(option, 0, BIG_ENDIAN);
        buffer.putLong(option + 8, 0, BIG_ENDIAN);
        buffer.putByte(option + NeighborDiscovery.OPTION_TYPE_OFFSET, (byte)14);
        buffer.putByte(option + NeighborDiscovery.OPTION_LENGTH_OFFSET, (byte)2);
        assertEquals(NeighborDiscovery.Outcome.VALID, reparse(buffer, golden.length + 16));
        assertEquals(MAC_A, ndp.linkLayerAddress);

        // A message of 7 option bytes (not a whole option), and one shorter than 24 bytes.
        buffer = solicitation(golden, 0);
        buffer.putShort(IP + Ipv6Header.PAYLOAD_LENGTH_OFFSET, (short)31, BIG_ENDIAN);
        assertEquals(NeighborDiscovery.Outcome.BAD_OPTION_LENGTH, reparse(buffer, golden.length));
        buffer.putShort(IP + Ipv6Header.PAYLOAD_LENGTH_OFFSET, (short)23, BIG_ENDIAN);
        assertEquals(NeighborDiscovery.Outcome.TOO_SHORT, reparse(buffer, golden.length));
    }

    /**
     * Walking, parsing, writing and checksumming allocate nothing once warm: under 1 KiB for 100,000 rounds (an
     * allocation count, not a timing).
     */
    @Test
    void allocationFree()
    {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemoryEnabled());
        final UnsafeBuffer tcp = GoldenFrames.embed(bytes(GoldenFrames.V6_TCP_SYN_EXTENSIONS), OFFSET, 0, GARBAGE);
        final int tcpEnd = tcp.capacity();
        final UnsafeBuffer out = new UnsafeBuffer(new byte[OFFSET + 128]);
        long sink = exercise(tcp, tcpEnd, out, 20_000);
        threads.getCurrentThreadAllocatedBytes();
        final long before = threads.getCurrentThreadAllocatedBytes();
        sink += exercise(tcp, tcpEnd, out, 100_000);
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(sink != 0);
        assertTrue(allocated < 1024, "allocated " + allocated + " bytes");
    }

    private long exercise(final UnsafeBuffer tcp, final int tcpEnd, final UnsafeBuffer out, final int rounds)
    {
        long sink = 0;
        for (int i = 0; i < rounds; i++)
        {
            sink += walk.walk(tcp, IP, tcpEnd).ordinal() + walk.upperLayerOffset;
            sink += Checksums.ipv6L4Checksum(tcp, IP, walk.upperLayerOffset, walk.upperLayerLength, Checksums.PROTOCOL_TCP);
            sink += Checksums.update128(i, V6_HIGH, i, V6_HIGH, ~i);
            final int length = NeighborDiscovery.writeSolicitation(out, OFFSET, MAC_A, V6_HIGH, V6_HOST_LOW, V6_HIGH, i);
            walk.walk(out, IP, OFFSET + length);
            sink += ndp.parse(out, IP, walk.upperLayerOffset, walk.upperLayerLength).ordinal() + ndp.linkLayerAddress;
        }
        return sink;
    }

    /** The golden solicitation with one byte changed (and its checksum fixed) parses as {@code expected}. */
    private void assertOneByteChange(final byte[] golden, final int index, final int value, final NeighborDiscovery.Outcome expected)
    {
        final UnsafeBuffer buffer = solicitation(golden, 0);
        buffer.putByte(index, (byte)value);
        assertEquals(expected, reparse(buffer, golden.length), "byte " + index + " set to " + value);
    }

    /** The golden solicitation with {@code extra} zero bytes appended to its ICMPv6 message (payload length raised). */
    private static UnsafeBuffer solicitation(final byte[] golden, final int extra)
    {
        final UnsafeBuffer buffer = GoldenFrames.embed(Arrays.copyOf(golden, golden.length + extra), OFFSET, 8, GARBAGE);
        buffer.putShort(IP + Ipv6Header.PAYLOAD_LENGTH_OFFSET, (short)(32 + extra), BIG_ENDIAN);
        return buffer;
    }

    /** Fix the ICMPv6 checksum with the reference, walk, and parse the message. */
    private NeighborDiscovery.Outcome reparse(final UnsafeBuffer buffer, final int frameLength)
    {
        final byte[] bytes = buffer.byteArray();
        if (ReferenceChecksum.ipv6UpperLayerLength(bytes, IP, L4) >= Icmpv6Header.HEADER_LENGTH)
        {
            buffer.putShort(L4 + Icmpv6Header.CHECKSUM_OFFSET,
                (short)ReferenceChecksum.ipv6L4Checksum(bytes, IP, L4, Icmpv6Header.PROTOCOL_ICMPV6), BIG_ENDIAN);
        }
        assertEquals(Outcome.UPPER_LAYER, walk.walk(buffer, IP, OFFSET + frameLength));
        return ndp.parse(buffer, IP, walk.upperLayerOffset, walk.upperLayerLength);
    }

    /** Walk a packet whose first next header is {@code first} and whose whole payload is {@code payloadHex}. */
    private Outcome walkOver(final int first, final String payloadHex)
    {
        final byte[] payload = bytes(payloadHex);
        final UnsafeBuffer buffer = GoldenFrames.embed(new byte[14 + 40 + payload.length], OFFSET, 8, GARBAGE);
        EthernetHeader.write(buffer, OFFSET, MAC_B, MAC_A, Ipv6Header.ETHER_TYPE_IPV6);
        Ipv6Header.write(buffer, IP, payload.length, first, 64, V6_HIGH, V6_CLIENT_LOW, V6_HIGH, V6_VIP_LOW);
        buffer.putBytes(L4, payload);
        return walk.walk(buffer, IP, L4 + payload.length);
    }
}
