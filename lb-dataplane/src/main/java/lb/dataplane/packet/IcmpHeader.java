package lb.dataplane.packet;

import lb.dataplane.checksum.Checksums;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Flyweight over an ICMP header (RFC 792). The identifier and sequence fields are those of echo
 * request and reply; other types use the same 4 bytes differently. No bounds checks.
 * <pre>
 *   0 type  1 code  2 checksum (over the whole ICMP message)  4 identifier  6 sequence  8 data
 * </pre>
 */
public final class IcmpHeader
{
    /** Offset of the type. */
    public static final int TYPE_OFFSET = 0;
    /** Offset of the code. */
    public static final int CODE_OFFSET = 1;
    /** Offset of the checksum. */
    public static final int CHECKSUM_OFFSET = 2;
    /** Offset of the echo identifier. */
    public static final int IDENTIFIER_OFFSET = 4;
    /** Offset of the echo sequence number. */
    public static final int SEQUENCE_OFFSET = 6;
    /** Length of the header every ICMP message has. */
    public static final int HEADER_LENGTH = 8;

    /** Type: echo reply. */
    public static final int TYPE_ECHO_REPLY = 0;
    /** Type: destination unreachable. */
    public static final int TYPE_DESTINATION_UNREACHABLE = 3;
    /** Type: echo request. */
    public static final int TYPE_ECHO_REQUEST = 8;
    /** Type: time exceeded. */
    public static final int TYPE_TIME_EXCEEDED = 11;

    private MutableDirectBuffer buffer;
    private int offset;

    /**
     * Point this flyweight at a header.
     *
     * @param buffer holding the packet.
     * @param offset of the ICMP header.
     * @return this.
     */
    public IcmpHeader wrap(final MutableDirectBuffer buffer, final int offset)
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
    public IcmpHeader type(final int type)
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
    public IcmpHeader code(final int code)
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
    public IcmpHeader checksum(final int checksum)
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
    public IcmpHeader identifier(final int identifier)
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
    public IcmpHeader sequence(final int sequence)
    {
        buffer.putShort(offset + SEQUENCE_OFFSET, (short)sequence, BIG_ENDIAN);
        return this;
    }

    /**
     * Turn a classified echo request into the echo reply, in place: MACs and IP addresses swapped,
     * a fresh TTL, type 0 code 0, the ICMP checksum updated incrementally (so a request whose
     * checksum was wrong yields a reply whose checksum is wrong: check it first with
     * {@link Checksums#internetChecksumValid}), the IPv4 checksum recomputed. IP options are not
     * reflected (a reflected source route would have to be reversed): they are removed and the
     * ICMP message moved up to follow a 20-byte header. VLAN tags stay. Ethernet padding after the
     * request is not part of the reply.
     * <p>
     * After this, {@code request} describes the request, not the buffer.
     *
     * @param buffer  holding the request frame, overwritten with the reply.
     * @param request the request as {@link FrameClassifier} classified it: {@link FrameType#IPV4_ICMP}
     *                with {@code icmpType == TYPE_ECHO_REQUEST}.
     * @param ttl     TTL of the reply, e.g. 64.
     * @return length of the reply frame, starting at {@code request.frameOffset}.
     */
    public static int writeEchoReplyInPlace(final MutableDirectBuffer buffer, final ParsedFrame request, final int ttl)
    {
        final int frameOffset = request.frameOffset;
        final long requesterMac = EthernetHeader.getMac(buffer, frameOffset + EthernetHeader.SOURCE_OFFSET);
        final long ourMac = EthernetHeader.getMac(buffer, frameOffset + EthernetHeader.DESTINATION_OFFSET);
        EthernetHeader.putMac(buffer, frameOffset + EthernetHeader.DESTINATION_OFFSET, requesterMac);
        EthernetHeader.putMac(buffer, frameOffset + EthernetHeader.SOURCE_OFFSET, ourMac);

        final int ip = request.l3Offset;
        final int icmp = ip + Ipv4Header.MIN_HEADER_LENGTH;
        final int icmpLength = request.l4Length;
        if (request.l4Offset != icmp)
        {
            // Overlapping move towards lower addresses: Agrona's same-buffer putBytes copies like memmove.
            buffer.putBytes(icmp, buffer, request.l4Offset, icmpLength);
        }

        buffer.putByte(ip + Ipv4Header.VERSION_IHL_OFFSET, (byte)0x45);
        buffer.putShort(ip + Ipv4Header.TOTAL_LENGTH_OFFSET, (short)(Ipv4Header.MIN_HEADER_LENGTH + icmpLength), BIG_ENDIAN);
        buffer.putByte(ip + Ipv4Header.TTL_OFFSET, (byte)ttl);
        buffer.putInt(ip + Ipv4Header.SOURCE_OFFSET, request.dstIp, BIG_ENDIAN);
        buffer.putInt(ip + Ipv4Header.DESTINATION_OFFSET, request.srcIp, BIG_ENDIAN);
        buffer.putShort(ip + Ipv4Header.CHECKSUM_OFFSET, (short)0, BIG_ENDIAN);
        buffer.putShort(
            ip + Ipv4Header.CHECKSUM_OFFSET,
            (short)Checksums.ipv4HeaderChecksum(buffer, ip, Ipv4Header.MIN_HEADER_LENGTH),
            BIG_ENDIAN);

        final int oldTypeCode = buffer.getShort(icmp + TYPE_OFFSET, BIG_ENDIAN) & 0xFFFF;
        final int newTypeCode = TYPE_ECHO_REPLY << 8;
        buffer.putShort(icmp + TYPE_OFFSET, (short)newTypeCode, BIG_ENDIAN);
        final int checksum = buffer.getShort(icmp + CHECKSUM_OFFSET, BIG_ENDIAN) & 0xFFFF;
        buffer.putShort(icmp + CHECKSUM_OFFSET, (short)Checksums.update16(checksum, oldTypeCode, newTypeCode), BIG_ENDIAN);

        return icmp + icmpLength - frameOffset;
    }

