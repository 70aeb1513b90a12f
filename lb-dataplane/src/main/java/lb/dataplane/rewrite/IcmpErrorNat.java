package lb.dataplane.rewrite;

import lb.dataplane.checksum.Checksums;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.IcmpHeader;
import lb.dataplane.packet.IcmpQuote;
import lb.dataplane.packet.Ipv4Header;
import lb.dataplane.packet.ParsedFrame;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * An ICMP error about a packet of a NAT flow, translated like the flow (what IPVS's
 * {@code ip_vs_nat_icmp} does): the outer address on lb's side of the flow and the quoted
 * packet's matching address and port take the flow's other-side values, so the host that sent
 * the quoted packet recognises it as its own.
 * <ul>
 * <li>{@link #towardBackend}: a client-side error about lb's packet VIP:vport -> client. Outer
 * destination VIP -> backend, quoted source VIP:vport -> backend:bport.</li>
 * <li>{@link #towardClient}: a server-side error about lb's packet client -> backend:bport. Outer
 * source -> VIP (whoever sent it, the client only knows the VIP), quoted destination
 * backend:bport -> VIP:vport.</li>
 * </ul>
 * Both: new MACs, TTL - 1 as a router ({@link RouteRewrite#decrementTtl}), the outer IPv4 checksum
 * updated, the quoted IPv4 checksum recomputed (as IPVS's {@code ip_send_check}), the quoted L4
 * checksum updated incrementally for the address and port when the quote holds it (UDP's at
 * byte 6 always does, TCP's at byte 16 only when more than the minimal 8 bytes are quoted; like
 * netfilter's NAT, a truncated one is left alone: no one can verify it anyway), and the ICMP
 * checksum recomputed over the whole message. The caller has verified the ICMP checksum, so a
 * corrupted error is never given a valid one.
 */
public final class IcmpErrorNat
{
    private IcmpErrorNat()
    {
    }

    /**
     * @return true if rewritten; false with {@code error.dropReason} TTL_EXCEEDED, frame untouched.
     */
    public static boolean towardBackend(final MutableDirectBuffer frame, final ParsedFrame error, final IcmpQuote quote,
        final long srcMac, final long dstMac, final int backendIp, final int backendPort)
    {
        return rewrite(frame, error, quote, srcMac, dstMac, Ipv4Header.DESTINATION_OFFSET, Ipv4Header.SOURCE_OFFSET, 0,
            backendIp, backendPort);
    }

    /**
     * @return true if rewritten; false with {@code error.dropReason} TTL_EXCEEDED, frame untouched.
     */
    public static boolean towardClient(final MutableDirectBuffer frame, final ParsedFrame error, final IcmpQuote quote,
        final long srcMac, final long dstMac, final int vip, final int vport)
    {
        return rewrite(frame, error, quote, srcMac, dstMac, Ipv4Header.SOURCE_OFFSET, Ipv4Header.DESTINATION_OFFSET, 2,
            vip, vport);
    }

    /**
     * @param outerAddressOffset   the outer address that changes: the destination toward the backend, the source toward the client.
     * @param quotedAddressOffset  the quoted address that changes.
     * @param quotedPortOffset     0 (quoted source port) or 2 (quoted destination port), the same in TCP and UDP.
     */
    private static boolean rewrite(final MutableDirectBuffer frame, final ParsedFrame error, final IcmpQuote quote,
        final long srcMac, final long dstMac, final int outerAddressOffset, final int quotedAddressOffset,
        final int quotedPortOffset, final int newIp, final int newPort)
    {
        if (!RouteRewrite.decrementTtl(frame, error))
        {
            return false;
        }
        EthernetHeader.putMac(frame, error.frameOffset + EthernetHeader.DESTINATION_OFFSET, dstMac);
        EthernetHeader.putMac(frame, error.frameOffset + EthernetHeader.SOURCE_OFFSET, srcMac);

        final int ip = error.l3Offset;
        final int oldOuterIp = frame.getInt(ip + outerAddressOffset, BIG_ENDIAN);
        frame.putInt(ip + outerAddressOffset, newIp, BIG_ENDIAN);
        final int ipChecksum = frame.getShort(ip + Ipv4Header.CHECKSUM_OFFSET, BIG_ENDIAN) & 0xFFFF;
        frame.putShort(ip + Ipv4Header.CHECKSUM_OFFSET, (short)Checksums.update32(ipChecksum, oldOuterIp, newIp), BIG_ENDIAN);

        final int quoted = quote.ipOffset;
        final int oldQuotedIp = frame.getInt(quoted + quotedAddressOffset, BIG_ENDIAN);
        frame.putInt(quoted + quotedAddressOffset, newIp, BIG_ENDIAN);
        frame.putShort(quoted + Ipv4Header.CHECKSUM_OFFSET,
            (short)Checksums.ipv4HeaderChecksum(frame, quoted, quote.ipHeaderLength), BIG_ENDIAN);

        final int l4 = quote.l4Offset;
        final int oldPort = frame.getShort(l4 + quotedPortOffset, BIG_ENDIAN) & 0xFFFF;
        frame.putShort(l4 + quotedPortOffset, (short)newPort, BIG_ENDIAN);
        final int checksumOffset = Checksums.l4ChecksumOffset(quote.protocol);
        if (quote.l4Quoted >= checksumOffset + 2)
        {
            final int index = l4 + checksumOffset;
            int checksum = frame.getShort(index, BIG_ENDIAN) & 0xFFFF;
            if (quote.protocol == Ipv4Header.PROTOCOL_TCP)
            {
                checksum = Checksums.update16(Checksums.update32(checksum, oldQuotedIp, newIp), oldPort, newPort);
            }
            else
            {
                checksum = Checksums.updateUdp16(Checksums.updateUdp32(checksum, oldQuotedIp, newIp), oldPort, newPort);
            }
            frame.putShort(index, (short)checksum, BIG_ENDIAN);
        }

        final int icmp = error.l4Offset;
        frame.putShort(icmp + IcmpHeader.CHECKSUM_OFFSET, (short)Checksums.icmpChecksum(frame, icmp, error.l4Length), BIG_ENDIAN);
        return true;
    }
}
