package lb.dataplane.rewrite;

import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.Ipv6Header;
import lb.dataplane.packet.ParsedFrame;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * IPv6-in-IPv6 (RFC 2473, the IPv6 twin of {@link IpipEncap}): the client's IPv6 packet, untouched,
 * behind a new Ethernet header (lb's server-side MAC to the backend's) and a 40-byte outer IPv6
 * header from lb's gateway-ip6 to the backend, next header 41. The outer header copies the inner
 * traffic class (DSCP and ECN, RFC 6040 normal mode), has hop limit 64, and carries a flow label
 * that is a hash of the inner flow (RFC 6438): routers and ECMP on the server side that hash the
 * outer 3-tuple (source, destination, flow label) then keep one inner flow on one path and still
 * spread different flows, which the outer addresses alone (always gateway to backend) would not.
 * IPv6 routers never fragment, so there is no don't-fragment bit to copy: a packet that would not
 * fit is refused before this (see {@link #outerLength(ParsedFrame)}). The inner packet's hop limit
 * and checksums are left as the client sent them, except a partial L4 checksum that no one would
 * complete.
 * <p>
 * Writes into a separate buffer (the frame is 40 bytes longer than the received one); the result
 * is one Ethernet frame without VLAN tags.
 */
public final class Ip6Ip6Encap
{
    /** Next header of IPv6-in-IPv6 (IANA protocol 41, as for 6in4). */
    public static final int NEXT_HEADER_IPV6 = 41;

    /** Bytes the outer header adds. */
    public static final int OVERHEAD = Ipv6Header.HEADER_LENGTH;

    /** Hop limit of the outer header, as a host originating it would use. */
    public static final int OUTER_HOP_LIMIT = 64;

    /** Offset of the inner IPv6 header in the encapsulated frame. */
    public static final int INNER_OFFSET = EthernetHeader.HEADER_LENGTH + OVERHEAD;

    private static final int FLOW_LABEL_BITS = 20;
    /** The version (4 bits) and traffic class (8) of the first 32-bit word; the flow label is the other 20. */
    private static final int VERSION_CLASS_MASK = 0xFFF0_0000;
    /** 2^64 / golden ratio (Fibonacci hashing): after each multiply the top bits depend on every input bit. */
    private static final long MIX_MULTIPLIER = 0x9E37_79B9_7F4A_7C15L;

    private Ip6Ip6Encap()
    {
    }

    /** @return the outer IPv6 packet's length for this inner packet (what must fit the egress MTU). */
    public static int outerLength(final ParsedFrame parsed)
    {
        return parsed.ipTotalLength + OVERHEAD;
    }

    /**
     * The outer flow label of an inner flow: a hash of its addresses, protocol and ports, never 0
     * (0 says "no label", RFC 6437), and stable: every packet of a flow gets the same label. Only
     * the client's direction needs one (the backend's replies go to the client directly).
     *
     * @return 1..0xFFFFF.
     */
    public static int flowLabel(final ParsedFrame parsed)
    {
        long hash = parsed.srcHigh * MIX_MULTIPLIER ^ parsed.srcLow;
        hash = (hash * MIX_MULTIPLIER) ^ parsed.dstHigh;
        hash = (hash * MIX_MULTIPLIER) ^ parsed.dstLow;
        hash = (hash * MIX_MULTIPLIER) ^ ((long)parsed.protocol << 32 | (long)parsed.srcPort << 16 | parsed.dstPort);
        hash *= MIX_MULTIPLIER;
        final int label = (int)(hash >>> (Long.SIZE - FLOW_LABEL_BITS));
        return label == 0 ? 1 : label;
    }

    /**
     * @param frame       the received frame (its partial checksum may be completed in place).
     * @param out         where the encapsulated frame is written, from index {@code outOffset}.
     * @param sourceHigh  lb's gateway-ip6 (outer source), high 64 bits.
     * @param sourceLow   its low 64 bits.
     * @param backendHigh the backend's address (outer destination), high 64 bits.
     * @param backendLow  its low 64 bits.
     * @return the encapsulated frame's length.
     */
    public static int apply(final MutableDirectBuffer frame, final ParsedFrame parsed, final MutableDirectBuffer out,
        final int outOffset, final long srcMac, final long dstMac, final long sourceHigh, final long sourceLow,
        final long backendHigh, final long backendLow)
    {
        DsrRewrite.completePartialChecksum(frame, parsed);
        final int inner = parsed.l3Offset;
        final int innerLength = parsed.ipTotalLength;
        final int outer = outOffset + EthernetHeader.write(out, outOffset, dstMac, srcMac, Ipv6Header.ETHER_TYPE_IPV6);
        Ipv6Header.write(out, outer, innerLength, NEXT_HEADER_IPV6, OUTER_HOP_LIMIT, sourceHigh, sourceLow, backendHigh,
            backendLow);
        // Version and traffic class as the inner header has them (the inner version is 6), the flow label ours.
        final int innerVersionClass = frame.getInt(inner + Ipv6Header.VERSION_CLASS_FLOW_OFFSET, BIG_ENDIAN) & VERSION_CLASS_MASK;
        out.putInt(outer + Ipv6Header.VERSION_CLASS_FLOW_OFFSET, innerVersionClass | flowLabel(parsed), BIG_ENDIAN);
        out.putBytes(outOffset + INNER_OFFSET, frame, inner, innerLength);
        return INNER_OFFSET + innerLength;
    }
}
