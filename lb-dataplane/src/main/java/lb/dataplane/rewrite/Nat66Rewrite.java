package lb.dataplane.rewrite;

import lb.dataplane.checksum.Checksums;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.Ipv6Header;
import lb.dataplane.packet.ParsedFrame;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * NAT66, both directions (the IPv6 counterpart of {@link ForwardNat} and {@link ReturnNat}): new
 * MACs, one 128-bit address and one port replaced, the hop limit decremented as a router does (a
 * packet arriving with 1 or 0 is refused), and the TCP/UDP checksum updated by RFC 1624 over the
 * eight address words ({@link Checksums#update128}) and the port. IPv6 has no header checksum. A
 * partial checksum (offload pending) stays partial when transmit completes it, adjusted as a plain
 * sum, and is otherwise completed here, as {@link NatRewrite} does for IPv4.
 * <p>
 * Old values are read from the buffer, so the update is right for the bytes actually there.
 * Stateless and allocation-free.
 */
public final class Nat66Rewrite
{
    /** Offset of the source port in TCP and UDP headers. */
    private static final int SOURCE_PORT_OFFSET = 0;
    /** Offset of the destination port in TCP and UDP headers. */
    private static final int DESTINATION_PORT_OFFSET = 2;

    private Nat66Rewrite()
    {
    }

    /**
     * Client to backend: destination address and port become the backend's.
     *
     * @return true if rewritten; false with {@code parsed.dropReason} set (HOP_LIMIT_EXCEEDED), frame untouched.
     */
    public static boolean towardBackend(final MutableDirectBuffer frame, final ParsedFrame parsed, final long srcMac,
        final long dstMac, final long backendHigh, final long backendLow, final int backendPort)
    {
        return rewrite(frame, parsed, srcMac, dstMac, Ipv6Header.DESTINATION_OFFSET, DESTINATION_PORT_OFFSET,
            backendHigh, backendLow, backendPort);
    }

    /**
     * Backend to client: source address and port become the VIP's and the service port.
     *
     * @return true if rewritten; false with {@code parsed.dropReason} set (HOP_LIMIT_EXCEEDED), frame untouched.
     */
    public static boolean towardClient(final MutableDirectBuffer frame, final ParsedFrame parsed, final long srcMac,
        final long dstMac, final long vipHigh, final long vipLow, final int vport)
    {
        return rewrite(frame, parsed, srcMac, dstMac, Ipv6Header.SOURCE_OFFSET, SOURCE_PORT_OFFSET, vipHigh, vipLow, vport);
    }

    /**
     * What every IPv6 packet lb passes on as a router gets (NAT66 packets and the ICMPv6 errors about
     * them): hop limit - 1 and new MACs, or nothing when the hop limit is 1 or 0 on arrival.
     *
     * @return true if done; false with {@code parsed.dropReason} HOP_LIMIT_EXCEEDED, frame untouched.
     */
    static boolean routerHop(final MutableDirectBuffer frame, final ParsedFrame parsed, final long srcMac, final long dstMac)
    {
        final int ip = parsed.l3Offset;
        final int hopLimit = frame.getByte(ip + Ipv6Header.HOP_LIMIT_OFFSET) & 0xFF;
        if (hopLimit < 2)
        {
            parsed.dropReason = DropReason.HOP_LIMIT_EXCEEDED;
            return false;
        }
        frame.putByte(ip + Ipv6Header.HOP_LIMIT_OFFSET, (byte)(hopLimit - 1));
        EthernetHeader.putMac(frame, parsed.frameOffset + EthernetHeader.DESTINATION_OFFSET, dstMac);
        EthernetHeader.putMac(frame, parsed.frameOffset + EthernetHeader.SOURCE_OFFSET, srcMac);
        return true;
    }

    private static boolean rewrite(final MutableDirectBuffer frame, final ParsedFrame parsed, final long srcMac,
        final long dstMac, final int addressOffset, final int portOffset, final long newHigh, final long newLow,
        final int newPort)
    {
        final int protocol = parsed.protocol;
        if (protocol != Checksums.PROTOCOL_TCP && protocol != Checksums.PROTOCOL_UDP)
        {
            parsed.dropReason = DropReason.UNSUPPORTED_PROTOCOL;
            return false;
        }
        if (!routerHop(frame, parsed, srcMac, dstMac))
        {
            return false;
        }
        final int ip = parsed.l3Offset;
        final long oldHigh = Ipv6Header.getAddressHigh(frame, ip + addressOffset);
        final long oldLow = Ipv6Header.getAddressLow(frame, ip + addressOffset);
        Ipv6Header.putAddress(frame, ip + addressOffset, newHigh, newLow);
        final int l4 = parsed.l4Offset;
        final int oldPort = frame.getShort(l4 + portOffset, BIG_ENDIAN) & 0xFFFF;
        frame.putShort(l4 + portOffset, (short)newPort, BIG_ENDIAN);

        final int checksumIndex = l4 + Checksums.l4ChecksumOffset(protocol);
        final int stored = frame.getShort(checksumIndex, BIG_ENDIAN) & 0xFFFF;
        final int checksum;
        if (parsed.l4ChecksumPartial && parsed.txCompletesChecksum)
        {
            // A partial sum changes as a plain sum, P' = P + ~m + m': the complement of update128 on ~P.
            checksum = ~Checksums.update128(~stored & 0xFFFF, oldHigh, oldLow, newHigh, newLow) & 0xFFFF;
        }
        else if (parsed.l4ChecksumPartial)
        {
            checksum = Checksums.ipv6L4Checksum(frame, ip, l4, parsed.l4Length, protocol);
            parsed.l4ChecksumPartial = false;
        }
        else if (protocol == Checksums.PROTOCOL_TCP)
        {
            checksum = Checksums.update16(Checksums.update128(stored, oldHigh, oldLow, newHigh, newLow), oldPort, newPort);
        }
        else
        {
            // The classifier dropped UDP checksum 0 (invalid over IPv6), so the zero rules only keep 0 from appearing.
            checksum = Checksums.updateUdp16(Checksums.updateUdp128(stored, oldHigh, oldLow, newHigh, newLow), oldPort, newPort);
        }
        frame.putShort(checksumIndex, (short)checksum, BIG_ENDIAN);
        return true;
    }
}