    /** Code of a destination-unreachable message: fragmentation needed and don't-fragment set (RFC 792, 1191). */
    public static final int CODE_FRAGMENTATION_NEEDED = 4;

    /** Bytes of the offending datagram's payload an ICMP error quotes after its IP header (RFC 792). */
    public static final int QUOTED_PAYLOAD_LENGTH = 8;

    /**
     * Writes a "fragmentation needed" error (type 3 code 4 with the next-hop MTU, RFC 1191) about
     * the datagram in {@code frame}, as a router on the path would send it (see {@link #writeError}).
     *
     * @param mtu the next-hop MTU the source should use.
     * @return the length of the error frame.
     */
    public static int writeFragmentationNeeded(final MutableDirectBuffer out, final int outOffset,
        final DirectBuffer frame, final ParsedFrame offending, final long srcMac, final int srcIp, final int mtu)
    {
        return writeError(out, outOffset, frame, offending, srcMac, srcIp, TYPE_DESTINATION_UNREACHABLE,
            CODE_FRAGMENTATION_NEEDED, mtu & 0xFFFF);
    }

    /**
     * Writes a "time exceeded in transit" error (type 11 code 0, RFC 792) about the datagram in
     * {@code frame}, whose TTL ran out at this router (see {@link #writeError}).
     *
     * @return the length of the error frame.
     */
    public static int writeTimeExceeded(final MutableDirectBuffer out, final int outOffset,
        final DirectBuffer frame, final ParsedFrame offending, final long srcMac, final int srcIp)
    {
        return writeError(out, outOffset, frame, offending, srcMac, srcIp, TYPE_TIME_EXCEEDED, 0, 0);
    }

    /**
     * @return whether a router may answer the datagram with an ICMP error: not when it is itself an
     *         ICMP error (RFC 1122 3.2.2: no error about an error, so two routers cannot loop).
     */
    public static boolean mayAnswerWithError(final ParsedFrame offending)
    {
        return offending.protocol != Ipv4Header.PROTOCOL_ICMP ||
            offending.icmpType == TYPE_ECHO_REQUEST || offending.icmpType == TYPE_ECHO_REPLY;
    }

    /**
     * Writes an ICMP error about the datagram in {@code frame}, as a router on the path sends it:
     * to the datagram's source, quoting its IP header and first 8 payload bytes. No VLAN tag, no IP
     * options.
     *
     * @param out       where the error frame is written, from {@code outOffset}.
     * @param offending the datagram as classified; its frame must be IPv4 with at least 8 payload bytes.
     * @param srcMac    the MAC the error leaves from; the destination MAC is the offending frame's source.
     * @param srcIp     the router address the error comes from.
     * @param rest      the 32 bits after the checksum (the next-hop MTU in the low 16 for frag-needed, else 0).
     * @return the length of the error frame.
     */
    public static int writeError(final MutableDirectBuffer out, final int outOffset, final DirectBuffer frame,
        final ParsedFrame offending, final long srcMac, final int srcIp, final int type, final int code, final int rest)
    {
        final int quoted = offending.ipHeaderLength + Math.min(QUOTED_PAYLOAD_LENGTH, offending.ipTotalLength - offending.ipHeaderLength);
        final long requesterMac = EthernetHeader.getMac(frame, offending.frameOffset + EthernetHeader.SOURCE_OFFSET);
        EthernetHeader.putMac(out, outOffset + EthernetHeader.DESTINATION_OFFSET, requesterMac);
        EthernetHeader.putMac(out, outOffset + EthernetHeader.SOURCE_OFFSET, srcMac);
        out.putShort(outOffset + EthernetHeader.ETHER_TYPE_OFFSET, (short)EthernetHeader.ETHER_TYPE_IPV4, BIG_ENDIAN);
        final int ip = outOffset + EthernetHeader.HEADER_LENGTH;
        final int icmp = ip + Ipv4Header.MIN_HEADER_LENGTH;
        final int icmpLength = HEADER_LENGTH + quoted;
        Ipv4Header.write(out, ip, Ipv4Header.MIN_HEADER_LENGTH + icmpLength, 64, Ipv4Header.PROTOCOL_ICMP, srcIp,
            offending.srcIp);
        out.putByte(icmp + TYPE_OFFSET, (byte)type);
        out.putByte(icmp + CODE_OFFSET, (byte)code);
        out.putShort(icmp + CHECKSUM_OFFSET, (short)0, BIG_ENDIAN);
        out.putInt(icmp + IDENTIFIER_OFFSET, rest, BIG_ENDIAN);
        out.putBytes(icmp + HEADER_LENGTH, frame, offending.l3Offset, quoted);
        out.putShort(icmp + CHECKSUM_OFFSET, (short)Checksums.icmpChecksum(out, icmp, icmpLength), BIG_ENDIAN);
        return EthernetHeader.HEADER_LENGTH + Ipv4Header.MIN_HEADER_LENGTH + icmpLength;
    }
}
