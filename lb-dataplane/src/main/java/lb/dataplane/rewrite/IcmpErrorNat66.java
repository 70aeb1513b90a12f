package lb.dataplane.rewrite;

import lb.dataplane.checksum.Checksums;
import lb.dataplane.packet.Icmpv6Header;
import lb.dataplane.packet.Icmpv6Quote;
import lb.dataplane.packet.Ipv6Header;
import lb.dataplane.packet.ParsedFrame;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * An ICMPv6 error about a packet of a NAT66 flow, translated like the flow: the IPv6 twin of
 * {@link IcmpErrorNat} (what IPVS's {@code ip_vs_nat_icmp_v6} does).
 * <ul>
 * <li>{@link #towardBackend}: a client-side error about lb's packet VIP6:vport -> client. Outer
 * destination VIP6 -> backend, quoted source VIP6:vport -> backend:bport.</li>
 * <li>{@link #towardClient}: a server-side error about lb's packet client -> backend:bport. Outer
 * source -> VIP6, quoted destination backend:bport -> VIP6:vport.</li>
 * </ul>
 * Both: new MACs, hop limit - 1 as a router ({@link Nat66Rewrite#routerHop}: 1 or 0 on arrival is refused), the
 * quoted TCP/UDP checksum updated incrementally for the address and port when the quote holds it
 * (UDP's at byte 6 always does, TCP's at byte 16 when 18 bytes are quoted; a truncated one is left
 * alone as netfilter does), and the ICMPv6 checksum recomputed over the whole message and the new
 * pseudo-header (the outer address it covers changed). IPv6 has no header checksum to fix. The
 * caller has verified the ICMPv6 checksum, so a corrupted error is never given a valid one.
 */
public final class IcmpErrorNat66
{
    /** Offset of the source port in TCP and UDP headers. */
    private static final int SOURCE_PORT_OFFSET = 0;
    /** Offset of the destination port in TCP and UDP headers. */
    private static final int DESTINATION_PORT_OFFSET = 2;

    private IcmpErrorNat66()
    {
    }

    /**
     * @return true if rewritten; false with {@code error.dropReason} HOP_LIMIT_EXCEEDED, frame untouched.
     */
    public static boolean towardBackend(final MutableDirectBuffer frame, final ParsedFrame error, final Icmpv6Quote quote,
        final long srcMac, final long dstMac, final long backendHigh, final long backendLow, final int backendPort)
    {
        return rewrite(frame, error, quote, srcMac, dstMac, Ipv6Header.DESTINATION_OFFSET, Ipv6Header.SOURCE_OFFSET,
            SOURCE_PORT_OFFSET, backendHigh, backendLow, backendPort);
    }

    /**
     * @return true if rewritten; false with {@code error.dropReason} HOP_LIMIT_EXCEEDED, frame untouched.
     */
    public static boolean towardClient(final MutableDirectBuffer frame, final ParsedFrame error, final Icmpv6Quote quote,
        final long srcMac, final long dstMac, final long vipHigh, final long vipLow, final int vport)
    {
        return rewrite(frame, error, quote, srcMac, dstMac, Ipv6Header.SOURCE_OFFSET, Ipv6Header.DESTINATION_OFFSET,
            DESTINATION_PORT_OFFSET, vipHigh, vipLow, vport);
    }

    /**
     * @param outerAddressOffset  the outer address that changes: the destination toward the backend, the source toward the client.
     * @param quotedAddressOffset the quoted address that changes.
     * @param quotedPortOffset    the quoted port that changes, the same in TCP and UDP.
     */
    private static boolean rewrite(final MutableDirectBuffer frame, final ParsedFrame error, final Icmpv6Quote quote,
        final long srcMac, final long dstMac, final int outerAddressOffset, final int quotedAddressOffset,
        final int quotedPortOffset, final long newHigh, final long newLow, final int newPort)
    {
        if (!Nat66Rewrite.routerHop(frame, error, srcMac, dstMac))
        {
            return false;
        }
        final int ip = error.l3Offset;
        Ipv6Header.putAddress(frame, ip + outerAddressOffset, newHigh, newLow);

        final int quoted = quote.ipOffset + quotedAddressOffset;
        final long oldHigh = Ipv6Header.getAddressHigh(frame, quoted);
        final long oldLow = Ipv6Header.getAddressLow(frame, quoted);
        Ipv6Header.putAddress(frame, quoted, newHigh, newLow);
        final int l4 = quote.l4Offset;
        final int oldPort = frame.getShort(l4 + quotedPortOffset, BIG_ENDIAN) & 0xFFFF;
        frame.putShort(l4 + quotedPortOffset, (short)newPort, BIG_ENDIAN);
        final int checksumOffset = Checksums.l4ChecksumOffset(quote.protocol);
        if (quote.l4Quoted >= checksumOffset + 2)
        {
            final int index = l4 + checksumOffset;
            final int stored = frame.getShort(index, BIG_ENDIAN) & 0xFFFF;
            final int checksum = quote.protocol == Checksums.PROTOCOL_TCP ?
                Checksums.update16(Checksums.update128(stored, oldHigh, oldLow, newHigh, newLow), oldPort, newPort) :
                Checksums.updateUdp16(Checksums.updateUdp128(stored, oldHigh, oldLow, newHigh, newLow), oldPort, newPort);
            frame.putShort(index, (short)checksum, BIG_ENDIAN);
        }

        final int icmp = error.l4Offset;
        frame.putShort(icmp + Icmpv6Header.CHECKSUM_OFFSET, (short)Checksums.ipv6L4Checksum(
            frame, ip, icmp, error.l4Length, Icmpv6Header.PROTOCOL_ICMPV6), BIG_ENDIAN);
        return true;
    }
}
