package lb.dataplane.rewrite;

import lb.dataplane.checksum.Checksums;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.Ipv4Header;
import lb.dataplane.packet.ParsedFrame;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * IP-in-IP (RFC 2003, like IPVS-TUN and Katran): the client's IPv4 packet, untouched, behind a new
 * Ethernet header (lb's server-side MAC to the backend's) and a 20-byte outer IPv4 header from
 * lb's gateway address to the backend, protocol 4. The outer header copies the inner DSCP/ECN
 * (RFC 6040 normal mode), has TTL 64 and always carries don't-fragment with id 0 (RFC 6864: lb
 * never sends a tunnel packet larger than the egress MTU; a packet that would not fit is refused
 * before this, see {@link #outerLength(ParsedFrame)}). The inner packet's TTL and checksums are
 * left as the client sent them, except a partial L4 checksum that no one would complete.
 * <p>
 * Writes into a separate buffer (the frame is 20 bytes longer than the received one); the
 * result is one Ethernet frame without VLAN tags.
 */
public final class IpipEncap
{
    /** IP protocol number of IPv4-in-IPv4. */
    public static final int PROTOCOL_IPIP = 4;

    /** Bytes the outer header adds. */
    public static final int OVERHEAD = Ipv4Header.MIN_HEADER_LENGTH;

    /** TTL of the outer header, as a host originating it would use. */
    public static final int OUTER_TTL = 64;

    /** Offset of the inner IPv4 header in the encapsulated frame. */
    public static final int INNER_OFFSET = EthernetHeader.HEADER_LENGTH + OVERHEAD;

    private IpipEncap()
    {
    }

    /** @return the outer IPv4 datagram's length for this inner packet (what must fit the egress MTU). */
    public static int outerLength(final ParsedFrame parsed)
    {
        return parsed.ipTotalLength + OVERHEAD;
    }

    /**
     * @param frame   the received frame (its partial checksum may be completed in place).
     * @param out     where the encapsulated frame is written, from index {@code outOffset}.
     * @param source  lb's gateway address (outer source).
     * @param backend the backend's address (outer destination).
     * @return the encapsulated frame's length.
     */
    public static int apply(final MutableDirectBuffer frame, final ParsedFrame parsed, final MutableDirectBuffer out,
        final int outOffset, final long srcMac, final long dstMac, final int source, final int backend)
    {
        DsrRewrite.completePartialChecksum(frame, parsed);
        final int inner = parsed.l3Offset;
        final int innerLength = parsed.ipTotalLength;
        EthernetHeader.putMac(out, outOffset + EthernetHeader.DESTINATION_OFFSET, dstMac);
        EthernetHeader.putMac(out, outOffset + EthernetHeader.SOURCE_OFFSET, srcMac);
        out.putShort(outOffset + EthernetHeader.ETHER_TYPE_OFFSET, (short)EthernetHeader.ETHER_TYPE_IPV4, BIG_ENDIAN);
        final int outer = outOffset + EthernetHeader.HEADER_LENGTH;
        Ipv4Header.write(out, outer, innerLength + OVERHEAD, OUTER_TTL, PROTOCOL_IPIP, source, backend);
        final byte dscpEcn = frame.getByte(inner + Ipv4Header.DSCP_ECN_OFFSET);
        if (dscpEcn != 0)
        {
            out.putByte(outer + Ipv4Header.DSCP_ECN_OFFSET, dscpEcn);
            out.putShort(outer + Ipv4Header.CHECKSUM_OFFSET,
                (short)Checksums.ipv4HeaderChecksum(out, outer, Ipv4Header.MIN_HEADER_LENGTH), BIG_ENDIAN);
        }
        out.putBytes(outOffset + INNER_OFFSET, frame, inner, innerLength);
        return INNER_OFFSET + innerLength;
    }

    /** @return true when the inner packet asks not to be fragmented. */
    public static boolean dontFragment(final DirectBuffer frame, final ParsedFrame parsed)
    {
        return (frame.getShort(parsed.l3Offset + Ipv4Header.FLAGS_FRAGMENT_OFFSET, BIG_ENDIAN) & Ipv4Header.FLAG_DONT_FRAGMENT) != 0;
    }
}
