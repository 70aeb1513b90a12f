package lb.dataplane.packet;

import lb.dataplane.checksum.Checksums;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Flyweight over an ICMPv6 header (RFC 4443). The checksum covers the IPv6 pseudo-header too
 * ({@link Checksums#ipv6L4Checksum}), unlike ICMP's. The identifier and sequence fields are those of
 * echo request and reply; neighbour discovery's messages are read by {@link NeighborDiscovery}.
 * {@link #writeErrorFrame} makes up the errors lb sends as a router (time exceeded, packet too big).
 * No bounds checks.
 * <pre>
 *   0 type  1 code  2 checksum  4 identifier  6 sequence  8 data
 * </pre>
 */
public final class Icmpv6Header
{
    /** Offset of the type. */
    public static final int TYPE_OFFSET = 0;
    /** Offset of the code. */
    public static final int CODE_OFFSET = 1;
    /** Offset of the checksum. */
    public static final int CHECKSUM_OFFSET = Checksums.ICMPV6_CHECKSUM_OFFSET;
    /** Offset of the echo identifier. */
    public static final int IDENTIFIER_OFFSET = 4;
    /** Offset of the echo sequence number. */
    public static final int SEQUENCE_OFFSET = 6;
    /** Length of the header every ICMPv6 message has (type, code, checksum and 4 type-specific bytes). */
    public static final int HEADER_LENGTH = 8;

    /** IPv6 next header number of ICMPv6. */
    public static final int PROTOCOL_ICMPV6 = Checksums.PROTOCOL_ICMPV6;

    /** Error type: destination unreachable. */
    public static final int TYPE_DESTINATION_UNREACHABLE = 1;
    /** Error type: packet too big (IPv6's "fragmentation needed", RFC 8201). */
    public static final int TYPE_PACKET_TOO_BIG = 2;
    /** Error type: time exceeded. */
    public static final int TYPE_TIME_EXCEEDED = 3;
    /** Error type: parameter problem. */
    public static final int TYPE_PARAMETER_PROBLEM = 4;
    /** Informational type: echo request. */
    public static final int TYPE_ECHO_REQUEST = 128;
    /** Informational type: echo reply. */
    public static final int TYPE_ECHO_REPLY = 129;
    /** Neighbour discovery (RFC 4861): router solicitation. */
    public static final int TYPE_ROUTER_SOLICITATION = 133;
    /** Neighbour discovery: router advertisement. */
    public static final int TYPE_ROUTER_ADVERTISEMENT = 134;
    /** Neighbour discovery: neighbour solicitation. */
    public static final int TYPE_NEIGHBOR_SOLICITATION = 135;
    /** Neighbour discovery: neighbour advertisement. */
    public static final int TYPE_NEIGHBOR_ADVERTISEMENT = 136;
    /** Neighbour discovery: redirect. */
    public static final int TYPE_REDIRECT = 137;
    /** Types below this are errors, from it on informational (RFC 4443 section 2.1). */
    public static final int FIRST_INFORMATIONAL_TYPE = 128;

    private MutableDirectBuffer buffer;
    private int offset;

    /**
     * Point this flyweight at a header.
     *
     * @param buffer holding the packet.
     * @param offset of the ICMPv6 header.
     * @return this.
     */
    public Icmpv6Header wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /** @return type. */
    public int type()
    {
        return buffer.getByte(offset + TYPE_OFFSET) & 0xFF;
    }

    /**
     * @param type 0..255.
     * @return this.
     */
    public Icmpv6Header type(final int type)
    {
        buffer.putByte(offset + TYPE_OFFSET, (byte)type);
        return this;
    }

    /** @return code. */
    public int code()
    {
        return buffer.getByte(offset + CODE_OFFSET) & 0xFF;
    }

    /**
     * @param code 0..255.
     * @return this.
     */
    public Icmpv6Header code(final int code)
    {
        buffer.putByte(offset + CODE_OFFSET, (byte)code);
        return this;
    }

    /** @return stored checksum. */
    public int checksum()
    {
        return buffer.getShort(offset + CHECKSUM_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param checksum 0..65535.
     * @return this.
     */
    public Icmpv6Header checksum(final int checksum)
    {
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)checksum, BIG_ENDIAN);
        return this;
    }

    /** @return echo identifier. */
    public int identifier()
    {
        return buffer.getShort(offset + IDENTIFIER_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param identifier 0..65535.
     * @return this.
     */
    public Icmpv6Header identifier(final int identifier)
    {
        buffer.putShort(offset + IDENTIFIER_OFFSET, (short)identifier, BIG_ENDIAN);
        return this;
    }

    /** @return echo sequence number. */
    public int sequence()
    {
        return buffer.getShort(offset + SEQUENCE_OFFSET, BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param sequence 0..65535.
     * @return this.
     */
    public Icmpv6Header sequence(final int sequence)
    {
        buffer.putShort(offset + SEQUENCE_OFFSET, (short)sequence, BIG_ENDIAN);
        return this;
    }

    /**
     * @param type an ICMPv6 type.
     * @return whether it is an error message (a router never answers an error with an error).
     */
    public static boolean isError(final int type)
    {
        return type < FIRST_INFORMATIONAL_TYPE;
    }

    /** Code of a time exceeded message: hop limit exceeded in transit. */
    public static final int CODE_HOP_LIMIT_EXCEEDED = 0;
    /** RFC 4443 section 2.4(c): an error must fit the IPv6 minimum MTU, so it quotes no more than fits in it. */
    public static final int MAX_ERROR_PACKET_LENGTH = 1280;
    /** Bytes of the offending packet an error can quote: the minimum MTU less the error's own IPv6 and ICMPv6 headers. */
    public static final int MAX_QUOTE_LENGTH = MAX_ERROR_PACKET_LENGTH - Ipv6Header.HEADER_LENGTH - HEADER_LENGTH;
    /** Offset of the 32-bit word after the checksum: MTU of packet too big, pointer of parameter problem, else unused (0). */
    public static final int ERROR_WORD_OFFSET = 4;
    /** Hop limit of the errors lb makes up (Linux's default for the packets it originates). */
    public static final int ERROR_HOP_LIMIT = 64;

    /**
     * Whether a router may answer an IPv6 packet with an ICMPv6 error (RFC 4443 section 2.4(e)):
     * never about an ICMPv6 error message (so two routers cannot loop), nor to a source that names
     * no single host (multicast or unspecified), nor about a packet sent to a multicast group (a
     * group's members would all answer; the packet too big and parameter problem exceptions for
     * multicast are not taken: lb forwards no multicast).
     *
     * @param offending the packet as {@link FrameClassifier} classified it (IPv6).
     * @return whether an error about it may be sent.
     */
    public static boolean mayAnswerWithError6(final ParsedFrame offending)
    {
        if (offending.protocol == PROTOCOL_ICMPV6 && isError(offending.icmpType))
        {
            return false;
        }
        if (isMulticast(offending.srcHigh) || (offending.srcHigh == 0 && offending.srcLow == 0))
        {
            return false;
        }
        return !isMulticast(offending.dstHigh);
    }

    /** @return whether an IPv6 address whose high 64 bits these are is multicast (ff00::/8). */
    private static boolean isMulticast(final long addressHigh)
    {
        return addressHigh >>> 56 == 0xFF;
    }

    /**
     * Write an ICMPv6 error frame about the IPv6 packet in {@code request}, as a router on its path
     * sends it: untagged Ethernet from {@code ownMac} to the request's source MAC, IPv6 from the own
     * address to the request's source (hop limit {@link #ERROR_HOP_LIMIT}, next header 58), then the
     * ICMPv6 type, code, checksum (over the pseudo-header) and 32-bit word, and as much of the
     * offending packet, from its IPv6 header on, as keeps the error within
     * {@link #MAX_ERROR_PACKET_LENGTH} bytes (RFC 4443 section 2.4(c)). VLAN tags and Ethernet
     * padding of the request are not carried. Check {@link #mayAnswerWithError6} first.
     * <p>
     * This signature is shared with the IP6-in-IP6 tunnel's packet too big: keep it stable.
     *
     * @param dst       where the error frame is written, from {@code dstOffset}; needs
     *                  14 + {@link #MAX_ERROR_PACKET_LENGTH} bytes at most. Must not overlap the request.
     * @param dstOffset of the error frame.
     * @param request   holding the offending frame.
     * @param p         the offending frame as classified (IPv6: {@code etherType} 0x86DD).
     * @param ownMac    the MAC the error leaves from.
     * @param ownHigh   the error's IPv6 source (lb's address on that side), high 64 bits.
     * @param ownLow    its low 64 bits.
     * @param type      e.g. {@link #TYPE_PACKET_TOO_BIG}, {@link #TYPE_TIME_EXCEEDED}.
     * @param code      e.g. {@link #CODE_HOP_LIMIT_EXCEEDED}.
     * @param word      the 32 bits after the checksum: the MTU for packet too big, the pointer for
     *                  parameter problem, 0 otherwise.
     * @return the error frame's length.
     */
    public static int writeErrorFrame(
        final MutableDirectBuffer dst,
        final int dstOffset,
        final DirectBuffer request,
        final ParsedFrame p,
        final long ownMac,
        final long ownHigh,
        final long ownLow,
        final int type,
        final int code,
        final int word)
    {
        final int quoted = Math.min(MAX_QUOTE_LENGTH, p.ipTotalLength);
        final int icmpLength = HEADER_LENGTH + quoted;
        final long requesterMac = EthernetHeader.getMac(request, p.frameOffset + EthernetHeader.SOURCE_OFFSET);
        final int icmp = writeFrameHeaders(dst, dstOffset, requesterMac, ownMac, ownHigh, ownLow, p.srcHigh, p.srcLow,
            ERROR_HOP_LIMIT, icmpLength, type);
        dst.putByte(icmp + CODE_OFFSET, (byte)code);
        dst.putInt(icmp + ERROR_WORD_OFFSET, word, BIG_ENDIAN);
        dst.putBytes(icmp + HEADER_LENGTH, request, p.l3Offset, quoted);
        return storeChecksum(dst, dstOffset, icmpLength);
    }

    /**
     * Write an untagged Ethernet frame holding an ICMPv6 echo request or reply, its checksum set.
     *
     * @param buffer          to write to.
     * @param offset          of the frame.
     * @param destinationMac  Ethernet destination.
     * @param sourceMac       Ethernet source.
     * @param sourceHigh      IPv6 source, high 64 bits.
     * @param sourceLow       IPv6 source, low 64 bits.
     * @param destinationHigh IPv6 destination, high 64 bits.
     * @param destinationLow  IPv6 destination, low 64 bits.
     * @param type            {@link #TYPE_ECHO_REQUEST} or {@link #TYPE_ECHO_REPLY}.
     * @param identifier      echo identifier.
     * @param sequence        echo sequence.
     * @param data            echo data, copied after the header.
     * @param dataOffset      of the data.
     * @param dataLength      of the data.
     * @return the frame's length.
     */
    public static int writeEchoFrame(
        final MutableDirectBuffer buffer,
        final int offset,
        final long destinationMac,
        final long sourceMac,
        final long sourceHigh,
        final long sourceLow,
        final long destinationHigh,
        final long destinationLow,
        final int type,
        final int identifier,
        final int sequence,
        final DirectBuffer data,
        final int dataOffset,
        final int dataLength)
    {
        final int icmpLength = HEADER_LENGTH + dataLength;
        final int icmp = writeFrameHeaders(buffer, offset, destinationMac, sourceMac, sourceHigh, sourceLow,
            destinationHigh, destinationLow, 64, icmpLength, type);
        buffer.putShort(icmp + IDENTIFIER_OFFSET, (short)identifier, BIG_ENDIAN);
        buffer.putShort(icmp + SEQUENCE_OFFSET, (short)sequence, BIG_ENDIAN);
        buffer.putBytes(icmp + HEADER_LENGTH, data, dataOffset, dataLength);
        return storeChecksum(buffer, offset, icmpLength);
    }

    /**
     * Write the untagged Ethernet header, the IPv6 header and the ICMPv6 type, code 0 and a zero
     * checksum of a frame carrying one ICMPv6 message; the caller writes the rest of the message and
     * then calls {@link #storeChecksum}.
     *
     * @param icmpLength length of the whole ICMPv6 message (the IPv6 payload length).
     * @return the offset of the ICMPv6 message.
     */
    static int writeFrameHeaders(
        final MutableDirectBuffer buffer,
        final int offset,
        final long destinationMac,
        final long sourceMac,
        final long sourceHigh,
        final long sourceLow,
        final long destinationHigh,
        final long destinationLow,
        final int hopLimit,
        final int icmpLength,
        final int type)
    {
        final int ip = offset + EthernetHeader.write(buffer, offset, destinationMac, sourceMac, Ipv6Header.ETHER_TYPE_IPV6);
        final int icmp = ip + Ipv6Header.write(
            buffer, ip, icmpLength, PROTOCOL_ICMPV6, hopLimit, sourceHigh, sourceLow, destinationHigh, destinationLow);
        buffer.putByte(icmp + TYPE_OFFSET, (byte)type);
        buffer.putByte(icmp + CODE_OFFSET, (byte)0);
        buffer.putShort(icmp + CHECKSUM_OFFSET, (short)0, BIG_ENDIAN);
        return icmp;
    }

    /**
     * Store the checksum of a frame begun with {@link #writeFrameHeaders}.
     *
     * @return the frame's length.
     */
    static int storeChecksum(final MutableDirectBuffer buffer, final int offset, final int icmpLength)
    {
        final int ip = offset + EthernetHeader.HEADER_LENGTH;
        final int icmp = ip + Ipv6Header.HEADER_LENGTH;
        buffer.putShort(
            icmp + CHECKSUM_OFFSET, (short)Checksums.ipv6L4Checksum(buffer, ip, icmp, icmpLength, PROTOCOL_ICMPV6), BIG_ENDIAN);
        return icmp + icmpLength - offset;
    }
}
