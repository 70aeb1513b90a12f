package lb.dataplane.rewrite;

import lb.dataplane.checksum.Checksums;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.Ipv4Header;
import lb.dataplane.packet.ParsedFrame;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * The rewrite both NAT directions share: new MACs, one IPv4 address and one port replaced, TTL
 * decremented as a router does ({@link RouteRewrite#decrementTtl}), the IPv4 and L4 checksums updated by RFC 1624. When the L4
 * field holds only the pseudo-header sum (checksum offload pending), that partial sum is adjusted
 * if the transmit side will complete it, and otherwise the full checksum is computed.
 * <p>
 * Old values are read from the buffer, not from {@link ParsedFrame}, so the checksum update
 * is right for the bytes actually there.
 */
final class NatRewrite
{
    private NatRewrite()
    {
    }

    /**
     * @param addressOffset {@link Ipv4Header#SOURCE_OFFSET} or {@link Ipv4Header#DESTINATION_OFFSET}.
     * @param portOffset    0 (source port) or 2 (destination port), the same in TCP and UDP.
     * @return true if rewritten; false with {@code parsed.dropReason} set, frame untouched.
     */
    static boolean rewrite(
        final MutableDirectBuffer frame,
        final ParsedFrame parsed,
        final long srcMac,
        final long dstMac,
        final int addressOffset,
        final int portOffset,
        final int newIp,
        final int newPort)
    {
        final int protocol = parsed.protocol;
        if (protocol != Ipv4Header.PROTOCOL_TCP && protocol != Ipv4Header.PROTOCOL_UDP)
        {
            parsed.dropReason = DropReason.UNSUPPORTED_PROTOCOL;
            return false;
        }

        final int ip = parsed.l3Offset;
        if (!RouteRewrite.decrementTtl(frame, parsed))
        {
            return false;
        }

        final int frameOffset = parsed.frameOffset;
        EthernetHeader.putMac(frame, frameOffset + EthernetHeader.DESTINATION_OFFSET, dstMac);
        EthernetHeader.putMac(frame, frameOffset + EthernetHeader.SOURCE_OFFSET, srcMac);

        final int oldIp = frame.getInt(ip + addressOffset, BIG_ENDIAN);
        frame.putInt(ip + addressOffset, newIp, BIG_ENDIAN);

        int ipChecksum = frame.getShort(ip + Ipv4Header.CHECKSUM_OFFSET, BIG_ENDIAN) & 0xFFFF;
        ipChecksum = Checksums.update32(ipChecksum, oldIp, newIp);
        frame.putShort(ip + Ipv4Header.CHECKSUM_OFFSET, (short)ipChecksum, BIG_ENDIAN);

        final int l4 = parsed.l4Offset;
        final int oldPort = frame.getShort(l4 + portOffset, BIG_ENDIAN) & 0xFFFF;
        if (oldPort != newPort)
        {
            frame.putShort(l4 + portOffset, (short)newPort, BIG_ENDIAN);
        }

        final int checksumIndex = l4 + Checksums.l4ChecksumOffset(protocol);
        if (parsed.l4ChecksumPartial && parsed.txCompletesChecksum)
        {
            // The kernel finishes the checksum on transmit from this partial pseudo-header sum.
            final int partial = frame.getShort(checksumIndex, BIG_ENDIAN) & 0xFFFF;
            frame.putShort(checksumIndex, (short)Checksums.updatePartial32(partial, oldIp, newIp), BIG_ENDIAN);
            return true;
        }
        if (parsed.l4ChecksumPartial)
        {
            // The field holds the pseudo-header sum for a NIC that will never see this frame: finish the job.
            final int full = Checksums.l4Checksum(frame, ip, l4, parsed.l4Length, protocol);
            frame.putShort(checksumIndex, (short)full, BIG_ENDIAN);
            parsed.l4ChecksumPartial = false;
            return true;
        }

        // The TTL is not covered by the L4 checksum; the address is (pseudo-header), as is the port.
        int l4Checksum = frame.getShort(checksumIndex, BIG_ENDIAN) & 0xFFFF;
        if (protocol == Ipv4Header.PROTOCOL_TCP)
        {
            l4Checksum = Checksums.update32(l4Checksum, oldIp, newIp);
            if (oldPort != newPort)
            {
                l4Checksum = Checksums.update16(l4Checksum, oldPort, newPort);
            }
        }
        else
        {
            l4Checksum = Checksums.updateUdp32(l4Checksum, oldIp, newIp);
            if (oldPort != newPort)
            {
                l4Checksum = Checksums.updateUdp16(l4Checksum, oldPort, newPort);
            }
        }
        frame.putShort(checksumIndex, (short)l4Checksum, BIG_ENDIAN);
        return true;
    }
}
