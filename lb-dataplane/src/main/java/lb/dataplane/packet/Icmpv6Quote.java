package lb.dataplane.packet;

import org.agrona.DirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * The packet an ICMPv6 error is about, the IPv6 twin of {@link IcmpQuote}: what a router or host
 * quotes after the 8-byte ICMPv6 header (RFC 4443: as much of the offending packet as fits in
 * 1280 bytes, so always its IPv6 header and, for TCP and UDP, both ports). A mutable holder
 * reused for every error, filled by {@link #read}; offsets are absolute indexes into the buffer
 * read, addresses in two 64-bit halves as {@link Ipv6Header} reads them.
 * <p>
 * The quote must hold no extension headers: the TCP/UDP header must follow the quoted fixed
 * header. That is what routers quote of lb's own packets (lb adds none, and clients' packets
 * with them are rare), and it is what the fanout program steers to the flow's worker
 * ({@code FanoutProgram}: an error whose quote has them goes to worker 0, which may not hold the
 * flow), so one rule holds for one worker and for many.
 * <pre>
 *   ICMPv6: 0 type  1 code  2 checksum  4 unused / MTU / pointer  8 quoted IPv6 header  48 quoted TCP/UDP
 * </pre>
 */
public final class Icmpv6Quote
{
    /** Offset of the quoted IPv6 header within the ICMPv6 message. */
    public static final int QUOTE_OFFSET = Icmpv6Header.HEADER_LENGTH;
    /** Bytes of the quoted upper layer an error must hold: both ports, and for UDP its checksum. */
    public static final int MIN_L4_QUOTED = 8;

    /** Index of the quoted IPv6 header. */
    public int ipOffset;
    /** Index of the quoted TCP/UDP header. */
    public int l4Offset;
    /** Bytes of the quoted TCP/UDP packet present (8 or more): the TCP checksum needs 18. */
    public int l4Quoted;
    /** Quoted next header: TCP or UDP once {@link #read} accepted the quote. */
    public int protocol;
    public long srcHigh;
    public long srcLow;
    public long dstHigh;
    public long dstLow;
    public int srcPort;
    public int dstPort;

    /**
     * @return whether lb relays this ICMPv6 type: the four errors about one packet (destination
     *         unreachable, packet too big, time exceeded, parameter problem), as IPVS's
     *         {@code ip_vs_in_icmp_v6} does.
     */
    public static boolean isRelayedError(final int icmpType)
    {
        return icmpType >= Icmpv6Header.TYPE_DESTINATION_UNREACHABLE && icmpType <= Icmpv6Header.TYPE_PARAMETER_PROBLEM;
    }

    /**
     * Reads the quote of a classified ICMPv6 error. Never reads outside the ICMPv6 message.
     *
     * @return null when the quote is a whole IPv6 header followed directly by at least 8 bytes of
     *         TCP or UDP, else why not: {@link DropReason#ICMP_ERROR_ABOUT_ICMP} when it quotes an
     *         ICMPv6 message, {@link DropReason#ICMPV6_ERROR_QUOTE_EXTENSION} when an extension header
     *         follows the quoted fixed header, {@link DropReason#ICMP_ERROR_NO_FLOW} for another upper
     *         layer (no flow can match), {@link DropReason#ICMP_ERROR_BAD_QUOTE} when cut short or not
     *         IPv6.
     */
    public DropReason read(final DirectBuffer buffer, final ParsedFrame error)
    {
        final int icmpLength = error.l4Length;
        ipOffset = error.l4Offset + QUOTE_OFFSET;
        l4Offset = ipOffset + Ipv6Header.HEADER_LENGTH;
        l4Quoted = icmpLength - QUOTE_OFFSET - Ipv6Header.HEADER_LENGTH;
        if (l4Quoted < MIN_L4_QUOTED ||
            (buffer.getByte(ipOffset + Ipv6Header.VERSION_CLASS_FLOW_OFFSET) & 0xFF) >>> 4 != Ipv6Header.VERSION)
        {
            return DropReason.ICMP_ERROR_BAD_QUOTE;
        }
        protocol = buffer.getByte(ipOffset + Ipv6Header.NEXT_HEADER_OFFSET) & 0xFF;
        switch (protocol)
        {
            case Ipv4Header.PROTOCOL_TCP:
            case Ipv4Header.PROTOCOL_UDP:
                break;
            case Icmpv6Header.PROTOCOL_ICMPV6:
                return DropReason.ICMP_ERROR_ABOUT_ICMP;
            case Ipv6ExtensionWalk.HOP_BY_HOP:
            case Ipv6ExtensionWalk.ROUTING:
            case Ipv6ExtensionWalk.FRAGMENT:
            case Ipv6ExtensionWalk.DESTINATION_OPTIONS:
                return DropReason.ICMPV6_ERROR_QUOTE_EXTENSION;
            default:
                return DropReason.ICMP_ERROR_NO_FLOW;
        }
        srcHigh = buffer.getLong(ipOffset + Ipv6Header.SOURCE_OFFSET, BIG_ENDIAN);
        srcLow = buffer.getLong(ipOffset + Ipv6Header.SOURCE_LOW_OFFSET, BIG_ENDIAN);
        dstHigh = buffer.getLong(ipOffset + Ipv6Header.DESTINATION_OFFSET, BIG_ENDIAN);
        dstLow = buffer.getLong(ipOffset + Ipv6Header.DESTINATION_LOW_OFFSET, BIG_ENDIAN);
        srcPort = buffer.getShort(l4Offset + TcpHeader.SOURCE_PORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
        dstPort = buffer.getShort(l4Offset + TcpHeader.DESTINATION_PORT_OFFSET, BIG_ENDIAN) & 0xFFFF;
        return null;
    }
}
