package lb.dataplane.rewrite;

import lb.dataplane.checksum.Checksums;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.Ipv4Header;
import lb.dataplane.packet.Ipv6Header;
import lb.dataplane.packet.ParsedFrame;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Forwarding as a router (a route service spreading a prefix over next hops): new MACs, the TTL
 * decremented and the IPv4 checksum updated by RFC 1624; no address or port changes, so the L4
 * checksum stays as it is (a partial one is finished only if transmit will not). Any protocol
 * a router forwards (TCP, UDP, ICMP, ...). IPv6 alike, with the hop limit for the TTL and no header
 * checksum to update (the L4 pseudo-header does not hold the hop limit).
 */
public final class RouteRewrite
{
    /** Offset of the IPv4 TTL/protocol 16-bit word (TTL is its high byte). */
    private static final int TTL_PROTOCOL_OFFSET = Ipv4Header.TTL_OFFSET;
    private static final int ONE_TTL = 0x100;

    private RouteRewrite()
    {
    }

    /**
     * @param srcMac lb's egress MAC.
     * @param dstMac the next hop's (or the client's) MAC.
     * @return true if rewritten; false with {@code parsed.dropReason} TTL_EXCEEDED, frame untouched.
     */
    public static boolean apply(final MutableDirectBuffer frame, final ParsedFrame parsed, final long srcMac, final long dstMac)
    {
        final boolean decremented = parsed.etherType == Ipv6Header.ETHER_TYPE_IPV6 ?
            decrementHopLimit(frame, parsed) : decrementTtl(frame, parsed);
        if (!decremented)
        {
            return false;
        }
        EthernetHeader.putMac(frame, parsed.frameOffset + EthernetHeader.DESTINATION_OFFSET, dstMac);
        EthernetHeader.putMac(frame, parsed.frameOffset + EthernetHeader.SOURCE_OFFSET, srcMac);
        DsrRewrite.completePartialChecksum(frame, parsed);
        return true;
    }

    /**
     * The router's step: TTL minus one and the IPv4 checksum updated for it. RFC 1812 5.3.1: a
     * datagram whose TTL would reach 0 is not forwarded.
     *
     * @return false with {@code parsed.dropReason} TTL_EXCEEDED, frame untouched.
     */
    static boolean decrementTtl(final MutableDirectBuffer frame, final ParsedFrame parsed)
    {
        final int ip = parsed.l3Offset;
        final int oldTtlProtocol = frame.getShort(ip + TTL_PROTOCOL_OFFSET, BIG_ENDIAN) & 0xFFFF;
        if (oldTtlProtocol < 2 * ONE_TTL)
        {
            parsed.dropReason = DropReason.TTL_EXCEEDED;
            return false;
        }
        final int newTtlProtocol = oldTtlProtocol - ONE_TTL;
        frame.putShort(ip + TTL_PROTOCOL_OFFSET, (short)newTtlProtocol, BIG_ENDIAN);
        final int ipChecksum = frame.getShort(ip + Ipv4Header.CHECKSUM_OFFSET, BIG_ENDIAN) & 0xFFFF;
        frame.putShort(ip + Ipv4Header.CHECKSUM_OFFSET, (short)Checksums.update16(ipChecksum, oldTtlProtocol, newTtlProtocol),
            BIG_ENDIAN);
        return true;
    }

    /**
     * The IPv6 router's step (RFC 8200 section 3): hop limit minus one; a packet arriving with 1 or 0 is not
     * forwarded. Nothing else changes: IPv6 has no header checksum.
     *
     * @return false with {@code parsed.dropReason} TTL_EXCEEDED, frame untouched.
     */
    static boolean decrementHopLimit(final MutableDirectBuffer frame, final ParsedFrame parsed)
    {
        final int hopLimitIndex = parsed.l3Offset + Ipv6Header.HOP_LIMIT_OFFSET;
        final int hopLimit = frame.getByte(hopLimitIndex) & 0xFF;
        if (hopLimit < 2)
        {
            parsed.dropReason = DropReason.TTL_EXCEEDED;
            return false;
        }
        frame.putByte(hopLimitIndex, (byte)(hopLimit - 1));
        return true;
    }
}
