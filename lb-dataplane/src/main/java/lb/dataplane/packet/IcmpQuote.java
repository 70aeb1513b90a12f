package lb.dataplane.packet;

import org.agrona.DirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * The packet an ICMP error is about: what a router or host quotes after the 8-byte ICMP header
 * (RFC 792: the offending datagram's IP header and at least its first 8 payload bytes, which for
 * TCP and UDP hold both ports; RFC 1812 routers quote more, up to 576 bytes in all). A mutable
 * holder reused for every error, filled by {@link #read}; offsets are absolute indexes into the
 * buffer read.
 * <pre>
 *   ICMP: 0 type  1 code  2 checksum  4 unused / next-hop MTU / pointer  8 quoted IPv4 header  8+IHL quoted L4
 * </pre>
 */
public final class IcmpQuote
{
    /** Offset of the quoted IPv4 header within the ICMP message. */
    public static final int QUOTE_OFFSET = IcmpHeader.HEADER_LENGTH;
    /** Type: parameter problem (RFC 792), an error about one packet like the other two. */
    public static final int TYPE_PARAMETER_PROBLEM = 12;

    /** Index of the quoted IPv4 header. */
    public int ipOffset;
    /** Its header length in bytes (IHL * 4). */
    public int ipHeaderLength;
    /** Index of the quoted TCP/UDP header. */
    public int l4Offset;
    /** Bytes of the quoted L4 header present (8 or more): the TCP checksum needs 18. */
    public int l4Quoted;
    /** Quoted IPv4 protocol. */
    public int protocol;
    public int srcIp;
    public int dstIp;
    public int srcPort;
    public int dstPort;

    /**
     * @return whether lb relays this ICMP type: destination unreachable (fragmentation needed
     *         among its codes), time exceeded and parameter problem, the errors about one packet
     *         that its sender must hear. Not source quench (deprecated, RFC 6633: hosts ignore
     *         it) nor redirect (about the sender's first hop on its own LAN: meaningless, and
     *         unsafe, on the other side of lb).
     */
    public static boolean isRelayedError(final int icmpType)
    {
        return icmpType == IcmpHeader.TYPE_DESTINATION_UNREACHABLE || icmpType == IcmpHeader.TYPE_TIME_EXCEEDED ||
            icmpType == TYPE_PARAMETER_PROBLEM;
    }

    /**
     * Reads the quote of a classified ICMP error. Never reads outside the ICMP message.
     *
     * @return null when the quote is a whole IPv4 header and the 8 L4 bytes of a first (or only)
     *         TCP or UDP fragment, else why not: {@link DropReason#ICMP_ERROR_ABOUT_ICMP} when it
     *         quotes an ICMP message (lb never relays an error about an error, and keeps no ICMP
     *         flows), {@link DropReason#ICMP_ERROR_NO_FLOW} for another protocol (no flow can
     *         match), {@link DropReason#ICMP_ERROR_BAD_QUOTE} for anything cut short or malformed.
     */
    public DropReason read(final DirectBuffer buffer, final ParsedFrame error)
    {
        final int icmpLength = error.l4Length;
        ipOffset = error.l4Offset + QUOTE_OFFSET;
        if (icmpLength < QUOTE_OFFSET + Ipv4Header.MIN_HEADER_LENGTH + IcmpHeader.QUOTED_PAYLOAD_LENGTH)
        {
            return DropReason.ICMP_ERROR_BAD_QUOTE;
        }
        final int versionIhl = buffer.getByte(ipOffset + Ipv4Header.VERSION_IHL_OFFSET) & 0xFF;
        ipHeaderLength = (versionIhl & 0x0F) << 2;
        l4Quoted = icmpLength - QUOTE_OFFSET - ipHeaderLength;
        final int fragment = buffer.getShort(ipOffset + Ipv4Header.FLAGS_FRAGMENT_OFFSET, BIG_ENDIAN) &
            Ipv4Header.FRAGMENT_OFFSET_MASK;
        if (versionIhl >>> 4 != 4 || ipHeaderLength < Ipv4Header.MIN_HEADER_LENGTH ||
            l4Quoted < IcmpHeader.QUOTED_PAYLOAD_LENGTH || fragment != 0)
        {
            return DropReason.ICMP_ERROR_BAD_QUOTE;
        }
        protocol = buffer.getByte(ipOffset + Ipv4Header.PROTOCOL_OFFSET) & 0xFF;
        if (protocol == Ipv4Header.PROTOCOL_ICMP)
        {
            return DropReason.ICMP_ERROR_ABOUT_ICMP;
        }
        if (protocol != Ipv4Header.PROTOCOL_TCP && protocol != Ipv4Header.PROTOCOL_UDP)
        {
            return DropReason.ICMP_ERROR_NO_FLOW;
        }
        l4Offset = ipOffset + ipHeaderLength;
        srcIp = buffer.getInt(ipOffset + Ipv4Header.SOURCE_OFFSET, BIG_ENDIAN);
        dstIp = buffer.getInt(ipOffset + Ipv4Header.DESTINATION_OFFSET, BIG_ENDIAN);
        srcPort = buffer.getShort(l4Offset + TcpHeader.SOURCE_PORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
        dstPort = buffer.getShort(l4Offset + TcpHeader.DESTINATION_PORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
        return null;
    }
}
